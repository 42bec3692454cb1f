import {
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
  time,
  TimestampStyles,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type RawFile,
} from 'discord.js';
import type { Locale } from '../core/command.ts';
import { originText } from '../core/lineage.ts';
import type { Reply, ReplyButton, ReplyImage, ReplyMenu } from '../core/reply.ts';
import { text } from '../core/texts.ts';

/**
 * Core Reply → Discord message, as plain data: no I/O, no clock, so every shape is unit-tested. The transport sends
 * what `messageBody` makes of it.
 */
export interface RenderedFile {
  /** With the `SPOILER_` prefix when the image goes behind a spoiler. */
  readonly name: string;
  readonly data: Buffer;
  readonly description: string;
  readonly spoiler: boolean;
}

/** A row of buttons, or of one select menu. */
export type ComponentRow = APIActionRowComponent<APIComponentInMessageActionRow>;

export interface RenderedMessage {
  readonly content: string;
  readonly files: readonly RenderedFile[];
  readonly components: readonly ComponentRow[];
  /** Only the person who asked sees it (refusals). */
  readonly ephemeral: boolean;
  /** An edit that leaves the message's attachments as they are (a result whose votes changed). */
  readonly keepFiles?: boolean;
}

/** Discord's limits (message content, buttons per row, rows per message, label and alt-text lengths, menu options). */
export const LIMITS = { content: 2000, buttonsPerRow: 5, rows: 5, label: 80, description: 1024, menuOptions: 25, placeholder: 150 } as const;
const PROMPT_SHOWN = 600;
/** The original beside an enhanced prompt: enough to recognise it. */
const ORIGINAL_SHOWN = 300;

/** Every message the bot sends pings nobody, whatever the prompt says (`@everyone`, `<@id>`, `<@&role>`). */
export const NO_MENTIONS = { parse: [] as never[] };

const STYLES: Record<ReplyButton['style'], ButtonStyle.Primary | ButtonStyle.Secondary | ButtonStyle.Danger> = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  danger: ButtonStyle.Danger,
};

/**
 * A user's or a model's words shown as they are: markdown inert — masked links too (the bot must not present a
 * user's [text](url) as its own link), and headings and lists, which Discord draws even inside a quote.
 */
function inert(value: string): string {
  return escapeMarkdown(value, { maskedLink: true, heading: true, bulletedList: true, numberedList: true });
}

function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** The prompt as a quote line: one line, markdown inert, never longer than the room left. */
function promptLine(prompt: string, room: number): string | null {
  const flat = prompt.replace(/\s+/g, ' ').trim();
  if (flat === '' || room < 8) return null;
  return `> ${clip(inert(clip(flat, PROMPT_SHOWN)), room - 2)}`;
}

function withPrompt(prompt: string, lines: readonly string[]): string {
  const rest = lines.join('\n');
  const quote = promptLine(prompt, LIMITS.content - rest.length - 1);
  return clip(quote ? `${quote}\n${rest}` : rest, LIMITS.content);
}

export function buttonRows(rows: readonly (readonly ReplyButton[])[]): ComponentRow[] {
  const out: ComponentRow[] = [];
  for (const row of rows) {
    for (let i = 0; i < row.length; i += LIMITS.buttonsPerRow) {
      out.push({
        type: ComponentType.ActionRow,
        components: row.slice(i, i + LIMITS.buttonsPerRow).map((b) => ({
          type: ComponentType.Button,
          custom_id: b.id,
          label: clip(b.label, LIMITS.label),
          style: STYLES[b.style],
        })),
      });
    }
  }
  return out.slice(0, LIMITS.rows);
}

/** The result's menu as a row of its own: the option chosen carries the action's id, as a button would. */
function menuRow(menu: ReplyMenu): ComponentRow {
  return {
    type: ComponentType.ActionRow,
    components: [
      {
        type: ComponentType.StringSelect,
        custom_id: menu.id,
        placeholder: clip(menu.placeholder, LIMITS.placeholder),
        options: menu.options.slice(0, LIMITS.menuOptions).map((o) => ({ label: clip(o.label, LIMITS.label), value: o.id })),
      },
    ],
  };
}

function file(image: ReplyImage): RenderedFile {
  return {
    name: image.spoiler ? `SPOILER_${image.name}` : image.name,
    data: image.png,
    description: clip(image.alt, LIMITS.description),
    spoiler: image.spoiler,
  };
}

const unix = (ms: number): number => Math.round(ms / 1000);

function statusLine(reply: Extract<Reply, { kind: 'status' }>, locale: Locale): string {
  if (reply.etaAt === undefined) return reply.text;
  const when = time(unix(reply.etaAt), TimestampStyles.RelativeTime);
  if (reply.phase === 'queued') {
    // "Next up" says more than a countdown of a second or two.
    if (reply.position === undefined || reply.text === text(locale, 'status.queued.next')) return reply.text;
    return text(locale, 'discord.status.queued', { position: reply.position, when });
  }
  return `${reply.text} · ${text(locale, 'discord.status.finishes', { when })}`;
}

/**
 * Describe's answer: the title, each prompt numbered (inert, one line), the filter's note. Four long prompts do not
 * fit in one message, so each is cut to an equal share of it; its Draft button drafts the whole prompt.
 */
function suggestionsContent(reply: Extract<Reply, { kind: 'suggestions' }>): string {
  const notes = reply.notes.map((note) => `-# ${note}`);
  const fixed = [reply.text, ...notes].join('\n').length + reply.prompts.length * 8;
  const share = Math.max(40, Math.floor((LIMITS.content - fixed) / Math.max(1, reply.prompts.length)));
  const items = reply.prompts.map((prompt, i) => `**${i + 1}.** ${clip(inert(clip(prompt.replace(/\s+/g, ' ').trim(), share)), share)}`);
  return clip([reply.text, ...items, ...notes].join('\n'), LIMITS.content);
}

/** What a reply's rendering needs from outside the reply. */
export interface RenderContext {
  /**
   * The parent job in a result's origin line: a link to its message in Discord's markup, or plain words. Absent: the
   * plain words.
   */
  readonly parentLabel?: (parentId: string) => string;
}

/** "-# varied from #2 of [job x](…)": where a result came from, linking the parent's message. */
function originLine(reply: Extract<Reply, { kind: 'result' }>, locale: Locale, context: RenderContext): string[] {
  if (!reply.origin) return [];
  const parent = context.parentLabel?.(reply.origin.parentId) ?? text(locale, 'origin.parent', { job: reply.origin.parentId });
  return [`-# ${originText(locale, reply.origin, parent)}`];
}

export function renderReply(reply: Reply, locale: Locale, context: RenderContext = {}): RenderedMessage {
  switch (reply.kind) {
    case 'status':
      return {
        content: withPrompt(reply.prompt, [statusLine(reply, locale)]),
        // The live preview (already passed by the classifier) replaces the previous one: an edit lists its files.
        files: reply.preview ? [file(reply.preview)] : [],
        components: buttonRows([reply.buttons]),
        ephemeral: false,
      };
    case 'result': {
      const enhanced = reply.enhanced ? [`-# ${inert(clip(reply.enhanced.line.replace(/\s+/g, ' '), ORIGINAL_SHOWN))}`] : [];
      const lines = [...enhanced, ...reply.notes, ...originLine(reply, locale, context), ...(reply.votesLine ? [`-# ${reply.votesLine}`] : []), `-# ${reply.text}`];
      return {
        content: withPrompt(reply.prompt, lines),
        files: reply.image ? [file(reply.image)] : [],
        components: [...buttonRows([reply.buttons]), ...(reply.menu ? [menuRow(reply.menu)] : [])].slice(0, LIMITS.rows),
        ephemeral: false,
        keepFiles: reply.refresh === true,
      };
    }
    case 'board': {
      // The lines hold people's prompts and names: inert, like every prompt the bot shows.
      const lines = [reply.text, ...reply.entries.map((e) => inert(e.line))];
      return {
        content: clip(lines.join('\n'), LIMITS.content),
        files: reply.image ? [file(reply.image)] : [],
        components: [...buttonRows([reply.buttons]), ...(reply.menu ? [menuRow(reply.menu)] : [])].slice(0, LIMITS.rows),
        ephemeral: false,
      };
    }
    case 'assisting':
      return { content: withPrompt(reply.prompt, [reply.text]), files: [], components: [], ephemeral: false };
    case 'suggestions':
      return { content: suggestionsContent(reply), files: [], components: buttonRows([reply.buttons]), ephemeral: false };
    case 'final':
    case 'notice':
      return { content: clip(reply.text, LIMITS.content), files: [], components: [], ephemeral: false };
    case 'error':
      return { content: clip(reply.text, LIMITS.content), files: [], components: [], ephemeral: true };
  }
}

/** What Discord's message routes take: the JSON body (sent as payload_json beside files) and the files. */
export interface MessageBody {
  readonly json: {
    readonly content: string;
    readonly components: readonly ComponentRow[];
    /** Absent: an edit keeps the attachments the message has. */
    readonly attachments?: readonly { readonly id: number; readonly filename: string; readonly description: string }[];
    readonly allowed_mentions: typeof NO_MENTIONS;
    readonly flags?: number;
    readonly message_reference?: { readonly message_id: string; readonly fail_if_not_exists: false };
  };
  readonly files: readonly RawFile[];
}

const EPHEMERAL = 64;

/**
 * The body for a new message or a full edit. An edit lists exactly the attachments the message keeps, so a status
 * card that becomes a result gains its image and a result that becomes "Cancelled." loses nothing it never had.
 */
export function messageBody(message: RenderedMessage, replyTo?: string): MessageBody {
  return {
    json: {
      content: message.content,
      components: message.components,
      ...(message.keepFiles ? {} : { attachments: message.files.map((f, id) => ({ id, filename: f.name, description: f.description })) }),
      allowed_mentions: NO_MENTIONS,
      ...(message.ephemeral ? { flags: EPHEMERAL } : {}),
      ...(replyTo ? { message_reference: { message_id: replyTo, fail_if_not_exists: false as const } } : {}),
    },
    files: message.files.map((f, id) => ({ key: `files[${id}]`, name: f.name, data: f.data, contentType: 'image/png' })),
  };
}
