import type { ButtonAction } from './buttons.ts';
import type { Origin } from './lineage.ts';

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

/** One entry of a result's menu: an action id as a button would carry it. */
export interface ReplyMenuOption {
  readonly id: string;
  readonly action: ButtonAction;
  readonly label: string;
  readonly ownerOnly: boolean;
}

/** One board entry: its rank, the candidate, and the core's line about it (plain text: adapters escape it). */
export interface BoardLine {
  readonly rank: number;
  readonly jobId: string;
  readonly index: number;
  readonly votes: number;
  readonly line: string;
}

/** The rarer actions of a result, in one menu (a select), so the result reads at a glance. */
export interface ReplyMenu {
  /** Not an action itself: the chosen option's id is. */
  readonly id: string;
  readonly placeholder: string;
  readonly options: readonly ReplyMenuOption[];
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
      /** The common action, one per delivered candidate (Refine n). */
      readonly buttons: readonly ReplyButton[];
      /** Everything else (Vary n, Reroll, Delete…). */
      readonly menu: ReplyMenu | null;
      /** Votes per candidate index (0 where none); `votesLine` says it in words. */
      readonly votes: readonly number[];
      readonly votesLine: string | null;
      /** What made it from which parent (the adapter links the parent's message); null for a job from nothing of ours. */
      readonly origin: Origin | null;
      /**
       * The prompt assistant rewrote the user's prompt into `prompt`: the original, and the sentence that shows it beside
       * the rewrite (plain text: adapters escape it). The buttons then offer the original back (Use my original prompt).
       */
      readonly enhanced?: { readonly original: string; readonly line: string };
      /**
       * Only the words and controls changed (votes came in): the images are not repeated (`image` null, no
       * candidates) and the message keeps the ones it shows.
       */
      readonly refresh?: boolean;
    }
  | { readonly kind: 'final'; readonly jobId: string; readonly outcome: 'blocked' | 'failed' | 'cancelled'; readonly text: string }
  /**
   * A channel's most voted candidates: a title (or, with no entries, the sentence saying the board is empty and how
   * to vote), a line per entry, the contact sheet, Refine per entry and Vary in the menu.
   */
  | {
      readonly kind: 'board';
      readonly text: string;
      readonly entries: readonly BoardLine[];
      readonly image: ReplyImage | null;
      readonly buttons: readonly ReplyButton[];
      readonly menu: ReplyMenu | null;
    }
  /**
   * The prompt assistant at work before a job exists (no job id yet): "Enhancing the prompt…" over the user's prompt,
   * or "Describing the image…". Shown on the card `open` made; a job's statuses or the suggestions follow on it.
   */
  | { readonly kind: 'assisting'; readonly task: 'enhance' | 'describe'; readonly text: string; readonly prompt: string }
  /**
   * Describe's answer: a title, up to four prompts (plain text: adapters escape them), each with its Draft button, and
   * a note when the prompt filter withheld some. The buttons name the stored set, so they work after a restart.
   */
  | {
      readonly kind: 'suggestions';
      readonly setId: string;
      readonly text: string;
      readonly prompts: readonly string[];
      readonly buttons: readonly ReplyButton[];
      /** How many suggestions the prompt filter withheld; `notes` says it in words. */
      readonly withheld: number;
      readonly notes: readonly string[];
    }
  /** A refusal: shown only to the person who asked, where the platform allows it. */
  | { readonly kind: 'error'; readonly text: string }
  | { readonly kind: 'notice'; readonly text: string };

export type ReplySink = (reply: Reply) => Promise<void>;
