import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeOpenAI } from '../../../test/support/fake-openai.ts';
import { startFakeEngine, testConfig } from '../../../test/support/fakes.ts';
import { Assistant } from '../../assistant/assistant.ts';
import type { Config } from '../../config/schema.ts';
import type { DeepPartial } from '../../config/load.ts';
import type { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../logging.ts';
import { createPromptFilter } from '../../moderation/prompt-filter.ts';
import { commandFromButton } from './buttons.ts';
import type { Actor, JobCommand, Place } from './command.ts';
import { BotCore, readDelivery } from './core.ts';
import { isPromptMatrix } from './assistant.ts';
import { runCommand, runDescribe, type ChatPort } from './flow.ts';
import type { Reply } from './reply.ts';
import { parseSettingsText } from './settings.ts';

const alice: Actor = { platform: 'test', userId: 'alice', name: 'Alice', locale: 'en' };
const bob: Actor = { platform: 'test', userId: 'bob', locale: 'zh-CN' };
const place: Place = { platform: 'test', channelId: 'c1', channelIsNsfw: false };
const log = createLogger('silent');
const ENHANCED_TAIL = 'shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.';

const engines: Engine[] = [];
const fakes: FakeOpenAI[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

/** A core on the fake engine, with an assistant pointed at a fake OpenAI-compatible server (or none). */
async function setup(options: { assistant?: boolean; config?: DeepPartial<Config['assistant']> } = {}): Promise<{ core: BotCore; engine: Engine; fake: FakeOpenAI }> {
  const fake = await FakeOpenAI.start();
  fakes.push(fake);
  const engine = await startFakeEngine({ stepMs: 2 });
  engines.push(engine);
  const config = testConfig({ assistant: options.assistant === false ? {} : { url: fake.url, model: 'fake-model', ...options.config } } as DeepPartial<Config>);
  const assistant = new Assistant({ config, env: {}, promptFilter: createPromptFilter(config.moderation), log });
  return { engine, fake, core: new BotCore({ engine, policyFor: () => 'block', log, statusIntervalMs: 0, assistant }) };
}

/** What a platform would have shown: refusals, the card's opening, its replies in order. */
function recordingPort(): { port: ChatPort<string>; said: string[]; opened: string[]; replies: Reply[] } {
  const said: string[] = [];
  const opened: string[] = [];
  const replies: Reply[] = [];
  const port: ChatPort<string> = {
    refuse: async (text) => void said.push(text),
    retract: async (text, delivery) => void said.push(`retracted${delivery ? ' card' : ''}: ${text}`),
    open: async (shown) => {
      opened.push(shown.task ?? shown.prompt);
      return 'card';
    },
    sink: () => async (reply) => void replies.push(reply),
  };
  return { port, said, opened, replies };
}

async function run(core: BotCore, command: JobCommand, actor = alice): Promise<ReturnType<typeof recordingPort> & { jobId: string | null }> {
  const recorded = recordingPort();
  const outcome = await runCommand(core, recorded.port, command, { actor, place }, log);
  if (outcome.kind === 'queued') await outcome.finished;
  return { ...recorded, jobId: outcome.kind === 'queued' ? outcome.handle.id : null };
}

const resultOf = (replies: readonly Reply[]): Extract<Reply, { kind: 'result' }> => {
  const last = replies.at(-1);
  if (last?.kind !== 'result') throw new Error(`expected a result, got ${last?.kind}`);
  return last;
};

const png = (background: string): Promise<Buffer> => sharp({ create: { width: 96, height: 64, channels: 3, background } }).png().toBuffer();

describe('isPromptMatrix', () => {
  it('tells a matrix (or a malformed one) from one prompt without expanding it', () => {
    expect(isPromptMatrix('a red fox')).toBe(false);
    expect(isPromptMatrix('a {red} fox')).toBe(false);
    expect(isPromptMatrix('a {red|blue} fox')).toBe(true);
    expect(isPromptMatrix('a ｛red｜blue｝ fox')).toBe(true);
    expect(isPromptMatrix('a {red|} fox')).toBe(true);
    // 2^60 prompts if expanded: answered at once, where a full expansion would never finish (or run out of memory).
    expect(isPromptMatrix(`a fox ${'{a|b}'.repeat(60)}`)).toBe(true);
  });
});

describe('the prompt assistant in the core', () => {
  it('without an assistant: --enhance, Enhance and describe are refused with the setup sentence, and results offer no Enhance', async () => {
    const { core, engine, fake } = await setup({ assistant: false });
    expect(core.assistant.configured).toBe(false);
    const refused = await run(core, { kind: 'draft', text: 'a red fox --enhance' });
    expect(refused.jobId).toBeNull();
    expect(refused.said).toEqual(['The prompt assistant is not set up on this bot. An admin can turn it on with ASSISTANT_URL and ASSISTANT_MODEL (docs/assistant.md).']);
    expect(refused.opened).toEqual([]);
    expect(engine.stats().waiting + engine.stats().running).toBe(0);

    const plain = await run(core, { kind: 'draft', text: 'a red fox --seed 3' });
    const result = resultOf(plain.replies);
    expect(result.menu!.options.map((o) => o.id)).not.toContain(`z:enhance:${plain.jobId}`);
    expect(result.enhanced).toBeUndefined();
    const pressed = await run(core, { kind: 'enhance', jobId: plain.jobId! }, bob);
    expect(pressed.said).toEqual(['这个机器人还没有配置提示词助手。管理员可以设置 ASSISTANT_URL 和 ASSISTANT_MODEL 来启用它（见 docs/assistant.md）。']);

    const described = recordingPort();
    expect(await runDescribe(core, described.port, { bytes: await png('#2050d0') }, { actor: alice, place }, log)).toMatchObject({ kind: 'refused', error: { code: 'assistant-not-configured' } });
    expect(described.opened).toEqual([]);
    expect(fake.requests).toHaveLength(0);
  });

  it('--enhance opens the card on "Enhancing the prompt…" before any job exists, then drafts the rewrite and keeps the original', async () => {
    const { core, engine, fake } = await setup();
    fake.hold();
    const recorded = recordingPort();
    const running = runCommand(core, recorded.port, { kind: 'draft', text: 'a red fox --enhance --seed 42 --count 2' }, { actor: alice, place }, log);
    await fake.whenInFlight(1);
    // The card is open on the assistant's status, with the user's words (flags off); nothing is queued yet.
    expect(recorded.opened).toEqual(['a red fox']);
    expect(recorded.replies).toEqual([{ kind: 'assisting', task: 'enhance', text: 'Enhancing the prompt…', prompt: 'a red fox' }]);
    expect(engine.stats().waiting + engine.stats().running).toBe(0);
    expect(fake.requests[0]!.texts).toEqual(['a red fox']);
    fake.release();
    const outcome = await running;
    if (outcome.kind !== 'queued') throw new Error(outcome.error.code);
    await outcome.finished;

    const enhanced = `a red fox, ${ENHANCED_TAIL}`;
    const statuses = recorded.replies.filter((r) => r.kind === 'status');
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.kind === 'status' && s.prompt === enhanced)).toBe(true);
    const result = resultOf(recorded.replies);
    const jobId = outcome.handle.id;
    expect(result.prompt).toBe(enhanced);
    expect(result.enhanced).toEqual({ original: 'a red fox', line: 'Enhanced from your prompt: “a red fox”' });
    expect(result.buttons.map((b) => [b.id, b.label])).toEqual([
      [`z:refine:${jobId}:0`, 'Refine 1'],
      [`z:refine:${jobId}:1`, 'Refine 2'],
      [`z:original:${jobId}`, 'Use my original prompt'],
    ]);
    expect(result.menu!.options.map((o) => o.label)).toEqual(['Vary 1 · subtle', 'Vary 1 · strong', 'Vary 2 · subtle', 'Vary 2 · strong', 'Enhance', 'Reroll', 'Delete']);
    const record = core.history.get(jobId)!;
    expect(record.spec).toMatchObject({ userPrompt: enhanced, seed: 42 });
    expect(readDelivery(record).enhancedFrom).toBe('a red fox');
    // The same words and controls when the result is drawn again from the journal (a vote came in).
    expect(core.team.storedResult(jobId)).toMatchObject({ enhanced: result.enhanced, buttons: result.buttons, menu: result.menu });

    // Use my original prompt: one press drafts the original with the same settings and seed.
    const original = await run(core, commandFromButton(`z:original:${jobId}`) as JobCommand, bob);
    const back = core.history.get(original.jobId!)!;
    expect(back).toMatchObject({ role: 'draft', action: 'original', parentId: jobId, owner: { userId: 'bob' } });
    expect(back.spec).toMatchObject({ userPrompt: 'a red fox', seed: 42, width: record.spec.width, height: record.spec.height });
    expect(back.spec.candidates.map((c) => c.noise)).toEqual(record.spec.candidates.map((c) => c.noise));
    const backResult = resultOf(original.replies);
    expect(backResult.enhanced).toBeUndefined();
    expect(backResult.buttons.map((b) => b.action)).toEqual(['refine', 'refine']);
    expect(backResult.origin).toEqual({ action: 'original', parentId: jobId, parentIndex: null });
  });

  it('Enhance on a result rewrites its prompt (an enhanced one’s original) and drafts it with the result’s settings', async () => {
    const { core, fake } = await setup();
    const plain = await run(core, { kind: 'draft', text: 'a blue owl --seed 9 --ar 16:9' });
    const menu = resultOf(plain.replies).menu!.options.map((o) => o.id);
    expect(menu).toContain(`z:enhance:${plain.jobId}`);

    const enhanced = await run(core, { kind: 'enhance', jobId: plain.jobId! });
    expect(enhanced.opened).toEqual(['a blue owl']);
    expect(enhanced.replies[0]).toMatchObject({ kind: 'assisting', text: 'Enhancing the prompt…', prompt: 'a blue owl' });
    const record = core.history.get(enhanced.jobId!)!;
    const parent = core.history.get(plain.jobId!)!;
    expect(record).toMatchObject({ action: 'enhance', parentId: plain.jobId });
    expect(record.spec).toMatchObject({ userPrompt: `a blue owl, ${ENHANCED_TAIL}`, seed: 9, width: parent.spec.width, height: parent.spec.height });
    expect(resultOf(enhanced.replies).origin).toEqual({ action: 'enhance', parentId: plain.jobId, parentIndex: null });

    // Enhancing the enhanced result starts again from the user's words, not from the rewrite.
    await run(core, { kind: 'enhance', jobId: enhanced.jobId! });
    expect(fake.requests.map((r) => r.texts.at(-1))).toEqual(['a blue owl', 'a blue owl']);
  });

  it('a prompt matrix is never enhanced: --enhance is refused and its results offer no Enhance', async () => {
    const { core, fake } = await setup();
    const refused = await run(core, { kind: 'draft', text: 'a {red|blue} fox --enhance' });
    expect(refused.said).toEqual(['--enhance rewrites one prompt, and a prompt matrix {a|b} makes several. Use one or the other.']);
    const matrix = await run(core, { kind: 'draft', text: 'a {red|blue} fox' });
    expect(resultOf(matrix.replies).menu!.options.map((o) => o.action)).not.toContain('enhance');
    expect(fake.requests).toHaveLength(0);
  });

  it('a failed rewrite takes the card back and says why; bad flags are refused before the assistant is asked', async () => {
    const { core, engine, fake } = await setup();
    fake.mode = { kind: 'error', status: 503, message: 'model is loading' };
    const failed = await run(core, { kind: 'draft', text: 'a red fox --enhance' });
    expect(failed.jobId).toBeNull();
    expect(failed.replies.map((r) => r.kind)).toEqual(['assisting']);
    expect(failed.said).toEqual(['retracted card: The prompt assistant answered with an error (HTTP 503: model is loading).']);
    expect(engine.stats().waiting + engine.stats().running).toBe(0);
    expect(core.history.recent({ limit: 10 })).toEqual([]);

    fake.mode = { kind: 'normal' };
    const bad = await run(core, { kind: 'draft', text: 'a red fox --enhance --ar 99:1' });
    expect(bad.opened).toEqual([]);
    expect(bad.said).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
  });

  it('shutdown ends a rewrite and a describe the assistant is at: each card is taken back, its asker told in their language, before close() returns', async () => {
    const { core, engine, fake } = await setup({ config: { enhanceTimeoutMs: 600_000, describeTimeoutMs: 600_000 } });
    fake.hold();
    const enhancing = recordingPort();
    const describing = recordingPort();
    // Taking a card back is a platform call: close() must wait for it, not merely for the assistant's calls.
    for (const recorded of [enhancing, describing]) {
      const retract = recorded.port.retract;
      recorded.port.retract = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        await retract(...args);
      };
    }
    const command = runCommand(core, enhancing.port, { kind: 'draft', text: 'a red fox --enhance' }, { actor: alice, place }, log);
    const describe = runDescribe(core, describing.port, { bytes: await png('#2050d0') }, { actor: bob, place }, log);
    await fake.whenInFlight(2);
    expect(enhancing.replies.map((r) => r.kind)).toEqual(['assisting']);
    expect(describing.replies.map((r) => r.kind)).toEqual(['assisting']);

    // As the process stops: new work refused, then the assistant closed (its deadlines are far off: only close ends the calls).
    core.pause();
    expect(await core.assistant.close()).toBe(0);
    expect(enhancing.said).toEqual(['retracted card: The bot is restarting. Try again in a minute.']);
    expect(describing.said).toEqual(['retracted card: 机器人正在重启，请一分钟后再试。']);
    expect(await command).toMatchObject({ kind: 'refused', error: { code: 'shutting-down' } });
    expect(await describe).toMatchObject({ kind: 'refused', error: { code: 'shutting-down' } });
    expect(enhancing.replies.map((r) => r.kind)).toEqual(['assisting']);
    expect(describing.replies.map((r) => r.kind)).toEqual(['assisting']);
    expect(engine.stats().waiting + engine.stats().running).toBe(0);
    expect(core.history.recent({ limit: 10 })).toEqual([]);
    expect(fake.requests).toHaveLength(2);
  });

  it('after close, the assistant refuses a rewrite as the bot restarting, taking its card back, without asking the server', async () => {
    const { core, fake } = await setup();
    expect(await core.assistant.close()).toBe(0);
    const refused = await run(core, { kind: 'draft', text: 'a red fox --enhance' }, bob);
    expect(refused.jobId).toBeNull();
    expect(refused.said).toEqual(['retracted card: 机器人正在重启，请一分钟后再试。']);
    expect(fake.requests).toHaveLength(0);
  });

  it('describe answers with stored suggestions whose Draft buttons draft them, a filtered one withheld and counted', async () => {
    const { core, fake } = await setup();
    fake.answer = (request) =>
      request.images.length > 0 ? JSON.stringify(['A blue square, flat light.', 'A nude figure on a blue wall.', 'A blue square at dusk.']) : 'unused';
    const recorded = recordingPort();
    const outcome = await runDescribe(core, recorded.port, { bytes: await png('#2050d0') }, { actor: alice, place }, log);
    if (outcome.kind !== 'described') throw new Error(outcome.error.code);
    expect(recorded.opened).toEqual(['describe']);
    expect(recorded.replies[0]).toEqual({ kind: 'assisting', task: 'describe', text: 'Describing the image…', prompt: '' });
    const reply = outcome.reply;
    expect(recorded.replies[1]).toEqual(reply);
    expect(reply.prompts).toEqual(['A blue square, flat light.', 'A blue square at dusk.']);
    expect(reply.notes).toEqual(['1 suggestion was withheld by the prompt filter.']);
    expect(reply.withheld).toBe(1);
    expect(reply.buttons.map((b) => [b.id, b.label])).toEqual([
      [`z:draft-suggestion:${reply.setId}:0`, 'Draft 1'],
      [`z:draft-suggestion:${reply.setId}:1`, 'Draft 2'],
    ]);
    // The image reached the model re-encoded as a PNG.
    expect(fake.requests[0]!.images[0]!.mime).toBe('image/png');

    const drafted = await run(core, commandFromButton(reply.buttons[1]!.id) as JobCommand, bob);
    expect(core.history.get(drafted.jobId!)).toMatchObject({ role: 'draft', action: 'draft', owner: { userId: 'bob' }, spec: { userPrompt: 'A blue square at dusk.' } });

    const gone = await run(core, { kind: 'suggestion', setId: 'nosuchset1', index: 0 });
    expect(gone.said).toEqual(['Those suggestions are not known any more. Describe the image again.']);
  });

  it('a channel that keeps presses to their owner keeps describe’s Draft buttons to whoever asked (admins excepted)', async () => {
    const { core } = await setup();
    const admin: Actor = { ...alice, userId: 'admin', canConfigure: true, isAdmin: true };
    const change = parseSettingsText('channel --others off');
    if (!change.ok) throw new Error(change.error.code);
    expect(core.team.settings({ actor: admin, place }, change.value).ok).toBe(true);
    const outcome = await runDescribe(core, recordingPort().port, { bytes: await png('#20a040') }, { actor: alice, place }, log);
    if (outcome.kind !== 'described') throw new Error(outcome.error.code);
    const id = outcome.reply.buttons[0]!.id;
    const refused = await run(core, commandFromButton(id) as JobCommand, bob);
    expect(refused.jobId).toBeNull();
    expect(refused.said[0]).toMatch(/^在本频道/);
    expect((await run(core, commandFromButton(id) as JobCommand, admin)).jobId).not.toBeNull();
    expect((await run(core, commandFromButton(id) as JobCommand, alice)).jobId).not.toBeNull();
  });
});
