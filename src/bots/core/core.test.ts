import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeEngine } from '../../../test/support/fakes.ts';
import type { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../logging.ts';
import { commandFromButton } from './buttons.ts';
import type { Actor, Place } from './command.ts';
import { BotCore, type CoreOutcome } from './core.ts';
import type { Reply } from './reply.ts';

const alice: Actor = { platform: 'test', userId: 'alice', name: 'Alice', locale: 'en' };
const bob: Actor = { platform: 'test', userId: 'bob', locale: 'zh-CN' };
const place: Place = { platform: 'test', channelId: 'c1', channelIsNsfw: false };

const engines: Engine[] = [];
afterEach(async () => Promise.all(engines.splice(0).map((e) => e.shutdown())));

async function setup(): Promise<{ core: BotCore; engine: Engine }> {
  const engine = await startFakeEngine({ stepMs: 5 });
  engines.push(engine);
  return { engine, core: new BotCore({ engine, policyFor: () => 'block', log: createLogger('silent'), statusIntervalMs: 0 }) };
}

async function finished(outcome: CoreOutcome): Promise<void> {
  if (outcome.kind !== 'queued') throw new Error(`expected queued, got ${outcome.kind}`);
  await outcome.finished;
}

function collect(): { replies: Reply[]; sink: (r: Reply) => Promise<void> } {
  const replies: Reply[] = [];
  return { replies, sink: async (r) => void replies.push(r) };
}

describe('BotCore', () => {
  it('drafts from inline flags and renders status, progress and a result with buttons', async () => {
    const { core } = await setup();
    const { replies, sink } = collect();
    const outcome = await core.run({ kind: 'draft', text: 'a red fox --seed 42 --count 2' }, alice, place, sink);
    await finished(outcome);
    const kinds = replies.map((r) => r.kind);
    expect(kinds[0]).toBe('status');
    expect(kinds.at(-1)).toBe('result');
    const result = replies.at(-1)!;
    if (result.kind !== 'result') return;
    expect(result.text).toMatch(/fake · seed 42 · 8 steps · 64×64 · [\d.]+ s · job /);
    expect(result.buttonRows.map((row) => row.map((b) => b.label))).toEqual([
      ['Refine 1', 'Refine 2'],
      ['Vary 1 · subtle', 'Vary 2 · subtle'],
      ['Vary 1 · strong', 'Vary 2 · strong'],
      ['Reroll', 'Delete'],
    ]);
    expect(result.image?.name).toMatch(/-grid\.png$/);
    expect(result.candidates).toHaveLength(2);
    const statuses = replies.filter((r) => r.kind === 'status');
    expect(statuses.some((s) => s.kind === 'status' && s.phase === 'running' && /step \d\/8/.test(s.text))).toBe(true);
  });

  it('refuses bad input with one message in the user’s language and queues nothing', async () => {
    const { core, engine } = await setup();
    expect(core.precheck({ kind: 'draft', text: 'x --sed 1' }, alice)).toEqual({ kind: 'error', text: expect.stringContaining("I don't know the option --sed") });
    const outcome = await core.run({ kind: 'draft', text: '   --seed 3' }, bob, place, async () => {});
    expect(outcome).toMatchObject({ kind: 'refused', reply: { kind: 'error', text: '请告诉我要画什么：提示词是空的。' } });
    expect(engine.journal.recent(5)).toEqual([]);
  });

  it('turns buttons into jobs charged to whoever pressed them, linked to their parent', async () => {
    const { core, engine } = await setup();
    const first = await core.run({ kind: 'draft', text: 'a cat --count 2 --seed 5' }, alice, place, async () => {});
    await finished(first);
    const parent = first.kind === 'queued' ? first.jobId : '';

    const vary = await core.run(commandFromButton(`z:vary-subtle:${parent}:1`)!, bob, place, async () => {});
    await finished(vary);
    const varyRecord = engine.journal.get(vary.kind === 'queued' ? vary.jobId : '')!;
    expect(varyRecord.owner.userId).toBe('bob');
    expect(varyRecord.parentId).toBe(parent);
    expect(varyRecord.spec.candidates[0]!.noise).toMatchObject({ base: { seed: 6 }, t: 0.25 });

    const refine = await core.run(commandFromButton(`z:refine:${parent}:0`)!, bob, place, async () => {});
    await finished(refine);
    const refineRecord = engine.journal.get(refine.kind === 'queued' ? refine.jobId : '')!;
    expect(refineRecord.role).toBe('refine');
    expect(refineRecord.spec.image).toMatch(/outputs/);
    expect(refineRecord.spec.userPrompt).toBe('a cat');

    const reroll = await core.run(commandFromButton(`z:reroll:${parent}`)!, alice, place, async () => {});
    await finished(reroll);
    const rerollRecord = engine.journal.get(reroll.kind === 'queued' ? reroll.jobId : '')!;
    expect(rerollRecord.spec.userPrompt).toBe('a cat');
    expect(rerollRecord.spec.candidates).toHaveLength(2);
    expect(rerollRecord.spec.seed).not.toBe(5);
  });

  it('keeps cancel and delete with the owner', async () => {
    const { core } = await setup();
    const job = await core.run({ kind: 'draft', text: 'slow [step=40] --steps 16' }, alice, place, async () => {});
    if (job.kind !== 'queued') throw new Error(job.kind);
    expect(await core.run({ kind: 'cancel', jobId: job.jobId }, bob, place, async () => {})).toMatchObject({ kind: 'refused', reply: { text: expect.stringContaining('只有发起此任务的人') } });
    expect(await core.run({ kind: 'cancel', jobId: job.jobId }, alice, place, async () => {})).toEqual({ kind: 'cancelled', jobId: job.jobId });
    await job.finished;
    expect(await core.run({ kind: 'delete', jobId: job.jobId }, { ...bob, isAdmin: true }, place, async () => {})).toMatchObject({ kind: 'delete' });
  });

  it('refines the latest draft in the channel when no image is given, and says so when there is none', async () => {
    const { core, engine } = await setup();
    const none = await core.run({ kind: 'refine' }, alice, place, async () => {});
    expect(none).toMatchObject({ kind: 'refused', reply: { text: expect.stringContaining('no draft of yours in this channel') } });
    const draft = await core.run({ kind: 'draft', text: 'a fox --count 1' }, alice, place, async () => {});
    await finished(draft);
    const refine = await core.run({ kind: 'refine' }, alice, place, async () => {});
    await finished(refine);
    expect(engine.journal.get(refine.kind === 'queued' ? refine.jobId : '')!.parentId).toBe(draft.kind === 'queued' ? draft.jobId : '');
  });

  it('edits an uploaded image of ours by combining its prompt with the instruction', async () => {
    const { core, engine } = await setup();
    const draft = await core.run({ kind: 'draft', text: 'a blue house --count 1' }, alice, place, async () => {});
    if (draft.kind !== 'queued') throw new Error(draft.kind);
    const end = await draft.handle.settled;
    const png = end.type === 'done' ? end.result.images[0]!.png! : Buffer.alloc(0);
    const edit = await core.run({ kind: 'edit', text: 'make the door red --region left', image: { bytes: png } }, bob, place, async () => {});
    await finished(edit);
    const record = engine.journal.get(edit.kind === 'queued' ? edit.jobId : '')!;
    expect(record.spec.userPrompt).toBe('a blue house, make the door red');
    expect(record.spec.mask).toMatchObject({ kind: 'region', region: { x: 0, w: 0.5 } });
    const plain = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#888' } }).png().toBuffer();
    const other = await core.run({ kind: 'edit', text: 'add a hat', image: { bytes: plain } }, bob, place, async () => {});
    await finished(other);
    expect(engine.journal.get(other.kind === 'queued' ? other.jobId : '')!.spec.userPrompt).toBe('add a hat');
  });
});
