import { z } from 'zod';
import { fail, ok, type Result } from '../../result.ts';
import type { ButtonAction } from '../core/buttons.ts';
import type { Role } from '../../config/schema.ts';

/**
 * The studio's wire protocol: JSON text frames over one WebSocket per tab. Browser → server messages are validated
 * here (closed shapes, bounded sizes); anything else is refused with one message and changes nothing.
 */

/** A browser's user id: random, made by the page, kept in its localStorage. */
export const USER_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const JOB_ID = /^[A-Za-z0-9]{4,32}$/;
export const UPLOAD_ID = /^[a-f0-9]{32}$/;
/** Command text as typed, flags included; the engine refuses over-long prompts with its own message. */
export const MAX_COMMAND_TEXT = 16_000;
export const MAX_NAME = 32;

const ref = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const uploadId = z.string().regex(UPLOAD_ID);
// No control or format characters (bidi overrides, zero-width joiners): a name is shown to every tab.
const displayName = z.string().trim().min(1).max(MAX_NAME).regex(/^[^\p{C}]+$/u);

const hello = z
  .object({
    t: z.literal('hello'),
    userId: z.string().regex(USER_ID),
    name: displayName,
    /** navigator.language */
    locale: z.string().max(35),
  })
  .strict();

/** The same user under a new name, for what the tab sends after it. */
const rename = z.object({ t: z.literal('name'), name: displayName }).strict();

const command = z
  .object({
    t: z.literal('command'),
    ref,
    text: z.string().max(MAX_COMMAND_TEXT),
    /** Reply to one candidate of a result (reply-to-image). */
    replyTo: z.object({ jobId: z.string().regex(JOB_ID), index: z.number().int().min(0).max(3) }).strict().optional(),
    /** An image the tab uploaded just before (POST /upload). */
    upload: uploadId.optional(),
    /** A painted mask (PNG, white = change), uploaded the same way. */
    mask: uploadId.optional(),
  })
  .strict();

const button = z.object({ t: z.literal('button'), ref, id: z.string().max(100) }).strict();

const clientMessage = z.discriminatedUnion('t', [hello, rename, command, button]);

export type ClientMessage = z.infer<typeof clientMessage>;
export type HelloMessage = z.infer<typeof hello>;
export type CommandMessage = z.infer<typeof command>;

/** Parses one frame from a tab. Binary frames, bad JSON and unknown or malformed messages are all refused alike. */
export function parseClientMessage(data: string | Buffer, isBinary: boolean): Result<ClientMessage, 'unreadable'> {
  if (isBinary) return fail('unreadable');
  let json: unknown;
  try {
    json = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return fail('unreadable');
  }
  const parsed = clientMessage.safeParse(json);
  if (!parsed.success) return fail('unreadable');
  const message = parsed.data;
  // One image at a time: a reply target or an upload; a mask only over one of them.
  if (message.t === 'command' && ((message.replyTo && message.upload) || (message.mask && !message.replyTo && !message.upload))) return fail('unreadable');
  return ok(message);
}

/** One button as a card shows it (the core's ReplyButton, without the platform-neutral extras). */
export interface CardButton {
  readonly id: string;
  readonly action: ButtonAction;
  readonly label: string;
  readonly style: 'primary' | 'secondary' | 'danger';
  readonly ownerOnly: boolean;
}

/** One candidate of a result: its own image, or the withheld placeholder tile. */
export interface CardImage {
  readonly index: number;
  readonly url: string;
  readonly withheld: boolean;
  readonly spoiler: boolean;
  readonly alt: string;
}

/** A job as the page shows it: one card that moves from status to result (or a closing line). */
export interface Card {
  readonly jobId: string;
  readonly parentId: string | null;
  readonly role: Role;
  readonly prompt: string;
  readonly owner: { readonly userId: string; readonly name: string | null };
  readonly createdAt: number;
  readonly state: 'status' | 'result' | 'final';
  /** The status line, the result's footer, or the closing sentence: the core's words. */
  readonly text: string;
  readonly status: {
    readonly phase: 'queued' | 'running';
    readonly position: number | null;
    readonly etaAt: number | null;
    readonly step: number | null;
    readonly total: number | null;
    /** A live preview (a data: URL of a small PNG the classifier has passed), while running. */
    readonly preview: string | null;
  } | null;
  readonly outcome: 'blocked' | 'failed' | 'cancelled' | null;
  readonly notes: readonly string[];
  /** The grid (several candidates) or null (one candidate: show it). */
  readonly grid: string | null;
  readonly candidates: readonly CardImage[];
  /** The common action, one per candidate (Refine n), or Cancel while the job waits or runs. */
  readonly buttons: readonly CardButton[];
  /** The rarer actions of a result (Vary n, Reroll, Delete); the option chosen is pressed like a button. */
  readonly menu: { readonly id: string; readonly placeholder: string; readonly options: readonly CardButton[] } | null;
  /** Votes per candidate index, and the core's line saying them (null before anyone voted). */
  readonly votes: readonly number[];
  readonly votesLine: string | null;
}

/** What the command help shows: the core's option list, in the tab's language. */
export interface OptionHelp {
  readonly flag: string;
  readonly description: string;
}

export type ServerMessage =
  | {
      readonly t: 'welcome';
      readonly userId: string;
      readonly name: string;
      readonly cards: readonly Card[];
      readonly options: readonly OptionHelp[];
      /** The upload cap, and the core's sentence for a file past it (so the page can refuse before sending). */
      readonly upload: { readonly maxBytes: number; readonly tooLarge: string };
    }
  | { readonly t: 'card'; readonly card: Card }
  /** A job its owner deleted: every tab drops its card. */
  | { readonly t: 'removed'; readonly jobId: string }
  | { readonly t: 'ack'; readonly ref: number; readonly jobId: string | null }
  /** Shown only in the tab that asked. */
  | { readonly t: 'error'; readonly ref: number | null; readonly text: string }
  | { readonly t: 'notice'; readonly text: string };

/**
 * A card as one tab sees it: whether the job is the tab's own, never the owner's id. A tab's id is all the studio
 * knows of who may Cancel or Delete a job, so no tab may learn another's.
 */
export type CardView = Omit<Card, 'owner'> & { readonly owner: { readonly name: string | null; readonly mine: boolean } };

/** What goes over one tab's socket: the server's messages with every card seen from that tab. */
export type TabMessage =
  | Exclude<ServerMessage, { readonly t: 'card' } | { readonly t: 'welcome' }>
  | { readonly t: 'card'; readonly card: CardView }
  | (Omit<Extract<ServerMessage, { readonly t: 'welcome' }>, 'cards'> & { readonly cards: readonly CardView[] });

function cardView(card: Card, userId: string): CardView {
  const { owner, ...rest } = card;
  return { ...rest, owner: { name: owner.name, mine: owner.userId === userId } };
}

export function viewFor(message: ServerMessage, userId: string): TabMessage {
  if (message.t === 'card') return { t: 'card', card: cardView(message.card, userId) };
  if (message.t === 'welcome') return { ...message, cards: message.cards.map((card) => cardView(card, userId)) };
  return message;
}
