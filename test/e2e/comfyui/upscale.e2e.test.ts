import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter, type SlackAdapter } from '../../../src/bots/slack/index.ts';
import type { Config } from '../../../src/config/schema.ts';
import type { DeepPartial } from '../../../src/config/load.ts';
import type { JobRecord } from '../../../src/engine/history.ts';
import { WORKFLOW_MODELS, type FakeComfyOptions } from '../../support/fake-comfyui.ts';
import { FakeSlack, type FakeMessage } from '../slack/fake-slack.ts';
import { actionIds, actionPayload, formBody, interactionBody, postSigned, slashCommandBody, waitFor } from '../slack/slack-requests.ts';
import { startComfyRuntime, START_TIMEOUT_MS, TEST_TIMEOUT_MS, type ComfyRuntime } from './comfy-runtime.ts';

/**
 * Upscale through Slack (the real bolt app against a fake Slack) on a fake ComfyUI running the shipped upscale
 * workflow: a result offers "Upscale n" only where a server passed its checks for the upscale workflow; pressing it
 * makes that candidate twice as large, a result of its own whose origin is the candidate. Without the workflow (the
 * default) no result offers it, and a press is refused with the reason.
 */
const BOT_TOKEN = 'xoxb-test-bot-token-0002';
const SECRET = 'test-signing-secret-0002';

let slack: FakeSlack;
let seq = 0;

interface SlackOnComfy {
  readonly comfy: ComfyRuntime;
  readonly adapter: SlackAdapter;
  readonly endpoint: string;
  close(): Promise<void>;
}

async function startSlackOn(server: FakeComfyOptions, config: DeepPartial<Config> = {}): Promise<SlackOnComfy> {
  const comfy = await startComfyRuntime({
    servers: [server],
    config: { slack: { botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: slack.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 }, ...config },
  });
  const adapter = await startSlackAdapter(comfy.runtime);
  return {
    comfy,
    adapter,
    endpoint: `http://127.0.0.1:${adapter.port}/slack/events`,
    async close() {
      await adapter.stop();
      await comfy.close();
    },
  };
}

beforeAll(async () => {
  slack = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: 'xapp-unused' });
  slack.users.set('UANN', { locale: 'en-US', name: 'Ann' });
  slack.users.set('UBOB', { locale: 'en-US', name: 'Bob' });
}, START_TIMEOUT_MS);

afterAll(async () => {
  await slack?.close();
}, START_TIMEOUT_MS);

async function draft(on: SlackOnComfy, text: string, user: string): Promise<JobRecord> {
  const body = slashCommandBody({ command: '/draft', text, user, channel: 'C1', responseUrl: `${slack.base}/response/r${++seq}` }, slack.teamId);
  expect((await postSigned(on.endpoint, formBody(body), 'application/x-www-form-urlencoded', { secret: SECRET })).status).toBe(200);
  const marker = text.split(' --')[0]!;
  const post = await waitFor(() => slack.callsTo('chat.postMessage').find((c) => String(c.args.text).includes(marker) && c.result?.ok), `the card for "${marker}"`, 60_000);
  const job = await waitFor(() => on.comfy.runtime.core.history.recent({ limit: 100 }).find((r) => (r.delivery as { data?: { ts?: string } } | null)?.data?.ts === post.result!.ts), `the job of "${marker}"`);
  return settled(on, job.id);
}

const settled = (on: SlackOnComfy, id: string): Promise<JobRecord> =>
  waitFor(() => (on.comfy.runtime.core.history.get(id)?.status === 'done' ? on.comfy.runtime.core.history.get(id) : undefined), `job ${id} done`, 90_000);

/** The job's card as Slack shows it once its result is in (its actions are the result's). */
async function resultCard(record: JobRecord): Promise<FakeMessage> {
  const ts = (record.delivery as { data: { ts: string } }).data.ts;
  return waitFor(() => {
    const message = slack.message('C1', ts);
    return message && actionIds(message).some((id) => id.startsWith('z:refine:')) ? message : undefined;
  }, `the result card of ${record.id}`);
}

/** A click on `actionId` (a button, or the menu option with that id) on the job's card; the response_url's id. */
async function press(on: SlackOnComfy, actionId: string, user: string, record: JobRecord): Promise<string> {
  const message = await resultCard(record);
  const responseId = `r${++seq}`;
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: slack.teamId },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: 'C1', is_ephemeral: false },
    trigger_id: `trigger-${seq}`,
    team: { id: slack.teamId, domain: 'fake' },
    channel: { id: 'C1', name: 'general' },
    message: { type: 'message', user: slack.botUserId, ts: message.ts, text: message.text, blocks: message.blocks },
    state: { values: {} },
    response_url: `${slack.base}/response/${responseId}`,
    actions: [actionPayload(actionId, message)],
  };
  expect((await postSigned(on.endpoint, interactionBody(payload), 'application/x-www-form-urlencoded', { secret: SECRET })).status).toBe(200);
  return responseId;
}

describe('Upscale on ComfyUI, through Slack', () => {
  it('without an upscale workflow (the default) no result offers Upscale, and a press is refused with the reason', async () => {
    const on = await startSlackOn({});
    try {
      const parent = await draft(on, 'a lighthouse at noon --count 2 --seed 3 --ar 1:1', 'UANN');
      const ids = actionIds(await resultCard(parent));
      expect(ids).toContain(`z:vary-subtle:${parent.id}:0`);
      expect(ids.filter((id) => id.startsWith('z:upscale:'))).toEqual([]);
      expect(on.comfy.runtime.engine.canUpscale()).toBe(false);
      // A crafted press (an old message, a hand-made id) is refused privately, and nothing is queued.
      const jobs = on.comfy.runtime.core.history.recent({ limit: 100 }).length;
      const responseId = await press(on, `z:upscale:${parent.id}:0`, 'UANN', parent);
      const refusal = await waitFor(() => slack.responses.find((r) => r.id === responseId)?.body.text as string | undefined, 'the refusal');
      expect(refusal).toMatch(/^No image server can upscale right now: no upscale workflow is configured \(comfyui\.workflows\.upscale/);
      expect(on.comfy.runtime.core.history.recent({ limit: 100 })).toHaveLength(jobs);
    } finally {
      await on.close();
    }
  }, TEST_TIMEOUT_MS);

  it('offers Upscale once the server has the model; Upscale 1 makes the draft’s candidate 1 twice as large, a result whose origin is that candidate', async () => {
    // The workflow is configured but the server lacks its model file: checked, said, not offered.
    const on = await startSlackOn({ models: { ...WORKFLOW_MODELS, upscale_models: [] } }, { comfyui: { workflows: { upscale: 'upscale.json' }, checkIntervalSeconds: 1 } });
    try {
      const server = on.comfy.servers[0]!;
      expect(on.comfy.log.filter((l) => l.level === 40).map((l) => l.msg)).toContainEqual(
        expect.stringMatching(/^ComfyUI gpu1: upscale is unavailable: model file 4x-UltraSharp\.pth is missing from its upscale_models folder \(.*config\/workflows\/upscale\.json\)$/),
      );
      const before = await draft(on, 'a paper boat --count 2 --seed 11 --ar 1:1', 'UANN');
      expect(actionIds(await resultCard(before)).filter((id) => id.startsWith('z:upscale:'))).toEqual([]);

      // The model file arrives; the next round of checks finds it, and results offer Upscale n per candidate.
      server.setModels('upscale_models', ['4x-UltraSharp.pth']);
      await waitFor(() => on.comfy.runtime.engine.canUpscale(), 'the upscale workflow available', 30_000);
      const parent = await draft(on, 'a red kite over dunes --count 2 --seed 21 --ar 1:1', 'UANN');
      expect(parent.spec).toMatchObject({ width: 1024, height: 1024 });
      const ids = actionIds(await resultCard(parent));
      expect(ids.filter((id) => id.startsWith('z:upscale:'))).toEqual([`z:upscale:${parent.id}:0`, `z:upscale:${parent.id}:1`]);

      // Bob presses Upscale 1 on Ann's draft: a job of his, in the card's thread, from exactly candidate 1's file.
      const known = new Set(on.comfy.runtime.core.history.recent({ limit: 100 }).map((r) => r.id));
      const accepted = server.accepted.length;
      await press(on, `z:upscale:${parent.id}:0`, 'UBOB', parent);
      const job = await waitFor(() => on.comfy.runtime.core.history.recent({ limit: 100 }).find((r) => !known.has(r.id)), 'the upscale job');
      const done = await settled(on, job.id);
      const candidate = parent.result!.images[0]!;
      expect(done).toMatchObject({
        action: 'upscale',
        parentId: parent.id,
        parentIndex: 0,
        owner: { userId: 'UBOB' },
        backend: 'gpu1',
        spec: { width: 2048, height: 2048, image: candidate.path, seed: candidate.noise.seed, upscale: { model: '4x-UltraSharp.pth', scale: 2, input: { width: 1024, height: 1024 } } },
      });
      expect(done.result!.images).toHaveLength(1);
      expect(await sharp(done.result!.images[0]!.path!).metadata()).toMatchObject({ format: 'png', width: 2048, height: 2048 });
      expect(done.result!.images[0]!.verdict).toMatchObject({ flagged: false });

      // One prompt, the shipped upscale workflow, its LoadImage given the candidate's own bytes.
      expect(server.accepted).toHaveLength(accepted + 1);
      const prompt = server.accepted.at(-1)!.prompt;
      expect(prompt['3']!.class_type).toBe('ImageUpscaleWithModel');
      const [subfolder, filename] = String(prompt['1']!.inputs.image).split('/');
      const uploaded = Buffer.from(await (await fetch(`${server.url}/view?filename=${filename}&subfolder=${subfolder}&type=input`)).arrayBuffer());
      expect(uploaded.equals(readFileSync(candidate.path!))).toBe(true);

      // Its card names where it came from, and offers neither a second Upscale (4096 is over limits.maxSide) nor Reroll.
      const card = await resultCard(done);
      expect(JSON.stringify(card.blocks)).toContain('upscaled from #1 of');
      const upscaledIds = actionIds(card);
      expect(upscaledIds).toContain(`z:refine:${done.id}:0`);
      expect(upscaledIds.filter((id) => id.startsWith('z:upscale:') || id.startsWith('z:reroll:'))).toEqual([]);
    } finally {
      await on.close();
    }
  }, TEST_TIMEOUT_MS);
});
