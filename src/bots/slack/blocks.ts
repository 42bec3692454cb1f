import type { types } from '@slack/bolt';
import type { Locale } from '../core/command.ts';
import { originText, type Origin } from '../core/lineage.ts';
import { progressBar } from '../core/render.ts';
import type { Reply, ReplyButton, ReplyMenu } from '../core/reply.ts';
import { text } from '../core/texts.ts';
import { clip, escapeMrkdwn, quote } from './mrkdwn.ts';

/**
 * The pure renderer: the core's Reply → a Slack message (Block Kit plus the plain `text` Slack shows in
 * notifications). Every piece of user text is escaped, so nothing the bot posts can mention anyone.
 */
export interface SlackMessage {
  readonly text: string;
  readonly blocks: types.KnownBlock[];
}

export interface CardContext {
  readonly locale: Locale;
  /** Display name of who asked; shown as text, never as a mention. */
  readonly by: string | null;
  /** The job's prompt (a closing line keeps it above). */
  readonly prompt: string;
  /** A result's line naming its parent, already mrkdwn (see originLine): it may hold a link. */
  readonly origin?: string | null;
}

export type CardReply = Extract<Reply, { kind: 'status' | 'result' | 'final' | 'assisting' }>;
export type SuggestionsReply = Extract<Reply, { kind: 'suggestions' }>;
export type BoardReply = Extract<Reply, { kind: 'board' }>;

/** Slack's limits: 3000 characters of block text, 75 per button label; notifications only need a line. */
const BLOCK_TEXT = 2900;
const FALLBACK_TEXT = 300;
const BUTTON_TEXT = 75;
const MENU_OPTIONS = 100;

const mrkdwn = (body: string): types.MrkdwnElement => ({ type: 'mrkdwn', text: body, verbatim: true });
const section = (body: string, blockId?: string): types.SectionBlock => ({ type: 'section', ...(blockId ? { block_id: blockId } : {}), text: mrkdwn(body) });
const context = (lines: readonly string[], blockId: string): types.ContextBlock => ({ type: 'context', block_id: blockId, elements: lines.map(mrkdwn) });

function buttonElement(button: ReplyButton): types.Button {
  return {
    type: 'button',
    action_id: button.id,
    value: button.id,
    text: { type: 'plain_text', text: button.label.slice(0, BUTTON_TEXT), emoji: true },
    ...(button.style === 'secondary' ? {} : { style: button.style }),
  };
}

/** The result's rarer actions: a static select whose option values are the ids buttons would carry. */
function menuElement(menu: ReplyMenu): types.StaticSelect {
  return {
    type: 'static_select',
    action_id: menu.id,
    placeholder: { type: 'plain_text', text: menu.placeholder.slice(0, BUTTON_TEXT), emoji: true },
    options: menu.options.slice(0, MENU_OPTIONS).map((o) => ({ text: { type: 'plain_text', text: o.label.slice(0, BUTTON_TEXT), emoji: true }, value: o.id })),
  };
}

/** One actions block: the buttons, then the menu (Slack allows 25 elements per block). */
function actions(buttons: readonly ReplyButton[], menu: ReplyMenu | null = null): types.ActionsBlock[] {
  const elements: (types.Button | types.StaticSelect)[] = [...buttons.map(buttonElement), ...(menu ? [menuElement(menu)] : [])];
  return elements.length > 0 ? [{ type: 'actions', block_id: 'z-actions', elements }] : [];
}

function byLine(ctx: CardContext): string[] {
  return ctx.by ? [escapeMrkdwn(text(ctx.locale, 'result.by', { user: ctx.by }))] : [];
}

/** The prompt as a quote; no block at all for an empty prompt (Slack refuses empty text). */
const promptBlocks = (prompt: string): types.SectionBlock[] => (prompt.trim() ? [section(quote(prompt, BLOCK_TEXT), 'z-prompt')] : []);

const fallback = (body: string): string => clip(escapeMrkdwn(body.replace(/\s+/g, ' ').trim()), FALLBACK_TEXT);

/** The card before the core has said anything: the prompt and an empty progress bar (no words to translate). */
export function renderPending(ctx: CardContext): SlackMessage {
  return {
    text: fallback(ctx.prompt) || progressBar(0, 1),
    blocks: [...promptBlocks(ctx.prompt), context([progressBar(0, 1), ...byLine(ctx)], 'z-status')],
  };
}

/**
 * A job's card: the prompt assistant at work before the job, queued/running status, the result (its images go to the
 * thread), or the closing line.
 */
export function renderCard(reply: CardReply, ctx: CardContext): SlackMessage {
  const prompt = promptBlocks(reply.kind === 'final' ? ctx.prompt : reply.prompt);
  switch (reply.kind) {
    case 'assisting':
      // No buttons: there is no job to cancel yet.
      return { text: fallback(reply.text), blocks: [...prompt, context([escapeMrkdwn(reply.text), ...byLine(ctx)], 'z-status')] };
    case 'status':
      return {
        text: fallback(reply.text),
        blocks: [...prompt, context([escapeMrkdwn(reply.text), ...byLine(ctx)], 'z-status'), ...actions(reply.buttons)],
      };
    case 'result':
      return {
        text: fallback(`${reply.prompt} · ${reply.text}`),
        blocks: [
          ...prompt,
          // The prompt the assistant wrote it from, beside the rewrite.
          ...(reply.enhanced ? [context([clip(escapeMrkdwn(reply.enhanced.line.replace(/\s+/g, ' ')), BLOCK_TEXT)], 'z-enhanced')] : []),
          ...(ctx.origin ? [context([ctx.origin], 'z-origin')] : []),
          ...reply.notes.map((note, i) => section(clip(escapeMrkdwn(note), BLOCK_TEXT), `z-note-${i}`)),
          ...(reply.votesLine ? [context([escapeMrkdwn(reply.votesLine)], 'z-votes')] : []),
          context([clip(escapeMrkdwn(reply.text), BLOCK_TEXT), ...byLine(ctx)], 'z-status'),
          ...actions(reply.buttons, reply.menu),
        ],
      };
    case 'final':
      // No buttons: a finished job has nothing left to cancel.
      return {
        text: fallback(reply.text),
        blocks: [...prompt, section(clip(escapeMrkdwn(reply.text), BLOCK_TEXT), 'z-final'), ...(ctx.by ? [context(byLine(ctx), 'z-status')] : [])],
      };
  }
}

/**
 * Describe's answer on its card: the title, each prompt as its own numbered section (escaped), the filter's note,
 * and the Draft buttons in one actions block.
 */
export function renderSuggestions(reply: SuggestionsReply, ctx: Pick<CardContext, 'locale' | 'by'>): SlackMessage {
  return {
    text: fallback(reply.text),
    blocks: [
      section(clip(escapeMrkdwn(reply.text), BLOCK_TEXT), 'z-suggestions'),
      ...reply.prompts.map((prompt, i) => section(clip(`*${i + 1}.* ${escapeMrkdwn(prompt.replace(/\s+/g, ' ').trim())}`, BLOCK_TEXT), `z-suggestion-${i}`)),
      ...(reply.notes.length > 0 || ctx.by ? [context([...reply.notes.map(escapeMrkdwn), ...byLine({ ...ctx, prompt: '' })], 'z-status')] : []),
      ...actions(reply.buttons),
    ],
  };
}

/** A plain sentence (a refusal, a notice): escaped mrkdwn. */
export function renderNote(body: string): SlackMessage {
  const escaped = clip(escapeMrkdwn(body), BLOCK_TEXT);
  return { text: fallback(body), blocks: [section(escaped, 'z-note')] };
}

/** Stands for the parent inside the translated sentence until the sentence is escaped. */
const PARENT = '\u0000parent\u0000';

/**
 * "varied from #2 of job x": the sentence escaped, the parent's name a link to its card (`<permalink|job x>`) when
 * the permalink is known, else plain text.
 */
export function originLine(locale: Locale, origin: Origin, permalink: string | undefined): string {
  const label = escapeMrkdwn(text(locale, 'origin.parent', { job: origin.parentId }));
  const parent = permalink ? `<${permalink}|${label}>` : label;
  // A short sentence and a job id: far inside Slack's block limit, so nothing to clip.
  return escapeMrkdwn(originText(locale, origin, PARENT)).replace(PARENT, () => parent);
}

/**
 * The board: its title, a line per entry (the core's plain text, escaped), and one actions block of Refine #n and the
 * Vary menu, whose presses are ordinary job buttons. The contact sheet goes into the message's thread, as a card's
 * images do.
 */
export function renderBoard(board: BoardReply): SlackMessage {
  return {
    text: fallback(board.text),
    blocks: [
      section(clip(escapeMrkdwn(board.text), BLOCK_TEXT), 'z-board'),
      ...board.entries.map((entry) => section(clip(escapeMrkdwn(entry.line), BLOCK_TEXT), `z-board-${entry.rank}`)),
      ...actions(board.buttons, board.menu),
    ],
  };
}
