import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeEngine, testConfig } from '../../../test/support/fakes.ts';
import type { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../logging.ts';
import { commandFromButton } from './buttons.ts';
import type { Actor, CommandRequest, JobCommand, Place } from './command.ts';
import { BotCore } from './core.ts';
import { runCommand, type ChatPort, type CommandOutcome } from './flow.ts';
import type { Reply } from './reply.ts';
import { errorText } from './texts.ts';

const alice: Actor = { platform: 'test', userId: 'alice', name: 'Alice', locale: 'en' };
const bob: Actor = { platform: 'test', userId: 'bob', locale: 'zh-CN' };
const place: Place = { platform: 'test', channelId: 'c1', channelIsNsfw: false };
const log = createLogger('silent');

const engines: Engine[] = [];
afterEach(async () => Promise.all(engines.splice(0).map((e) => e.shutdown())));

async function setup(): Promise<{ core: BotCore; engine: Engine }> {
  const engine = await startFakeEngine({ stepMs: 5 });
  engines.push(engine);
  return { engine, core: new BotCore({ engine, policyFor: () => 'block', log, statusIntervalMs: 0 }) };
}

/** A port that records what a platform would have shown: refusals, the card's opening, the job's replies. */
function recordingPort(): { port: ChatPort<string>; said: string[]; opened: string[]; replies: Reply[] } {
  const said: string[] = [];
  const opened: string[] = [];
  const replies: Reply[] = [];
  const port: ChatPort<string> = {
    refuse: async (text) => void said.push(text),
    retract: async (text) => void said.push(`retracted: ${text}`),
    open: async (shown) => {
      opened.push(shown.prompt);
      return 'card';
    },
    sink: () => async (reply) => void replies.push(reply),
  };
  return { port, said, opened, replies };
}

async function run(core: BotCore, command: JobCommand, actor: Actor): Promise<CommandOutcome & { said: string[]; replies: Reply[] }> {
  const { port, said, replies } = recordingPort();
  const outcome = await runCommand(core, port, command, { actor, place }, log);
  return { ...outcome, said, replies };
}

async function queued(outcome: CommandOutcome): Promise<string> {
  if (outcome.kind !== 'queued') throw new Error(`expected queued, got ${outcome.kind}: ${outcome.error.code}`);
  await outcome.finished;
  return outcome.handle.id;
}

describe('BotCore', () => {
  it('drafts from inline flags and renders status, progress and a result with buttons', async () => {
    const { core } = await setup();
    const outcome = await run(core, { kind: 'draft', text: 'a red fox --seed 42 --count 2' }, alice);
    await queued(outcome);
    const { replies } = outcome;
    const kinds = replies.map((r) => r.kind);
    expect(kinds[0]).toBe('status');
    expect(kinds.at(-1)).toBe('result');
    const result = replies.at(-1)!;
    if (result.kind !== 'result') return;
    expect(result.text).toMatch(/fake · seed 42 · 8 steps · 64×64 · [\d.]+ s · job /);
    // One button per candidate for the common action, everything else in one menu.
    expect(result.buttons.map((b) => b.label)).toEqual(['Refine 1', 'Refine 2']);
    expect(result.menu?.options.map((o) => o.label)).toEqual(['Vary 1 · subtle', 'Vary 1 · strong', 'Vary 2 · subtle', 'Vary 2 · strong', 'Reroll', 'Delete']);
    expect(result.votes).toEqual([0, 0]);
    expect(result.votesLine).toBeNull();
    expect(result.image?.name).toMatch(/-grid\.png$/);
    expect(result.candidates).toHaveLength(2);
    const statuses = replies.filter((r) => r.kind === 'status');
    expect(statuses.some((s) => s.kind === 'status' && s.phase === 'running' && /step \d\/8/.test(s.text))).toBe(true);
  });

  it('refuses bad input with one message in the user’s language, at the first step that can tell, and queues nothing', async () => {
    const { core, engine } = await setup();
    const parsed = core.parse({ kind: 'draft', text: 'x --sed 1' });
    expect(parsed.ok ? 'accepted' : errorText('en', parsed.error)).toContain("I don't know the option --sed");
    const { port, said, opened } = recordingPort();
    const outcome = await runCommand(core, port, { kind: 'draft', text: '   --seed 3' }, { actor: bob, place }, log);
    expect(outcome).toMatchObject({ kind: 'refused', error: { code: 'empty-prompt' } });
    expect(said).toEqual(['请告诉我要画什么：提示词是空的。']);
    expect(opened).toEqual([]);
    expect(engine.history.recent({ limit: 5 })).toEqual([]);
  });

  it('refuses while paused and takes jobs again after resume', async () => {
    const { core } = await setup();
    core.pause();
    const paused = await run(core, { kind: 'draft', text: 'a fox' }, alice);
    expect(paused).toMatchObject({ kind: 'refused', error: { code: 'shutting-down' }, said: ['The bot is restarting. Try again in a minute.'] });
    core.resume();
    await queued(await run(core, { kind: 'draft', text: 'a fox --count 1' }, alice));
  });

  it('shows the prompt the job will carry before it is queued (a refine of a draft shows the draft’s prompt)', async () => {
    const { core } = await setup();
    const draft = await queued(await run(core, { kind: 'draft', text: 'a tall lighthouse --count 1 --seed 3' }, alice));
    const { port, opened } = recordingPort();
    await queued(await runCommand(core, port, commandFromButton(`z:refine:${draft}:0`)! as JobCommand, { actor: bob, place }, log));
    expect(opened).toEqual(['a tall lighthouse']);
  });

  it('turns buttons into jobs charged to whoever pressed them, linked to their parent', async () => {
    const { core, engine } = await setup();
    const parent = await queued(await run(core, { kind: 'draft', text: 'a cat --count 2 --seed 5' }, alice));
    const press = (id: string): JobCommand => commandFromButton(id) as JobCommand;

    const vary = await queued(await run(core, press(`z:vary-subtle:${parent}:1`), bob));
    const varyRecord = engine.history.get(vary)!;
    expect(varyRecord.owner.userId).toBe('bob');
    expect(varyRecord.parentId).toBe(parent);
    expect(varyRecord.spec.candidates[0]!.noise).toMatchObject({ base: { seed: 6 }, t: 0.25 });

    const refine = await queued(await run(core, press(`z:refine:${parent}:0`), bob));
    const refineRecord = engine.history.get(refine)!;
    expect(refineRecord.role).toBe('refine');
    expect(refineRecord.spec.image).toMatch(/outputs/);
    expect(refineRecord.spec.userPrompt).toBe('a cat');

    const reroll = await queued(await run(core, press(`z:reroll:${parent}`), alice));
    const rerollRecord = engine.history.get(reroll)!;
    expect(rerollRecord.spec.userPrompt).toBe('a cat');
    expect(rerollRecord.spec.candidates).toHaveLength(2);
    expect(rerollRecord.spec.seed).not.toBe(5);
  });

  it('turns Upscale n into an upscale of that candidate, refused with the reason where nothing can run it, queueing nothing', async () => {
    const { core, engine } = await setup();
    const parent = await queued(await run(core, { kind: 'draft', text: 'a cat --count 2 --seed 5' }, alice));
    const press = commandFromButton(`z:upscale:${parent}:1`) as JobCommand;
    expect(press).toEqual({ kind: 'upscale', jobId: parent, index: 1 });
    const en = await run(core, press, alice);
    expect(en.kind).toBe('refused');
    expect(en.said).toEqual([
      'No image server can upscale right now: no upscale workflow is configured (comfyui.workflows.upscale, on a ComfyUI server with an upscale model); the local ONNX model has no upscale model',
    ]);
    const zh = await run(core, press, bob);
    expect(zh.said[0]).toMatch(/^现在没有图像服务器能放大图片：no upscale workflow is configured/);
    expect((await run(core, { kind: 'upscale', jobId: 'gone0000', index: 0 }, alice)).said).toEqual([errorText('en', { code: 'expired-button' })]);
    expect(engine.history.recent({ limit: 10 }).map((r) => r.id)).toEqual([parent]);
  });

  it('keeps cancel and delete with the owner', async () => {
    const { core } = await setup();
    const job = await run(core, { kind: 'draft', text: 'slow [step=40] --steps 16' }, alice);
    if (job.kind !== 'queued') throw new Error(job.kind);
    const refused = core.cancel(job.handle.id, { actor: bob, place });
    expect(refused.ok ? 'cancelled' : errorText(bob.locale, refused.error)).toContain('只有发起此任务的人');
    expect(core.cancel(job.handle.id, { actor: alice, place })).toMatchObject({ ok: true, value: { id: job.handle.id } });
    await job.finished;
    expect((await job.handle.settled).type).toBe('cancelled');
    expect(core.delete(job.handle.id, { actor: bob, place })).toMatchObject({ ok: false, error: { code: 'not-owner' } });
    expect(core.delete(job.handle.id, { actor: { ...bob, isAdmin: true }, place })).toMatchObject({ ok: true, value: { id: job.handle.id } });
    // An admin of another workspace is nobody here.
    const elsewhere = { actor: { ...bob, isAdmin: true }, place: { ...place, guildId: 'other-guild' } };
    expect(core.delete(job.handle.id, elsewhere)).toMatchObject({ ok: false, error: { code: 'not-owner' } });
    expect(core.cancel(job.handle.id, elsewhere)).toMatchObject({ ok: false, error: { code: 'not-owner' } });
  });

  it('refines the latest draft in the channel when no image is given, and says so when there is none', async () => {
    const { core, engine } = await setup();
    const none = await run(core, { kind: 'refine' }, alice);
    expect(none.said).toEqual([expect.stringContaining('no draft of yours in this channel')]);
    const draft = await queued(await run(core, { kind: 'draft', text: 'a fox --count 1' }, alice));
    const refine = await queued(await run(core, { kind: 'refine' }, alice));
    expect(engine.history.get(refine)!.parentId).toBe(draft);
    // Another channel has no draft of alice's.
    const elsewhere = await runCommand(core, recordingPort().port, { kind: 'refine' }, { actor: alice, place: { ...place, channelId: 'c2' } }, log);
    expect(elsewhere).toMatchObject({ kind: 'refused', error: { code: 'no-draft' } });
  });

  it('edits the newest image of the asker in the channel when an edit names none', async () => {
    const { core, engine } = await setup();
    expect(await run(core, { kind: 'edit', text: 'make it blue' }, alice)).toMatchObject({ kind: 'refused', error: { code: 'no-image' } });
    const draft = await queued(await run(core, { kind: 'draft', text: 'a red barn --count 1' }, alice));
    const edit = await queued(await run(core, { kind: 'edit', text: 'make it blue' }, alice));
    expect(engine.history.get(edit)).toMatchObject({ parentId: draft, spec: { userPrompt: 'a red barn, make it blue' } });
  });

  it('edits an uploaded image of ours by combining its prompt with the instruction', async () => {
    const { core, engine } = await setup();
    const draft = await run(core, { kind: 'draft', text: 'a blue house --count 1' }, alice);
    if (draft.kind !== 'queued') throw new Error(draft.kind);
    const end = await draft.handle.settled;
    const png = end.type === 'done' ? end.result.images[0]!.png! : Buffer.alloc(0);
    const edit = await queued(await run(core, { kind: 'edit', text: 'make the door red --region left', image: { bytes: png } }, bob));
    const record = engine.history.get(edit)!;
    expect(record.spec.userPrompt).toBe('a blue house, make the door red');
    expect(record.spec.mask).toMatchObject({ kind: 'region', region: { x: 0, w: 0.5 } });
    const plain = await sharp({ create: { width: 40, height: 40, channels: 3, background: '#888' } }).png().toBuffer();
    const other = await queued(await run(core, { kind: 'edit', text: 'add a hat', image: { bytes: plain } }, bob));
    expect(engine.history.get(other)!.spec.userPrompt).toBe('add a hat');
  });

  it('takes the card back when the engine refuses at the last moment (the caps filled while it was shown)', async () => {
    // The first job runs for at least 16 × 200 ms: long enough that the second one is still waiting, however slow the machine.
    const engine = await startFakeEngine({ config: testConfig({ queue: { maxWaitingPerUser: 1, updateIntervalMs: 0 } }), stepMs: 200 });
    engines.push(engine);
    const core = new BotCore({ engine, policyFor: () => 'block', log, statusIntervalMs: 0 });
    const running = await run(core, { kind: 'draft', text: 'first --count 1 --steps 16' }, alice);
    if (running.kind !== 'queued') throw new Error(running.kind);
    await new Promise<void>((resolve) => running.handle.subscribe((e) => e.type === 'started' && resolve()));
    const { port, said, opened } = recordingPort();
    const racing: ChatPort<string> = {
      ...port,
      open: async (shown) => {
        // Another command of alice's is queued while this one's card is being posted.
        expect(await run(core, { kind: 'draft', text: 'second --count 1' }, alice)).toMatchObject({ kind: 'queued' });
        return port.open(shown);
      },
    };
    const late = await runCommand(core, racing, { kind: 'draft', text: 'third --count 1' }, { actor: alice, place }, log);
    expect(late).toMatchObject({ kind: 'refused', error: { code: 'user-queue-full' } });
    expect(opened).toEqual(['third']);
    expect(said).toEqual(['retracted: You already have 1 jobs waiting. Let one start first.']);
    running.handle.cancel();
  });

  it('refuses an attachment from a host outside the fetch policy before anything is shown', async () => {
    const { core } = await setup();
    const { port, said, opened } = recordingPort();
    const policed: ChatPort<string> = { ...port, fetchPolicy: { allowedHosts: ['cdn.example'], maxBytes: 1000 } };
    const command = { kind: 'edit', text: 'x', image: { url: 'https://evil.example/a.png', declaredBytes: 10 } } as const;
    expect(await runCommand(core, policed, command, { actor: alice, place }, log)).toMatchObject({ kind: 'refused', error: { code: 'attachment-host' } });
    const big = { kind: 'edit', text: 'x', image: { url: 'https://cdn.example/a.png', declaredBytes: 5000 } } as const;
    expect(await runCommand(core, policed, big, { actor: alice, place }, log)).toMatchObject({ kind: 'refused', error: { code: 'attachment-too-large' } });
    expect(said).toHaveLength(2);
    expect(opened).toEqual([]);
  });
});
