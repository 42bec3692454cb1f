import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDelivery } from '../../../src/bots/core/core.ts';
import { startSlackAdapter, type SlackAdapter } from '../../../src/bots/slack/index.ts';
import type { DeepPartial } from '../../../src/config/load.ts';
import type { Config } from '../../../src/config/schema.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { FakeOpenAI } from '../../support/fake-openai.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeSlack, type FakeMessage } from './fake-slack.ts';
import { actionIds, interactionBody, postSigned, waitFor } from './slack-requests.ts';
import { SlackSession } from './slack-session.ts';

/**
 * The prompt assistant through Slack: the real bolt App and runtime against a fake Slack and a fake OpenAI-compatible
 * server on 127.0.0.1. The fake's hold keeps a request waiting for as long as a test needs, so what the card shows
 * meanwhile is read without racing the model; the timeout is a second runtime whose deadline a held request outlives.
 */
const BOT_TOKEN = 'xoxb-test-bot-token-0002';
const APP_TOKEN = 'xapp-test-app-token-0002';
const SECRET = 'test-signing-secret-0002';
const TAIL = 'shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.';

let fake: FakeSlack;
let openai: FakeOpenAI;
let runtime: Runtime;
let adapter: SlackAdapter;
let session: SlackSession;

beforeAll(async () => {
  fake = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  fake.users.set('UANN', { locale: 'en-US', name: 'Ann' });
  fake.users.set('UBOB', { locale: 'zh-CN', name: '李雷' });
  openai = await FakeOpenAI.start();
  runtime = await startTestRuntime({
    config: {
      slack: { botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: fake.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 },
      assistant: { url: openai.url, model: 'fake-model', vision: { model: 'fake-vision' } },
    },
  });
  adapter = await startSlackAdapter(runtime);
  session = new SlackSession(fake, { endpoint: `http://127.0.0.1:${adapter.port}/slack/events`, secret: SECRET, jobs: () => runtime.core.history.recent({ limit: 500 }) });
});

afterAll(async () => {
  await adapter?.stop();
  await runtime?.close();
  await openai?.close();
  await fake?.close();
});

const solidPng = (colour: string): Promise<Buffer> => sharp({ create: { width: 96, height: 64, channels: 3, background: colour } }).png().toBuffer();

/** The texts a message showed over its life (its chat.update calls), in order. */
const updatesOf = (channel: string, ts: string, slack: FakeSlack = fake): string[] =>
  slack.callsTo('chat.update').filter((c) => c.args.channel === channel && c.args.ts === ts).map((c) => JSON.stringify(c.args.blocks));

const blockOf = (message: FakeMessage | undefined, id: string): string => JSON.stringify((message?.blocks ?? []).find((b) => (b as { block_id?: string }).block_id === id) ?? null);

/** A message shortcut as Slack sends it, on `message` in C1 (to the main adapter, unless `to` names another). */
function shortcut(callbackId: string, user: string, message: FakeMessage, seq: number, to: { readonly fake: FakeSlack; readonly session: SlackSession } = { fake, session }): Promise<{ status: number; body: string }> {
  const { fake: slack, session: at } = to;
  const payload = {
    type: 'message_action',
    callback_id: callbackId,
    trigger_id: `trigger-d${seq}`,
    action_ts: String(Date.now() / 1000),
    token: 'legacy-verification-token',
    team: { id: slack.teamId, domain: 'fake' },
    channel: { id: 'C1', name: 'general' },
    user: { id: user, name: user.toLowerCase(), team_id: slack.teamId },
    response_url: `${slack.base}/response/d${seq}`,
    message_ts: message.ts,
    message: { type: 'message', user: message.user, ts: message.ts, text: message.text, ...(message.files ? { files: message.files } : {}) },
    is_enterprise_install: false,
  };
  return postSigned(at.endpoint, interactionBody(payload), 'application/x-www-form-urlencoded', { secret: SECRET });
}

const shortcutReply = (seq: number): Promise<string> => session.responseText(`d${seq}`);

describe('the prompt assistant through Slack', () => {
  let enhanced: { jobId: string; ts: string; card: FakeMessage };

  it('/draft --enhance: the card says "Enhancing the prompt…" while the assistant writes, then drafts the rewrite beside the original', async () => {
    openai.hold();
    let ts: string;
    try {
      const after = fake.calls.length;
      const response = await session.slash('/draft', 'a red fox --enhance --seed 5 --count 2', 'UANN', 'C1');
      expect(response.status).toBe(200);
      await openai.whenInFlight(1);
      const post = await waitFor(() => fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.result?.ok), 'the card');
      ts = String(post.result!.ts);
      const enhancing = await waitFor(() => updatesOf('C1', ts).find((u) => u.includes('Enhancing the prompt…')), 'the card saying Enhancing');
      // The user's prompt as a block quote (the mrkdwn marker itself, not an escaped '>').
      expect(enhancing).toContain('"text":"> a red fox"');
      // No job yet, so no Cancel: only words on the card.
      expect(actionIds(fake.message('C1', ts))).toEqual([]);
      expect(runtime.core.history.recent({ limit: 500 }).some((r) => r.spec.userPrompt.startsWith('a red fox'))).toBe(false);
      expect(openai.requests.at(-1)!.texts).toEqual(['a red fox']);
    } finally {
      // A failed check must not leave the server holding every later test's requests.
      openai.release();
    }

    const record = await session.jobOfCard(ts);
    const card = await session.resultCard('C1', ts, record.id);
    enhanced = { jobId: record.id, ts, card };
    expect(record.spec).toMatchObject({ userPrompt: `a red fox, ${TAIL}`, seed: 5 });
    expect(readDelivery(record).enhancedFrom).toBe('a red fox');
    expect(blockOf(card, 'z-prompt')).toContain(`a red fox, ${TAIL}`);
    expect(blockOf(card, 'z-enhanced')).toContain('Enhanced from your prompt: “a red fox”');
    const ids = actionIds(card);
    expect(ids).toEqual(expect.arrayContaining([`z:original:${record.id}`, `z:enhance:${record.id}`, `z:refine:${record.id}:0`]));
  });

  it('Use my original prompt drafts the original with the same settings and seed, in the card’s thread', async () => {
    const after = fake.calls.length;
    await session.click(`z:original:${enhanced.jobId}`, 'UBOB', 'C1', enhanced.card);
    const { ts, jobId } = await session.cardInThread('C1', enhanced.ts, after);
    await session.resultCard('C1', ts, jobId);
    const original = runtime.core.history.get(jobId)!;
    const parent = runtime.core.history.get(enhanced.jobId)!;
    expect(original).toMatchObject({ action: 'original', parentId: enhanced.jobId, owner: { userId: 'UBOB' } });
    expect(original.spec).toMatchObject({ userPrompt: 'a red fox', seed: 5 });
    expect(original.spec.candidates.map((c) => c.noise)).toEqual(parent.spec.candidates.map((c) => c.noise));
    expect(readDelivery(original).enhancedFrom).toBeNull();
  });

  it('Enhance from a result’s menu rewrites its prompt and drafts it, showing "Enhancing the prompt…" first', async () => {
    const plain = await session.draft('a blue owl --seed 8', 'UANN', 'C1');
    expect(actionIds(plain.card)).toContain(`z:enhance:${plain.jobId}`);
    const after = fake.calls.length;
    await session.click(`z:enhance:${plain.jobId}`, 'UANN', 'C1', plain.card);
    const { ts, jobId } = await session.cardInThread('C1', plain.ts, after);
    await session.resultCard('C1', ts, jobId);
    expect(updatesOf('C1', ts)[0]).toContain('Enhancing the prompt…');
    expect(runtime.core.history.get(jobId)).toMatchObject({ action: 'enhance', parentId: plain.jobId, spec: { userPrompt: `a blue owl, ${TAIL}`, seed: 8 } });
  });

  it('Describe image suggests prompts on a card in the image’s thread; Draft 2 drafts the second', async () => {
    const file = fake.addFile(await solidPng('#2050d0'), { name: 'photo.png', user: 'UANN' });
    const photo = fake.addMessage('C1', { user: 'UANN', text: 'our poster', files: [file] });
    const after = fake.calls.length;
    const response = await shortcut('describe_image', 'UANN', photo, 1);
    expect(response.status).toBe(200);
    const post = await waitFor(() => fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === photo.ts && c.result?.ok), 'the describe card');
    const ts = String(post.result!.ts);
    const card = await waitFor(() => {
      const message = fake.message('C1', ts);
      return actionIds(message).length > 0 ? message : undefined;
    }, 'the suggestions');
    expect(updatesOf('C1', ts)[0]).toContain('Describing the image…');
    // The model saw the image as a re-encoded PNG, and its four prompts are on the card.
    const request = openai.requests.at(-1)!;
    expect(request.model).toBe('fake-vision');
    expect(request.images.map((i) => i.mime)).toEqual(['image/png']);
    const ids = actionIds(card);
    expect(ids).toHaveLength(4);
    expect(ids.every((id, i) => new RegExp(`^z:draft-suggestion:[A-Za-z0-9]+:${i}$`).test(id))).toBe(true);
    expect(blockOf(card, 'z-suggestion-1')).toContain('A watercolour painting of a blue field');

    const draftAfter = fake.calls.length;
    await session.click(ids[1]!, 'UBOB', 'C1', card);
    const drafted = await session.cardInThread('C1', photo.ts, draftAfter);
    await session.resultCard('C1', drafted.ts, drafted.jobId);
    expect(runtime.core.history.get(drafted.jobId)).toMatchObject({ role: 'draft', owner: { userId: 'UBOB' }, spec: { userPrompt: 'A watercolour painting of a blue field, soft edges and visible paper grain.' } });
  });

  it('a suggestion the prompt filter refuses is withheld and counted; describe without an image is refused privately', async () => {
    openai.answer = (request) => (request.images.length > 0 ? JSON.stringify(['A quiet green lake at dawn.', 'A nude bather by a green lake.', 'A green lake under snow.']) : 'unused');
    try {
      const file = fake.addFile(await solidPng('#20a040'), { name: 'lake.png', user: 'UANN' });
      const photo = fake.addMessage('C1', { user: 'UANN', text: 'a lake', files: [file] });
      const after = fake.calls.length;
      await shortcut('describe_image', 'UANN', photo, 2);
      const post = await waitFor(() => fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === photo.ts && c.result?.ok), 'the describe card');
      const card = await waitFor(() => {
        const message = fake.message('C1', String(post.result!.ts));
        return actionIds(message).length > 0 ? message : undefined;
      }, 'the suggestions');
      expect(actionIds(card)).toHaveLength(2);
      expect(JSON.stringify(card.blocks)).not.toContain('nude');
      expect(blockOf(card, 'z-status')).toContain('1 suggestion was withheld by the prompt filter.');
    } finally {
      openai.answer = undefined;
    }
    const bare = fake.addMessage('C1', { user: 'UANN', text: 'no picture here' });
    await shortcut('describe_image', 'UANN', bare, 3);
    expect(await shortcutReply(3)).toBe('Attach an image, or reply to one, to do that.');
  });

  it('with the server down, --enhance and Describe image take their card back and say why in the asker’s language; nothing is queued', async () => {
    const jobs = runtime.core.history.recent({ limit: 500 }).length;
    // The last test on this server: afterAll's close of a closed server is harmless.
    await openai.close();
    const down = '现在无法连接提示词助手，请稍后再试。';

    const after = fake.calls.length;
    const response = await session.slash('/draft', 'a quiet harbour --enhance', 'UBOB', 'C1');
    expect(await session.responseText(response.responseId)).toBe(down);
    const post = fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.result?.ok);
    expect(post).toBeDefined();
    expect(fake.callsTo('chat.delete').some((c) => c.args.ts === post!.result!.ts)).toBe(true);

    const file = fake.addFile(await solidPng('#d02020'), { name: 'harbour.png', user: 'UBOB' });
    const photo = fake.addMessage('C1', { user: 'UBOB', text: 'the harbour', files: [file] });
    const describeAfter = fake.calls.length;
    await shortcut('describe_image', 'UBOB', photo, 4);
    expect(await shortcutReply(4)).toBe(down);
    const card = fake.calls.slice(describeAfter).find((c) => c.method === 'chat.postMessage' && c.args.thread_ts === photo.ts && c.result?.ok);
    expect(card).toBeDefined();
    expect(fake.callsTo('chat.delete').some((c) => c.args.ts === card!.result!.ts)).toBe(true);
    expect(runtime.core.history.recent({ limit: 500 })).toHaveLength(jobs);
  });
});

/** A runtime on its own fake Slack (so its response_url ids are its own), with the prompt assistant as `assistant` says. */
async function startAside(assistant: DeepPartial<Config['assistant']> | undefined): Promise<{ fake: FakeSlack; runtime: Runtime; adapter: SlackAdapter; session: SlackSession }> {
  const slack = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  slack.users.set('UANN', { locale: 'en-US', name: 'Ann' });
  const aside = await startTestRuntime({
    config: {
      slack: { botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: slack.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 },
      ...(assistant ? { assistant } : {}),
    },
  });
  const asideAdapter = await startSlackAdapter(aside);
  const asideSession = new SlackSession(slack, { endpoint: `http://127.0.0.1:${asideAdapter.port}/slack/events`, secret: SECRET, jobs: () => aside.core.history.recent({ limit: 50 }) });
  return { fake: slack, runtime: aside, adapter: asideAdapter, session: asideSession };
}

describe('the prompt assistant’s deadline through Slack', () => {
  let held: FakeOpenAI;
  let aside: Awaited<ReturnType<typeof startAside>>;

  beforeAll(async () => {
    held = await FakeOpenAI.start();
    held.hold();
    aside = await startAside({ url: held.url, model: 'fake-model', enhanceTimeoutMs: 500 });
  });

  afterAll(async () => {
    await aside?.adapter.stop();
    await aside?.runtime.close();
    await aside?.fake.close();
    await held?.close();
  });

  it('a server that does not answer in time: the card is taken back and the asker told, nothing queued', async () => {
    const { fake: slack, session: at, runtime: short } = aside;
    const response = await at.slash('/draft', 'a slow tortoise --enhance', 'UANN', 'C2');
    // The server holds every request: only the deadline can end this one (its timeout sentence says so).
    expect(await at.responseText(response.responseId)).toBe('The prompt assistant did not answer within 0.5 s. Try again.');
    const post = slack.callsTo('chat.postMessage').find((c) => c.args.channel === 'C2' && c.result?.ok);
    expect(post).toBeDefined();
    expect(slack.callsTo('chat.delete').some((c) => c.args.ts === post!.result!.ts)).toBe(true);
    expect(short.core.history.recent({ limit: 50 })).toEqual([]);
  });
});

describe('a shutdown while the prompt assistant works, through Slack', () => {
  let held: FakeOpenAI;
  let aside: Awaited<ReturnType<typeof startAside>>;
  let stopped = false;

  beforeAll(async () => {
    held = await FakeOpenAI.start();
    held.hold();
    // Deadlines no test outlives: only the shutdown can end these requests.
    aside = await startAside({ url: held.url, model: 'fake-model', enhanceTimeoutMs: 600_000, describeTimeoutMs: 600_000 });
    aside.fake.users.set('UBOB', { locale: 'zh-CN', name: '李雷' });
  });

  afterAll(async () => {
    if (!stopped) {
      await aside?.adapter.stop();
      await aside?.runtime.close();
    }
    await aside?.fake.close();
    await held?.close();
  });

  it('takes back the cards of --enhance and Describe image and tells each asker the bot is restarting, before Slack is let go; nothing is queued', async () => {
    const { fake: slack, session: at, runtime: stopping, adapter: stoppingAdapter } = aside;
    const enhance = await at.slash('/draft', 'a red fox --enhance', 'UANN', 'C1');
    const file = slack.addFile(await solidPng('#2050d0'), { name: 'fox.png', user: 'UBOB' });
    const photo = slack.addMessage('C1', { user: 'UBOB', text: 'a fox', files: [file] });
    await shortcut('describe_image', 'UBOB', photo, 1, aside);
    await held.whenInFlight(2);
    const cards = await waitFor(() => {
      const posted = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C1' && c.result?.ok);
      return posted.length === 2 ? posted.map((c) => String(c.result!.ts)) : undefined;
    }, 'both cards');

    const jobs = (): number => stopping.core.history.recent({ limit: 50 }).length;
    expect(jobs()).toBe(0);

    // main's order on SIGTERM: pause, close the runtime, then stop the platforms.
    stopping.core.pause();
    stopped = true;
    await stopping.close();
    // Told by the time the runtime closed, while the platform was still there to say it.
    const told = (id: string): unknown => slack.responses.find((r) => r.id === id)?.body.text;
    expect(told(enhance.responseId)).toBe('The bot is restarting. Try again in a minute.');
    expect(told('d1')).toBe('机器人正在重启，请一分钟后再试。');
    for (const ts of cards) expect(slack.callsTo('chat.delete').some((c) => c.args.ts === ts)).toBe(true);
    // Neither card ever showed a job: each was only ever the assistant at work.
    for (const ts of cards) {
      const shown = updatesOf('C1', ts, slack);
      expect(shown.length).toBeGreaterThan(0);
      expect(shown.every((blocks) => blocks.includes('Enhancing the prompt…') || blocks.includes('正在描述图像…'))).toBe(true);
    }
    await stoppingAdapter.stop();
    expect(held.requests).toHaveLength(2);
  });
});

describe('Slack without a prompt assistant', () => {
  let aside: Awaited<ReturnType<typeof startAside>>;

  beforeAll(async () => {
    aside = await startAside(undefined);
  });

  afterAll(async () => {
    await aside?.adapter.stop();
    await aside?.runtime.close();
    await aside?.fake.close();
  });

  it('offers no Enhance, refuses --enhance and Describe image privately with how to turn it on, and drafts nothing', async () => {
    const { fake: slack, session: at, runtime: plain } = aside;
    const drafted = await at.draft('a grey heron --seed 3', 'UANN', 'C1');
    expect(actionIds(drafted.card).some((id) => id.startsWith('z:enhance:') || id.startsWith('z:original:'))).toBe(false);
    const posts = slack.callsTo('chat.postMessage').length;
    const setup = 'The prompt assistant is not set up on this bot. An admin can turn it on with ASSISTANT_URL and ASSISTANT_MODEL (docs/assistant.md).';

    const enhance = await at.slash('/draft', 'a grey heron --enhance', 'UANN', 'C1');
    expect(await at.responseText(enhance.responseId)).toBe(setup);
    const file = slack.addFile(await solidPng('#808080'), { name: 'heron.png', user: 'UANN' });
    const photo = slack.addMessage('C1', { user: 'UANN', text: 'a heron', files: [file] });
    await shortcut('describe_image', 'UANN', photo, 1, aside);
    expect(await at.responseText('d1')).toBe(setup);
    // Refused before anything public: no card, no job beyond the plain draft.
    expect(slack.callsTo('chat.postMessage')).toHaveLength(posts);
    expect(plain.core.history.recent({ limit: 50 }).map((r) => r.id)).toEqual([drafted.jobId]);
  });
});
