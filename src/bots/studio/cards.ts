import type { Locale } from '../core/command.ts';
import { readDelivery } from '../core/core.ts';
import { INTERNAL_ERROR } from '../core/errors.ts';
import type { Reply, ReplyButton } from '../core/reply.ts';
import { renderFinal, renderResult, renderStatus, type JobView } from '../core/render.ts';
import type { JobHandle, JobResult } from '../../engine/job-handle.ts';
import type { JobRecord } from '../../engine/history.ts';
import type { Card, CardButton } from './protocol.ts';

/** What a card shows about a job besides the core's reply: who asked, for what, when. */
export interface CardMeta {
  readonly jobId: string;
  readonly parentId: string | null;
  readonly role: Card['role'];
  readonly prompt: string;
  readonly owner: Card['owner'];
  readonly createdAt: number;
  readonly locale: Locale;
}

type JobReply = Extract<Reply, { kind: 'status' | 'result' | 'final' }>;

export function isJobReply(reply: Reply): reply is JobReply {
  return reply.kind === 'status' || reply.kind === 'result' || reply.kind === 'final';
}

export function cardMetaOf(record: JobRecord): CardMeta {
  return {
    jobId: record.id,
    parentId: record.parentId,
    role: record.role,
    prompt: record.spec.userPrompt,
    owner: { userId: record.owner.userId, name: record.owner.name ?? null },
    createdAt: record.createdAt,
    locale: readDelivery(record).locale,
  };
}

/** URL of a result's grid or of one candidate (the placeholder tile when it was withheld). */
export function mediaUrl(jobId: string, what: 'grid' | number): string {
  return `/media/${jobId}/${what}.png`;
}

const cardButton = (b: ReplyButton): CardButton => ({ id: b.id, action: b.action, label: b.label, style: b.style, ownerOnly: b.ownerOnly });

/** The core's reply for a job → the card every tab shows. Images become URLs; the bytes are served by media.ts. */
export function cardFromReply(meta: CardMeta, reply: JobReply): Card {
  const base = {
    jobId: meta.jobId,
    parentId: meta.parentId,
    role: meta.role,
    prompt: meta.prompt,
    owner: meta.owner,
    createdAt: meta.createdAt,
    text: reply.text,
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
        menu: reply.menu && {
          id: reply.menu.id,
          placeholder: reply.menu.placeholder,
          options: reply.menu.options.map((o) => ({ ...o, style: o.action === 'delete' ? ('danger' as const) : ('secondary' as const) })),
        },
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
export function cardFromRecord(record: JobRecord, live: JobHandle | undefined, now: number): Card {
  const meta = cardMetaOf(record);
  const view: JobView = { jobId: record.id, parentId: record.parentId, role: record.role, prompt: meta.prompt, locale: meta.locale };
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
