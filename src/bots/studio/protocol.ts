import { z } from 'zod';
import { fail, ok, type Result } from '../../result.ts';
import type { ButtonAction } from '../core/buttons.ts';
import type { Role } from '../../config/schema.ts';
import type { ModerationPolicy } from '../../moderation/verdict.ts';
import type { Origin } from '../core/lineage.ts';
import type { ChannelSettings, PersonalSettings } from '../core/settings.ts';

/**
 * The studio's wire protocol: JSON text frames over one WebSocket per tab. Browser → server messages are validated
 * here (closed shapes, bounded sizes); anything else is refused with one message and changes nothing. Over 300 lines
 * on purpose: both directions' shapes side by side, so the page's contract is read in one file.
 */

/** A browser's user id: random, made by the page, kept in its localStorage. */
export const USER_ID = /^[A-Za-z0-9_-]{8,64}$/;
export const JOB_ID = /^[A-Za-z0-9]{4,32}$/;
export const UPLOAD_ID = /^[a-f0-9]{32}$/;
/** Command text as typed, flags included; the engine refuses over-long prompts with its own message. */
export const MAX_COMMAND_TEXT = 16_000;
export const MAX_NAME = 32;
/** A board window as the panel offers it (`2h`, `24h`, `7d`), or empty for the default; the core reads it. */
export const BOARD_WINDOW = /^(?:[0-9]{1,4}[mhdw])?$/;
/** An aspect ratio or a style name typed in the settings panel; the core checks the value. */
export const MAX_SETTING_TEXT = 40;

const ref = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const uploadId = z.string().regex(UPLOAD_ID);
const jobId = z.string().regex(JOB_ID);
/** A candidate of a result, 0-based (a result has at most four). */
const candidateIndex = z.number().int().min(0).max(3);
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
    /**
     * Reply to one candidate of a result (reply-to-image), or, without an index, to the whole result: every delivered
     * candidate is edited in one job, unless the text starts with `#n` (the core decides).
     */
    replyTo: z.object({ jobId, index: candidateIndex.optional() }).strict().optional(),
    /** An image the tab uploaded just before (POST /upload). */
    upload: uploadId.optional(),
    /** A painted mask (PNG, white = change), uploaded the same way. */
    mask: uploadId.optional(),
    /** The composer's Enhance toggle: the same as typing `--enhance` (a draft's prompt rewritten by the assistant first). */
    enhance: z.literal(true).optional(),
  })
  .strict();

const button = z.object({ t: z.literal('button'), ref, id: z.string().max(100) }).strict();

/** Describe an image (an upload, or one candidate of a result): the prompt assistant suggests prompts for it. */
const describe = z
  .object({
    t: z.literal('describe'),
    ref,
    upload: uploadId.optional(),
    image: z.object({ jobId, index: candidateIndex }).strict().optional(),
  })
  .strict();

/** A press of a candidate's vote control: toggles this user's vote for it. */
const vote = z.object({ t: z.literal('vote'), ref, jobId, index: candidateIndex }).strict();

/** The board panel: the channel's most voted candidates over a window (`2h`, `7d`; empty for the default 24 h). */
const board = z.object({ t: z.literal('board'), ref, since: z.string().regex(BOARD_WINDOW) }).strict();

/** A card's History: the job's ancestors and the jobs made from it. */
const lineage = z.object({ t: z.literal('lineage'), ref, jobId }).strict();

const settingValues = z
  .object({
    count: z.union([z.number().int().min(1).max(4), z.literal('default')]).optional(),
    ar: z.string().trim().min(1).max(MAX_SETTING_TEXT).optional(),
    style: z.string().trim().min(1).max(MAX_SETTING_TEXT).optional(),
    othersMayPress: z.union([z.boolean(), z.literal('default')]).optional(),
    policy: z.enum(['block', 'spoiler', 'default']).optional(),
  })
  .strict();

/** The settings panel: without a change it shows them; a change sets (or, with `default`, clears) one level's values. */
const settings = z
  .object({
    t: z.literal('settings'),
    ref,
    change: z.object({ target: z.enum(['channel', 'personal']), values: settingValues }).strict().optional(),
  })
  .strict();

const clientMessage = z.discriminatedUnion('t', [hello, rename, command, button, describe, vote, board, lineage, settings]);

export type ClientMessage = z.infer<typeof clientMessage>;
export type HelloMessage = z.infer<typeof hello>;
export type CommandMessage = z.infer<typeof command>;
export type DescribeMessage = z.infer<typeof describe>;
export type VoteMessage = z.infer<typeof vote>;
export type BoardMessage = z.infer<typeof board>;
export type LineageMessage = z.infer<typeof lineage>;
export type SettingsMessage = z.infer<typeof settings>;

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
  // One image at a time: a reply target or an upload; a mask only over one image (one candidate, or the upload).
  if (message.t === 'command' && ((message.replyTo && message.upload) || (message.mask && message.replyTo?.index === undefined && !message.upload))) return fail('unreadable');
  // Describe looks at exactly one image.
  if (message.t === 'describe' && (message.upload === undefined) === (message.image === undefined)) return fail('unreadable');
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

/** The rarer actions of a result or a board, in one select; the option chosen is pressed like a button. */
export interface CardMenu {
  readonly id: string;
  readonly placeholder: string;
  readonly options: readonly CardButton[];
}

/**
 * "varied from #2 of job x": the core's sentence cut around the parent's label, so the page can make the label a link
 * to the parent's card with text nodes alone (no markup ever travels).
 */
export interface CardOrigin {
  readonly action: Origin['action'];
  readonly parentId: string;
  /** The parent's candidate (0-based), or null for the whole result. */
  readonly parentIndex: number | null;
  readonly before: string;
  readonly label: string;
  readonly after: string;
  /** The parent is a studio card still shown (not deleted): the label links to `#job-<parentId>`. */
  readonly linked: boolean;
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
  /** The grid (several candidates) or null (one candidate): the thumbnail of a reply to the whole result. */
  readonly grid: string | null;
  /** Each candidate once, as a tile. */
  readonly candidates: readonly CardImage[];
  /** The common action, one per candidate (Refine n), or Cancel while the job waits or runs. */
  readonly buttons: readonly CardButton[];
  /** The rarer actions of a result (Vary n, Reroll, Delete). */
  readonly menu: CardMenu | null;
  /** Votes per candidate index, and the core's line saying them (null before anyone voted). */
  readonly votes: readonly number[];
  readonly votesLine: string | null;
  /** What made it from which parent, for the line linking the parent's card; null for a job from nothing of ours. */
  readonly origin: CardOrigin | null;
  /**
   * The prompt assistant rewrote the asker's prompt into `prompt`: their own words, and the core's sentence showing
   * them beside it (the buttons then hold Use my original prompt). Null for a prompt drafted as typed.
   */
  readonly enhanced: { readonly original: string; readonly line: string } | null;
}

/**
 * The prompt assistant's card, before a job exists: "Enhancing the prompt…" over the asker's words (the job's card
 * replaces it), or "Describing the image…" and then describe's suggestions, each with its Draft button.
 */
export interface AssistCard {
  /** `assist-…`: never a job id, so the page keeps both kinds of card in one feed. */
  readonly id: string;
  readonly task: 'enhance' | 'describe';
  readonly state: 'assisting' | 'suggestions';
  readonly owner: { readonly userId: string; readonly name: string | null };
  readonly createdAt: number;
  /** The status line, or the suggestions' title: the core's words in the asker's language. */
  readonly text: string;
  /** The words being enhanced ('' for describe). */
  readonly prompt: string;
  /** Describe's prompts, each with its Draft button. */
  readonly suggestions: readonly { readonly prompt: string; readonly button: CardButton }[];
  /** Suggestions the prompt filter withheld; `notes` says it in words. */
  readonly withheld: number;
  readonly notes: readonly string[];
}

/** What the command help shows: the core's option list, in the tab's language. */
export interface OptionHelp {
  readonly flag: string;
  readonly description: string;
}

/** The board panel: the core's title (or the empty board's sentence), its lines, the contact sheet, Refine and Vary. */
export interface BoardView {
  /** The window asked for, as the panel's chooser names it (empty: the default). */
  readonly since: string;
  readonly text: string;
  readonly entries: readonly { readonly rank: number; readonly jobId: string; readonly index: number; readonly votes: number; readonly line: string }[];
  /** The contact sheet, served like result images; null for an empty board. */
  readonly image: { readonly url: string; readonly alt: string; readonly spoiler: boolean } | null;
  /** Refine #n, one per entry in rank order. */
  readonly buttons: readonly CardButton[];
  readonly menu: CardMenu | null;
}

/** One job of a History view: its id, role and the core's line about it. */
export interface LineageStep {
  readonly jobId: string;
  readonly role: Role;
  readonly parentId: string | null;
  readonly line: string;
}

/** The settings panel: both levels as stored, the core's lines saying them, and what the form may offer. */
export interface SettingsPanel {
  readonly channel: ChannelSettings;
  readonly personal: PersonalSettings;
  readonly canConfigure: boolean;
  readonly lines: readonly string[];
  readonly choices: {
    readonly maxCount: number;
    /** Suggestions for the aspect ratio field (any W:H is accepted). */
    readonly ratios: readonly string[];
    readonly styles: readonly { readonly name: string; readonly label: string }[];
    /** The policies this channel may choose: what the operator allows, `spoiler` only where NSFW. */
    readonly policies: readonly ModerationPolicy[];
  };
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
      /** A prompt assistant is configured: the page offers Enhance and Describe (and only then). */
      readonly assistant: boolean;
      /** The assistant's cards still shown (at work, or suggestions), oldest first; the page places them by `createdAt`. */
      readonly assists: readonly AssistCard[];
    }
  /** A job's card; `replaces` names the assistant's card it takes the place of (the enhance that led to it). */
  | { readonly t: 'card'; readonly card: Card; readonly replaces?: string }
  | { readonly t: 'assist'; readonly card: AssistCard }
  /** A job its owner deleted, or an assistant's card that came to nothing: every tab drops its card. */
  | { readonly t: 'removed'; readonly jobId: string }
  | { readonly t: 'ack'; readonly ref: number; readonly jobId: string | null }
  /** Shown only in the tab that asked. */
  | { readonly t: 'error'; readonly ref: number | null; readonly text: string }
  | { readonly t: 'notice'; readonly text: string }
  /** Said to assistive technology in the tab that acted (a vote counted or taken back); the card shows the rest. */
  | { readonly t: 'announce'; readonly text: string }
  | { readonly t: 'board'; readonly ref: number; readonly board: BoardView }
  | { readonly t: 'lineage'; readonly ref: number; readonly jobId: string; readonly chain: readonly LineageStep[]; readonly children: readonly LineageStep[] }
  /** The settings as they are; `saved` is the core's sentence after a change. */
  | { readonly t: 'settings'; readonly ref: number; readonly settings: SettingsPanel; readonly saved: string | null };

/**
 * A card as one tab sees it: whether the job is the tab's own, never the owner's id (a tab's id is all the studio
 * knows of who may Cancel or Delete a job, so no tab may learn another's), and which candidates this tab's user voted
 * for.
 */
export type CardView = Omit<Card, 'owner'> & { readonly owner: { readonly name: string | null; readonly mine: boolean }; readonly myVotes: readonly number[] };

/** An assistant's card as one tab sees it: whether it is the tab's own, never the asker's id. */
export type AssistCardView = Omit<AssistCard, 'owner'> & { readonly owner: { readonly name: string | null; readonly mine: boolean } };

/** What goes over one tab's socket: the server's messages with every card seen from that tab. */
export type TabMessage =
  | Exclude<ServerMessage, { readonly t: 'card' } | { readonly t: 'assist' } | { readonly t: 'welcome' }>
  | { readonly t: 'card'; readonly card: CardView; readonly replaces?: string }
  | { readonly t: 'assist'; readonly card: AssistCardView }
  | (Omit<Extract<ServerMessage, { readonly t: 'welcome' }>, 'cards' | 'assists'> & { readonly cards: readonly CardView[]; readonly assists: readonly AssistCardView[] });

/** The candidates (indices) of a result that one user voted for. */
export type VotedBy = (jobId: string, userId: string) => readonly number[];

function cardView(card: Card, userId: string, votedBy: VotedBy): CardView {
  const { owner, ...rest } = card;
  return { ...rest, owner: { name: owner.name, mine: owner.userId === userId }, myVotes: card.state === 'result' ? votedBy(card.jobId, userId) : [] };
}

function assistView(card: AssistCard, userId: string): AssistCardView {
  const { owner, ...rest } = card;
  return { ...rest, owner: { name: owner.name, mine: owner.userId === userId } };
}

export function viewFor(message: ServerMessage, userId: string, votedBy: VotedBy): TabMessage {
  if (message.t === 'card') return { ...message, card: cardView(message.card, userId, votedBy) };
  if (message.t === 'assist') return { t: 'assist', card: assistView(message.card, userId) };
  if (message.t === 'welcome') {
    return { ...message, cards: message.cards.map((card) => cardView(card, userId, votedBy)), assists: message.assists.map((card) => assistView(card, userId)) };
  }
  return message;
}
