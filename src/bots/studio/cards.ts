import type { Locale } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';
import { INTERNAL_ERROR } from '../core/errors.ts';
import type { Reply, ReplyButton, ReplyMenu } from '../core/reply.ts';
import { renderFinal, renderResult, renderStatus, type JobView } from '../core/render.ts';
import type { JobHandle, JobResult } from '../../engine/job-handle.ts';
import type { JobRecord } from '../../engine/history.ts';
import { originOf, originText, type Origin } from '../core/lineage.ts';
import { text } from '../core/texts.ts';
import type { Card, CardButton, CardMenu, CardOrigin } from './protocol.ts';

/** What a card shows about a job besides the core's reply: who asked, for what, when, made from what. */
export interface CardMeta {
  readonly jobId: string;
  readonly parentId: string | null;
  readonly role: Card['role'];
  readonly prompt: string;
  readonly owner: Card['owner'];
  readonly createdAt: number;
  readonly locale: Locale;
  readonly origin: CardOrigin | null;
}

/** What the studio knows beyond one record: the votes, and whether a parent's card is there to link to. */
export interface CardContext {
  /** The core's view of a journaled job (votes, origin, what its menu offers now). */
  viewOf(record: JobRecord): JobView;
  shown(jobId: string): boolean;
}

type JobReply = Extract<Reply, { kind: 'status' | 'result' | 'final' }>;

export function isJobReply(reply: Reply): reply is JobReply {
  return reply.kind === 'status' || reply.kind === 'result' || reply.kind === 'final';
}

/** Stands in for the parent's label while the core's sentence is built, so the page can cut the sentence around it. */
const LABEL_MARK = '\u{F0000}';

/** The core's origin sentence in the card's language, cut around the parent's label ("job x"). */
export function cardOrigin(locale: Locale, origin: Origin, linked: boolean): CardOrigin {
  const label = text(locale, 'origin.parent', { job: origin.parentId });
  const sentence = originText(locale, origin, LABEL_MARK);
  const at = sentence.indexOf(LABEL_MARK);
  const [before, after] = at < 0 ? [sentence, ''] : [sentence.slice(0, at), sentence.slice(at + LABEL_MARK.length)];
  return { action: origin.action, parentId: origin.parentId, parentIndex: origin.parentIndex, before, label: at < 0 ? '' : label, after, linked };
}

export function cardMetaOf(record: JobRecord, context: Pick<CardContext, 'shown'>): CardMeta {
  const locale = readDelivery(record).locale;
  const origin = originOf(record);
  return {
    jobId: record.id,
    parentId: record.parentId,
    role: record.role,
    prompt: record.spec.userPrompt,
    owner: { userId: record.owner.userId, name: record.owner.name ?? null },
    createdAt: record.createdAt,
    locale,
    origin: origin && cardOrigin(locale, origin, context.shown(origin.parentId)),
  };
}

/** URL of a result's grid or of one candidate (the placeholder tile when it was withheld). */
export function mediaUrl(jobId: string, what: 'grid' | number): string {
  return `/media/${jobId}/${what}.png`;
}

export const cardButton = (b: ReplyButton): CardButton => ({ id: b.id, action: b.action, label: b.label, style: b.style, ownerOnly: b.ownerOnly });

/** A result's or a board's menu: its options are pressed like buttons (Delete shown as the dangerous one). */
export const cardMenu = (menu: ReplyMenu): CardMenu => ({
  id: menu.id,
  placeholder: menu.placeholder,
  options: menu.options.map((o) => ({ ...o, style: o.action === 'delete' ? ('danger' as const) : ('secondary' as const) })),
});

/**
 * The core's reply for a job → the card every tab shows. Images become URLs; the bytes are served by media.ts. A
 * result re-drawn for new votes (`refresh`, no images) makes the same card: its candidates are known by index.
 */
export function cardFromReply(meta: CardMeta, reply: JobReply): Card {
  const base = {
    jobId: meta.jobId,
    parentId: meta.parentId,
    role: meta.role,
    prompt: meta.prompt,
    owner: meta.owner,
    createdAt: meta.createdAt,
    text: reply.text,
    origin: meta.origin,
    enhanced: reply.kind === 'result' && reply.enhanced ? { original: reply.enhanced.original, line: reply.enhanced.line } : null,
  };
  switch (reply.kind) {
    case 'status':
      return {
        ...base,
        state: 'status',
        status: {
          phase: reply.phase,
          position: reply.position ?? null,
          etaAt: reply.etaAt ?? null,
          step: reply.step ?? null,
          total: reply.total ?? null,
          preview: reply.preview ? `data:image/png;base64,${reply.preview.png.toString('base64')}` : null,
        },
        outcome: null,
        notes: [],
        grid: null,
        candidates: [],
        buttons: reply.buttons.map(cardButton),
        menu: null,
        votes: [],
        votesLine: null,
      };
    case 'result':
      return {
        ...base,
        state: 'result',
        status: null,
        outcome: null,
        notes: reply.notes,
        grid: reply.candidates.length > 1 ? mediaUrl(meta.jobId, 'grid') : null,
        candidates: reply.candidates.map((image, index) => ({
          index,
          url: mediaUrl(meta.jobId, index),
          withheld: image === null,
          spoiler: image?.spoiler ?? false,
          alt: image?.alt ?? '',
        })),
        buttons: reply.buttons.map(cardButton),
        menu: reply.menu && cardMenu(reply.menu),
        votes: reply.votes,
        votesLine: reply.votesLine,
      };
    case 'final':
      return { ...base, state: 'final', status: null, outcome: reply.outcome, notes: [], grid: null, candidates: [], buttons: [], menu: null, votes: [], votesLine: null };
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A journaled job → its card, rendered by the core's own renderers in the language it was asked in, so a card looks
 * the same after a reload as it did live. A waiting or running job shows its live handle's latest event.
 */
export function cardFromRecord(record: JobRecord, live: JobHandle | undefined, now: number, context: CardContext): Card {
  const meta = cardMetaOf(record, context);
  const view = context.viewOf(record);
  const last = live?.last;
  if (last && (last.type === 'queued' || last.type === 'started' || last.type === 'progress')) return cardFromReply(meta, renderStatus(last, view, now) as JobReply);
  switch (record.status) {
    case 'done':
    case 'blocked': {
      if (!record.result) break;
      const result = resultOf(record);
      const reply = record.status === 'done' ? renderResult(result, view) : renderFinal({ type: 'blocked', result }, view);
      return cardFromReply(meta, reply as JobReply);
    }
    case 'failed':
      return cardFromReply(meta, renderFinal({ type: 'failed', error: record.error ?? INTERNAL_ERROR }, view) as JobReply);
    case 'cancelled':
      return cardFromReply(meta, renderFinal({ type: 'cancelled' }, view) as JobReply);
    case 'waiting':
    case 'running':
      break;
  }
  // Journaled but not (yet) in the engine: a job from before a restart, about to be recovered.
  return cardFromReply(meta, renderStatus({ type: 'queued', position: 1, etaMs: 0 }, view, now) as JobReply);
}

/** The journal's record of a result, shaped as the engine's result so the core's renderer can draw it. */
function resultOf(record: JobRecord): JobResult {
  const stored = record.result!;
  const { width, height } = stored.meta;
  return {
    images: stored.images.map((image) => ({ ...image, png: image.withheld ? null : EMPTY, width, height })),
    grid: stored.images.length > 1 ? EMPTY : null,
    meta: stored.meta,
  };
}
