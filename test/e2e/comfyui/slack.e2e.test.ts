import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter, type SlackAdapter } from '../../../src/bots/slack/index.ts';
import type { JobRecord } from '../../../src/engine/history.ts';
import { WORKFLOW_MODELS } from '../../support/fake-comfyui.ts';
import { FakeSlack, type FakeMessage } from '../slack/fake-slack.ts';
import { actionPayload, formBody, interactionBody, postSigned, slashCommandBody, waitFor } from '../slack/slack-requests.ts';
import { startComfyRuntime, START_TIMEOUT_MS, TEST_TIMEOUT_MS, type ComfyRuntime } from './comfy-runtime.ts';

/**
 * Slack (the real bolt app against a fake Slack) with two fake ComfyUI servers behind the one fair queue: the engine
 * hands a server a job only when it has a free slot, in the scheduler's order; a job whose server dies mid-run goes
 * to the other one; Cancel works on a job waiting in the queue and on one running on a server; a server missing a
 * model file disables only the roles that need it, with the reason in the log and in the refusal.
 */
const BOT_TOKEN = 'xoxb-test-bot-token-0001';
const SECRET = 'test-signing-secret-0001';

let slack: FakeSlack;
let comfy: ComfyRuntime;
let adapter: SlackAdapter;
let endpoint: string;
let seq = 0;

async function startSlackOn(options: Parameters<typeof startComfyRuntime>[0]): Promise<{ comfy: ComfyRuntime; adapter: SlackAdapter; endpoint: string }> {
  const started = await startComfyRuntime({
    ...options,
    config: { slack: { botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: slack.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 }, queue: { maxWaitingPerUser: 10 }, ...options.config },
  });
  const slackAdapter = await startSlackAdapter(started.runtime);
  return { comfy: started, adapter: slackAdapter, endpoint: `http://127.0.0.1:${slackAdapter.port}/slack/events` };
}

beforeAll(async () => {
  slack = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: 'xapp-unused' });
  for (const [id, name] of [['UANN', 'Ann'], ['UBOB', 'Bob'], ['UCAT', 'Cat']] as const) slack.users.set(id, { locale: 'en-US', name });
  ({ comfy, adapter, endpoint } = await startSlackOn({ servers: [{ stepMs: 2 }, { stepMs: 2 }] }));
}, START_TIMEOUT_MS);

afterAll(async () => {
  await adapter?.stop();
  await comfy?.close();
  await slack?.close();
}, START_TIMEOUT_MS);

const journal = () => comfy.runtime.core.history;
const [gpu1, gpu2] = [() => comfy.servers[0]!, () => comfy.servers[1]!];

async function slash(command: '/draft' | '/refine', text: string, user: string, at = endpoint): Promise<string> {
  const responseId = `r${++seq}`;
  const body = slashCommandBody({ command, text, user, channel: 'C1', responseUrl: `${slack.base}/response/${responseId}` }, slack.teamId);
  const response = await postSigned(at, formBody(body), 'application/x-www-form-urlencoded', { secret: SECRET });
  expect(response.status).toBe(200);
  return responseId;
}

/** The job of the card whose text carries `marker`. */
async function jobOf(marker: string): Promise<JobRecord> {
  const post = await waitFor(() => slack.callsTo('chat.postMessage').find((c) => String(c.args.text).includes(marker) && c.result?.ok), `the card for "${marker}"`, 60_000);
  const ts = String(post.result!.ts);
  return waitFor(() => journal().recent({ limit: 500 }).find((r) => (r.delivery as { data?: { ts?: string } } | null)?.data?.ts === ts), `the job of "${marker}"`, 60_000);
}

const settled = (id: string, status: JobRecord['status'] = 'done'): Promise<JobRecord> =>
  waitFor(() => (journal().get(id)?.status === status ? journal().get(id) : undefined), `job ${id} ${status}`, 90_000);

async function press(actionId: string, user: string, record: JobRecord): Promise<void> {
  const ts = (record.delivery as { data: { ts: string } }).data.ts;
  const message = await waitFor(() => slack.message('C1', ts), `the card of ${record.id}`);
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: slack.teamId },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: ts, channel_id: 'C1', is_ephemeral: false },
    trigger_id: `trigger-${++seq}`,
    team: { id: slack.teamId, domain: 'fake' },
    channel: { id: 'C1', name: 'general' },
    message: { type: 'message', user: slack.botUserId, ts, text: (message as FakeMessage).text, blocks: (message as FakeMessage).blocks },
    state: { values: {} },
    response_url: `${slack.base}/response/r${seq}`,
    actions: [actionPayload(actionId, message as FakeMessage)],
  };
  const response = await postSigned(endpoint, interactionBody(payload), 'application/x-www-form-urlencoded', { secret: SECRET });
  expect(response.status).toBe(200);
}

describe('Slack on two ComfyUI servers', () => {
  it('the fair queue decides the order: a server gets a job only when it has a free slot', async () => {
    gpu1().pause();
    gpu2().pause();
    try {
      const before = [gpu1().accepted.length, gpu2().accepted.length];
      // One job each runs per user (queue.maxRunningPerUser), so Ann's first and Bob's take the two servers.
      for (let i = 1; i <= 3; i++) await slash('/draft', `ann fox ${i} --count 1 --seed ${i}`, 'UANN');
      const ann = await Promise.all([1, 2, 3].map((i) => jobOf(`ann fox ${i}`)));
      await slash('/draft', 'bob owl --count 1', 'UBOB');
      const bob = await jobOf('bob owl');
      await waitFor(() => gpu1().accepted.length === before[0]! + 1 && gpu2().accepted.length === before[1]! + 1, 'one prompt on each server');
      await slash('/draft', 'cat koi --count 1', 'UCAT');
      const cat = await jobOf('cat koi');
      // The rest wait in the bot's queue, not in ComfyUI's.
      expect([gpu1().accepted.length - before[0]!, gpu2().accepted.length - before[1]!]).toEqual([1, 1]);
      expect([journal().get(ann[1]!.id)!.status, journal().get(ann[2]!.id)!.status, journal().get(cat.id)!.status]).toEqual(['waiting', 'waiting', 'waiting']);
      gpu1().resume();
      gpu2().resume();
      const done = await Promise.all([...ann, bob, cat].map((r) => settled(r.id)));
      // Cat, a newcomer, starts before Ann's third job; both servers ran jobs, each recorded in the journal.
      const start = (id: string) => done.find((r) => r.id === id)!.startedAt!;
      expect(start(cat.id)).toBeLessThanOrEqual(start(ann[2]!.id));
      expect(new Set(done.map((r) => r.backend))).toEqual(new Set(['gpu1', 'gpu2']));
      for (const record of done) expect(record.result!.meta.device).toBe(record.backend);
    } finally {
      gpu1().resume();
      gpu2().resume();
    }
  }, TEST_TIMEOUT_MS);

  it('Vary n re-noises candidate n itself: img2img of it at the configured strength, on the vary workflow', async () => {
    await slash('/draft', 'a paper crane --count 2 --seed 21', 'UBOB');
    const parent = await settled((await jobOf('a paper crane')).id);
    const known = new Set(journal().recent({ limit: 500 }).map((r) => r.id));
    await press(`z:vary-strong:${parent.id}:1`, 'UCAT', parent);
    const vary = await waitFor(() => journal().recent({ limit: 500 }).find((r) => !known.has(r.id)), 'the Vary job');
    const done = await settled(vary.id);
    expect(done).toMatchObject({ role: 'draft', parentId: parent.id, owner: { userId: 'UCAT' }, spec: { vary: { image: parent.result!.images[1]!.path, strength: 'strong' } } });
    const prompts = [...gpu1().accepted, ...gpu2().accepted].filter((a) => a.prompt['6']?.class_type === 'LoadImage' && a.prompt['9']?.class_type === 'KSampler').slice(-2);
    expect(prompts.map((a) => a.prompt['9']!.inputs.denoise)).toEqual([0.75, 0.75]);
    expect(prompts.map((a) => a.prompt['4']!.inputs.text)).toEqual(['a paper crane', 'a paper crane']);
  }, TEST_TIMEOUT_MS);

  it('a job whose server dies mid-run is run again on the other server and delivered', async () => {
    gpu1().hangNext();
    await slash('/draft', 'heron at dusk --count 1 --seed 5', 'UANN');
    const job = await jobOf('heron at dusk');
    await waitFor(() => gpu1().runningPrompt !== undefined && journal().get(job.id)?.backend === 'gpu1', 'the job running on gpu1');
    await gpu1().die();
    const done = await settled(job.id);
    expect(done.backend).toBe('gpu2');
    expect(done.result!.meta.device).toBe('gpu2');
    expect(comfy.log.some((l) => l.msg === 'backend lost a running job; queued again for another backend' && l.job === job.id && l.backend === 'gpu1')).toBe(true);
    await gpu1().revive();
    await waitFor(() => comfy.runtime.engine.stats().workers.find((w) => w.name === 'gpu1')!.restarts > 0, 'gpu1 back');
  }, TEST_TIMEOUT_MS);

  it('Cancel ends a job waiting in the queue at once, and interrupts a running one on its server only', async () => {
    gpu1().hangNext();
    gpu2().hangNext();
    await slash('/draft', 'busy one --count 1', 'UBOB');
    await slash('/draft', 'busy two --count 1', 'UCAT');
    const running = [await jobOf('busy one'), await jobOf('busy two')];
    await waitFor(() => gpu1().runningPrompt !== undefined && gpu2().runningPrompt !== undefined, 'both servers busy');
    await slash('/draft', 'never runs --count 1', 'UANN');
    const waiting = await jobOf('never runs');
    const accepted = gpu1().accepted.length + gpu2().accepted.length;
    await press(`z:cancel:${waiting.id}`, 'UANN', waiting);
    await settled(waiting.id, 'cancelled');
    expect(gpu1().accepted.length + gpu2().accepted.length).toBe(accepted);

    await press(`z:cancel:${running[0]!.id}`, 'UBOB', running[0]!);
    const cancelled = await settled(running[0]!.id, 'cancelled');
    const server = cancelled.backend === 'gpu1' ? gpu1() : gpu2();
    const other = server === gpu1() ? gpu2() : gpu1();
    await waitFor(() => server.runningPrompt === undefined, 'the interrupted prompt gone');
    // The other server's prompt was not touched.
    expect(other.runningPrompt).toBeDefined();
    await press(`z:cancel:${running[1]!.id}`, 'UCAT', running[1]!);
    await settled(running[1]!.id, 'cancelled');
    await waitFor(() => slack.message('C1', (waiting.delivery as { data: { ts: string } }).data.ts)?.text === 'Cancelled.', 'the card to say Cancelled.');
  }, TEST_TIMEOUT_MS);
});

describe('Slack on a ComfyUI server that lacks a model file', () => {
  it('says so at start-up, refuses the roles that need it with the reason, and serves the others', async () => {
    const partial = await startSlackOn({ servers: [{ models: { ...WORKFLOW_MODELS, diffusion_models: ['z_image_turbo_bf16.safetensors', 'qwen_image_edit_fp8_e4m3fn.safetensors'] } }] });
    try {
      const warnings = partial.comfy.log.filter((l) => l.level === 40).map((l) => l.msg);
      expect(warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^ComfyUI gpu1: refine is unavailable: model file z_image\.safetensors is missing from its diffusion_models folder \(.*config\/workflows\/refine\.json\)$/),
          expect.stringMatching(/^ComfyUI gpu1: edit with a mask or region is unavailable: model file z_image\.safetensors is missing/),
        ]),
      );
      await slash('/draft', 'a quiet pond --count 1', 'UANN', partial.endpoint);
      const pondPost = await waitFor(() => slack.callsTo('chat.postMessage').find((c) => String(c.args.text).includes('a quiet pond') && c.result?.ok), 'the pond card');
      const pond = await waitFor(() => partial.comfy.runtime.core.history.recent({ limit: 50 }).find((r) => (r.delivery as { data?: { ts?: string } }).data?.ts === pondPost.result!.ts), 'the pond job');
      await waitFor(() => partial.comfy.runtime.core.history.get(pond.id)?.status === 'done', 'the pond job done', 90_000);

      const responseId = await slash('/refine', '', 'UANN', partial.endpoint);
      const refusal = await waitFor(() => slack.responses.find((r) => r.id === responseId)?.body.text as string | undefined, 'the refusal');
      expect(refusal).toMatch(/^No image server can run \/refine right now: gpu1 cannot run refine: model file z_image\.safetensors is missing from its diffusion_models folder \(.*refine\.json\)$/);
    } finally {
      await partial.adapter.stop();
      await partial.comfy.close();
    }
  }, TEST_TIMEOUT_MS);
});
