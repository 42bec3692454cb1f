import type { Role } from '../../config/schema.ts';
import type { JobRecord } from '../../engine/history.ts';
import type { JobEvent, JobResult } from '../../engine/job-handle.ts';
import type { ModerationVerdict } from '../../moderation/verdict.ts';
import { describeNoise } from '../../engine/noise-spec.ts';
import { buttonId, menuId, type ButtonAction } from './buttons.ts';
import type { Locale } from './command.ts';
import type { Origin } from './lineage.ts';
import type { Reply, ReplyButton, ReplyImage, ReplyMenu, ReplyMenuOption } from './reply.ts';
import { errorText, formatEta, roleName, text } from './texts.ts';

/** What rendering a job needs to know besides its events. */
export interface JobView {
  readonly jobId: string;
  readonly parentId: string | null;
  readonly role: Role;
  readonly prompt: string;
  readonly locale: Locale;
  /** Votes per candidate index, for a result. */
  readonly votes?: readonly number[];
  /** What made it from which parent; absent or null for a job made from nothing of ours. */
  readonly origin?: Origin | null;
  /** The job enlarges an image (an Upscale): its status says so, and its result offers no Reroll (it would be the same). */
  readonly upscaled?: boolean;
  /** Whether a candidate of this size can be upscaled now, asked when the result is rendered; absent: never. */
  readonly canUpscale?: (size: { readonly width: number; readonly height: number }) => boolean;
  /** The prompt assistant wrote `prompt` from this one: the result shows it and offers it back. */
  readonly enhancedFrom?: string | null;
  /** The result's menu offers Enhance (the prompt assistant is configured and the job is a draft of one prompt). */
  readonly canEnhance?: boolean;
}

const PROGRESS_CELLS = 10;

/** ▰▰▰▱▱▱▱▱▱▱ — a picture of progress where words would be slower to read. */
export function progressBar(step: number, total: number): string {
  const filled = total > 0 ? Math.round((step / total) * PROGRESS_CELLS) : 0;
  return '▰'.repeat(filled) + '▱'.repeat(PROGRESS_CELLS - filled);
}

function button(locale: Locale, action: ButtonAction, jobId: string, index?: number): ReplyButton {
  const n = index === undefined ? undefined : index + 1;
  return {
    id: buttonId(action, jobId, index),
    action,
    label: text(locale, `button.${action}`, n === undefined ? {} : { n }),
    style: action === 'refine' ? 'primary' : action === 'delete' || action === 'cancel' ? 'danger' : 'secondary',
    ownerOnly: action === 'cancel' || action === 'delete',
  };
}

/** queued / started / progress → the status card. */
export function renderStatus(event: Extract<JobEvent, { type: 'queued' | 'started' | 'progress' }>, view: JobView, now: number): Reply {
  const role = view.upscaled ? text(view.locale, 'role.upscale') : roleName(view.locale, view.role);
  const cancel = [button(view.locale, 'cancel', view.jobId)];
  if (event.type === 'queued') {
    return {
      kind: 'status',
      jobId: view.jobId,
      phase: 'queued',
      text: event.position <= 1 && event.etaMs < 2000
        ? text(view.locale, 'status.queued.next')
        : text(view.locale, 'status.queued', { position: event.position, eta: formatEta(view.locale, event.etaMs) }),
      position: event.position,
      etaAt: now + event.etaMs,
      prompt: view.prompt,
      buttons: cancel,
    };
  }
  if (event.type === 'started') {
    return { kind: 'status', jobId: view.jobId, phase: 'running', text: text(view.locale, 'status.starting', { role }), etaAt: now + event.etaMs, step: 0, prompt: view.prompt, buttons: cancel };
  }
  const line = event.step >= event.total ? text(view.locale, 'status.finishing', { role }) : text(view.locale, 'status.running', { role, step: event.step, total: event.total });
  return {
    kind: 'status',
    jobId: view.jobId,
    phase: 'running',
    text: `${line}  ${progressBar(event.step, event.total)}`,
    etaAt: now + event.etaMs,
    step: event.step,
    total: event.total,
    prompt: view.prompt,
    buttons: cancel,
  };
}

/** done → the result message: grid (or single image), notes, footer, buttons per delivered candidate. */
export function renderResult(result: JobResult, view: JobView): Reply {
  const { locale, jobId } = view;
  const meta = result.meta;
  const candidates: (ReplyImage | null)[] = result.images.map((image) =>
    image.png === null
      ? null
      : { name: `${jobId}-${image.index + 1}.png`, png: image.png, spoiler: image.spoiler, alt: image.prompt.slice(0, 900) },
  );
  const single = result.images.length === 1 ? candidates[0]! : null;
  const anySpoiler = result.images.some((i) => i.spoiler);
  const image: ReplyImage | null = result.grid
    ? { name: `${jobId}-grid.png`, png: result.grid, spoiler: anySpoiler, alt: view.prompt.slice(0, 900) }
    : single;
  const notes: string[] = [];
  // Say why: flagged by the filter, or not checked at all because the filter failed (fail closed).
  const unchecked = result.images.filter((i) => i.withheld && isUnchecked(i.verdict)).length;
  const flagged = result.images.filter((i) => i.withheld).length - unchecked;
  if (flagged > 0) notes.push(text(locale, 'result.withheld', { count: flagged, total: result.images.length }));
  if (unchecked > 0) notes.push(text(locale, 'result.unavailable', { count: unchecked, total: result.images.length }));
  if (anySpoiler) notes.push(text(locale, 'result.spoiler'));
  for (const cut of meta.truncated) notes.push(text(locale, 'result.truncated', { kept: cut.kept, tokens: cut.tokens }));
  const delivered = result.images.filter((i) => !i.withheld).map((i) => i.index);
  const votes = result.images.map((i) => view.votes?.[i.index] ?? 0);
  const seeds = result.images.length === 1 ? describeNoise(result.images[0]!.noise) : String(meta.seed);
  return {
    kind: 'result',
    jobId,
    parentId: view.parentId,
    prompt: view.prompt,
    text: text(locale, 'result.footer', {
      model: meta.model,
      seed: seeds,
      steps: meta.steps,
      guidance: meta.guidance,
      width: meta.width,
      height: meta.height,
      seconds: (meta.timings.wallMs / 1000).toFixed(1),
      job: jobId,
    }),
    notes,
    image,
    candidates,
    ...controls(locale, jobId, delivered, {
      upscale: delivered.length > 0 && view.canUpscale?.({ width: meta.width, height: meta.height }) === true,
      reroll: view.upscaled !== true,
      enhance: view.canEnhance === true,
      original: typeof view.enhancedFrom === 'string',
    }),
    votes,
    votesLine: votesLine(locale, votes),
    origin: view.origin ?? null,
    ...(typeof view.enhancedFrom === 'string' ? { enhanced: { original: view.enhancedFrom, line: text(locale, 'result.enhanced', { original: view.enhancedFrom }) } } : {}),
  };
}

const STORED = Buffer.alloc(0);

/**
 * A finished job's result drawn again from its journal record (its votes changed, a page reloaded): the words and
 * controls as they were, with `refresh` set and no images — only placeholders saying which candidates were shown.
 */
export function renderStoredResult(record: JobRecord, view: JobView): Extract<Reply, { kind: 'result' }> | undefined {
  const stored = record.result;
  if (record.status !== 'done' || !stored) return undefined;
  const { width, height } = stored.meta;
  const result: JobResult = {
    images: stored.images.map((image) => ({ ...image, png: image.withheld ? null : STORED, width, height })),
    grid: null,
    meta: stored.meta,
  };
  const reply = renderResult(result, view);
  return reply.kind === 'result' ? { ...reply, image: null, refresh: true } : undefined;
}

/**
 * A result's controls, read at a glance: one button per delivered candidate for the common action (Refine n), plus
 * Use my original prompt on an enhanced result, and one menu for the rest (Vary n subtle or strong, Upscale n where
 * an upscale model can run it, Enhance where the prompt assistant can, Reroll, Delete). Four candidates make 5
 * buttons and a menu of at most 15, within Discord's 25 options and Slack's 100; every id names its job, so all work
 * after a restart.
 */
function controls(
  locale: Locale,
  jobId: string,
  delivered: readonly number[],
  offer: { readonly upscale: boolean; readonly reroll: boolean; readonly enhance: boolean; readonly original: boolean },
): { buttons: ReplyButton[]; menu: ReplyMenu } {
  const option = (action: ButtonAction, index?: number): ReplyMenuOption => {
    const { id, label, ownerOnly } = button(locale, action, jobId, index);
    return { id, action, label, ownerOnly };
  };
  return {
    buttons: [...delivered.map((i) => button(locale, 'refine', jobId, i)), ...(offer.original ? [button(locale, 'original', jobId)] : [])],
    menu: {
      id: menuId(jobId),
      placeholder: text(locale, 'controls.more'),
      options: [
        ...delivered.flatMap((i) => [option('vary-subtle', i), option('vary-strong', i)]),
        ...(offer.upscale ? delivered.map((i) => option('upscale', i)) : []),
        ...(offer.enhance ? [option('enhance')] : []),
        ...(offer.reroll ? [option('reroll')] : []),
        option('delete'),
      ],
    },
  };
}

/** "Votes: #1 ×2 · #3 ×1", or null before anyone voted. */
function votesLine(locale: Locale, votes: readonly number[]): string | null {
  const parts = votes.flatMap((count, index) => (count > 0 ? [text(locale, 'result.votes.entry', { n: index + 1, count })] : []));
  return parts.length > 0 ? text(locale, 'result.votes', { votes: parts.join(' · ') }) : null;
}

/** The prompt assistant at work before the job exists: the card's first words. */
export function renderAssisting(locale: Locale, task: 'enhance' | 'describe', prompt: string): Reply {
  return { kind: 'assisting', task, text: text(locale, task === 'enhance' ? 'status.enhancing' : 'status.describing'), prompt };
}

/** Describe's prompts, each with a Draft button naming the stored set, and what the prompt filter withheld. */
export function renderSuggestions(locale: Locale, setId: string, prompts: readonly string[], withheld: number): Extract<Reply, { kind: 'suggestions' }> {
  return {
    kind: 'suggestions',
    setId,
    text: text(locale, 'describe.title'),
    prompts,
    buttons: prompts.map((_, i) => ({ ...button(locale, 'draft-suggestion', setId, i), style: i === 0 ? 'primary' : 'secondary' })),
    withheld,
    notes: withheld > 0 ? [text(locale, 'describe.withheld', { n: withheld })] : [],
  };
}

/** blocked / failed / cancelled → one closing line. */
export function renderFinal(event: Extract<JobEvent, { type: 'blocked' | 'failed' | 'cancelled' }>, view: JobView): Reply {
  if (event.type === 'blocked') {
    const unchecked = event.result.images.length > 0 && event.result.images.every((i) => isUnchecked(i.verdict));
    return { kind: 'final', jobId: view.jobId, outcome: 'blocked', text: text(view.locale, unchecked ? 'done.unavailable' : 'done.blocked') };
  }
  if (event.type === 'cancelled') return { kind: 'final', jobId: view.jobId, outcome: 'cancelled', text: text(view.locale, 'done.cancelled') };
  return { kind: 'final', jobId: view.jobId, outcome: 'failed', text: text(view.locale, 'done.failed', { reason: errorText(view.locale, event.error) }) };
}

const isUnchecked = (verdict: ModerationVerdict): boolean => verdict.flagged && verdict.reason === 'unavailable';
