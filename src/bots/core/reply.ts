import type { ButtonAction } from './buttons.ts';

/**
 * The platform-neutral reply model. The core decides what to say and which buttons to offer; adapters only turn
 * a Reply into a Discord message, a Slack message or a studio card.
 */
export interface ReplyImage {
  readonly name: string;
  readonly png: Buffer;
  /** Flagged, in a channel whose policy allows spoilers. */
  readonly spoiler: boolean;
  readonly alt: string;
}

export interface ReplyButton {
  readonly id: string;
  readonly action: ButtonAction;
  readonly label: string;
  readonly style: 'primary' | 'secondary' | 'danger';
  readonly ownerOnly: boolean;
}

export type Reply =
  | {
      readonly kind: 'status';
      readonly jobId: string;
      readonly phase: 'queued' | 'running';
      /** Plain-text line; adapters may render the structured fields instead. */
      readonly text: string;
      readonly position?: number;
      /** When the job is expected to start (queued) or finish (running), epoch ms. */
      readonly etaAt?: number;
      readonly step?: number;
      readonly total?: number;
      readonly prompt: string;
      /** What the image is becoming (low resolution, already passed by the classifier), when there is one. */
      readonly preview?: ReplyImage;
      readonly buttons: readonly ReplyButton[];
    }
  | {
      readonly kind: 'result';
      readonly jobId: string;
      readonly parentId: string | null;
      readonly prompt: string;
      /** The footer: model, seed, steps, size, time, job. */
      readonly text: string;
      /** Sentences to show above the images (withheld candidates, truncation). */
      readonly notes: readonly string[];
      /** The grid when there are several candidates, else the single image. */
      readonly image: ReplyImage | null;
      /** Each delivered candidate on its own (full size), by candidate index. */
      readonly candidates: readonly (ReplyImage | null)[];
      readonly buttonRows: readonly (readonly ReplyButton[])[];
    }
  | { readonly kind: 'final'; readonly jobId: string; readonly outcome: 'blocked' | 'failed' | 'cancelled'; readonly text: string }
  /** A refusal: shown only to the person who asked, where the platform allows it. */
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'notice'; readonly text: string };

export type ReplySink = (reply: Reply) => Promise<void>;
