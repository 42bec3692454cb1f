import type { JobHistory, JobRecord } from '../../engine/history.ts';
import type { Locale } from './command.ts';
import { text } from './texts.ts';

/** What made a result from its parent, for the line that links to the parent. */
export interface Origin {
  readonly action: 'refine' | 'edit' | 'vary' | 'upscale' | 'reroll' | 'enhance' | 'original';
  readonly parentId: string;
  /** The parent's candidate (0-based); null for the whole result (a reroll, an edit of every candidate). */
  readonly parentIndex: number | null;
}

/** A job's origin, from its journal record; null for a job made from nothing of ours (a draft, an upload). */
export function originOf(record: Pick<JobRecord, 'action' | 'parentId' | 'parentIndex' | 'role'>): Origin | null {
  if (record.parentId === null) return null;
  // Jobs from before lineage was recorded: a draft with a parent was a vary, the rest were their role.
  const action = record.action ?? (record.role === 'draft' ? 'vary' : record.role);
  if (action === 'draft') return null;
  return { action, parentId: record.parentId, parentIndex: record.parentIndex };
}

/**
 * "Varied from #2 of {parent}": the platform supplies {parent}, a link to the parent's message in its own markup
 * (a Discord message link, a Slack permalink, the studio's anchor), or plain text where it has none.
 */
export function originText(locale: Locale, origin: Origin, parent: string): string {
  const from = origin.parentIndex === null ? 'whole' : 'one';
  return text(locale, `origin.${origin.action}.${from}`, { n: (origin.parentIndex ?? 0) + 1, parent });
}

/** The ancestors of a job, from the first one down to the job itself (a missing parent ends the walk). */
export function chainOf(history: JobHistory, jobId: string): JobRecord[] {
  const chain: JobRecord[] = [];
  const seen = new Set<string>();
  for (let record = history.get(jobId); record && !seen.has(record.id); record = record.parentId ? history.get(record.parentId) : undefined) {
    seen.add(record.id);
    chain.unshift(record);
  }
  return chain;
}

/** A chain as lines for a terminal or a chat message: each step, its action, who, and its prompt. */
export function renderChain(locale: Locale, chain: readonly JobRecord[]): string[] {
  return chain.map((record, depth) => {
    const origin = originOf(record);
    const what = origin ? originText(locale, origin, record.parentId ?? '') : text(locale, 'lineage.start', { role: record.role });
    const line = text(locale, 'lineage.step', {
      job: record.id,
      what,
      by: record.owner.name ?? record.owner.userId,
      status: record.status,
      prompt: record.spec.userPrompt.replace(/\s+/g, ' ').trim().slice(0, 120),
    });
    return depth === 0 ? line : `${'  '.repeat(depth - 1)}└ ${line}`;
  });
}
