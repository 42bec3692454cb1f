import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter, type SlackAdapter } from '../../../src/bots/slack/index.ts';
import { join } from 'node:path';
import type { JobRecord } from '../../../src/engine/history.ts';
import { JobJournal } from '../../../src/engine/journal/journal.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeSlack, type ApiCall, type FakeMessage } from './fake-slack.ts';
import { actionIds, actionPayload, eventBody, formBody, interactionBody, postSigned, slashCommandBody, waitFor, type SlashFields } from './slack-requests.ts';

/**
 * The real bolt App (HTTP receiver, signature checks) and the real runtime (engine, ONNX fixture model, nsfwjs,
 * SQLite journal) against a fake Slack on 127.0.0.1.
 */
const BOT_TOKEN = 'xoxb-test-bot-token-0001';
const APP_TOKEN = 'xapp-test-app-token-0001';
const SECRET = 'test-signing-secret-0001';

let fake: FakeSlack;
let runtime: Runtime;
let adapter: SlackAdapter;
let endpoint: string;
let responseSeq = 0;

beforeAll(async () => {
  fake = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  fake.users.set('UANN', { locale: 'en-US', name: 'Ann' });
  fake.users.set('UBOB', { locale: 'en-GB', name: 'Bob' });
  fake.users.set('UZH', { locale: 'zh-CN', name: '李雷' });
  fake.users.set('UADM', { locale: 'en-US', name: 'Admin', isAdmin: true });
  runtime = await startTestRuntime({
    config: {
      slack: { botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: fake.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 },
      // Long enough jobs to keep a queue busy while a waiting job is cancelled.
      profiles: { draft: { maxSteps: 50 } },
      // Even a workspace that asks for spoilers gets flagged images withheld: Slack has no NSFW channel flag.
      moderation: { policies: { slack: { default: 'spoiler' } } },
    },
  });
  adapter = await startSlackAdapter(runtime);
  endpoint = `http://127.0.0.1:${adapter.port}/slack/events`;
});

afterAll(async () => {
  await adapter?.stop();
  await runtime?.close();
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// helpers

const journal = () => runtime.core.history;

async function slash(command: SlashFields['command'], text: string, user = 'UANN', channel = 'C1'): Promise<{ status: number; body: string; responseId: string }> {
  const responseId = `r${++responseSeq}`;
  const body = slashCommandBody({ command, text, user, channel, responseUrl: `${fake.base}/response/${responseId}` }, fake.teamId);
  const response = await postSigned(endpoint, formBody(body), 'application/x-www-form-urlencoded', { secret: SECRET });
  return { ...response, responseId };
}

async function interact(payload: Record<string, unknown>): Promise<{ status: number; body: string }> {
  return postSigned(endpoint, interactionBody(payload), 'application/x-www-form-urlencoded', { secret: SECRET });
}

async function postEvent(event: Record<string, unknown>): Promise<{ status: number; body: string }> {
  return postSigned(endpoint, JSON.stringify(eventBody(fake.teamId, fake.botUserId, event)), 'application/json', { secret: SECRET });
}

/** The ephemeral reply sent to a response_url. */
const responseText = (responseId: string): Promise<string> =>
  waitFor(() => fake.responses.find((r) => r.id === responseId)?.body.text as string | undefined, `a reply at response_url ${responseId}`);

/** Every text and block the bot sent through chat.*, as one string. */
const chatPayloads = (calls: readonly ApiCall[] = fake.calls): string =>
  calls.filter((c) => c.method.startsWith('chat.')).map((c) => JSON.stringify([c.args.text, c.args.blocks])).join('\n');

const blockText = (message: FakeMessage | undefined): string => JSON.stringify(message?.blocks ?? []);

/** The card the bot posted whose text carries `marker`, and its job. */
async function cardFor(marker: string, channel = 'C1'): Promise<{ ts: string; jobId: string; post: ApiCall }> {
  const post = await waitFor(() => fake.callsTo('chat.postMessage').find((c) => c.args.channel === channel && String(c.args.text).includes(marker) && c.result?.ok), `the card for "${marker}"`);
  const ts = String(post.result!.ts);
  const record = await waitFor(() => journal().recent({ limit: 200 }).find((r) => deliveryTs(r) === ts), `the job of card ${ts}`);
  return { ts, jobId: record.id, post };
}

const deliveryTs = (record: JobRecord): string | undefined => ((record.delivery as { data?: { ts?: string } } | null)?.data?.ts);

/** Waits until the card shows the result (its buttons); returns the completeUploadExternal call of the job's image. */
async function resultOf(channel: string, cardTs: string, jobId: string): Promise<{ card: FakeMessage; complete: ApiCall; bytes: Buffer }> {
  const card = await waitFor(() => {
    const message = fake.message(channel, cardTs);
    return actionIds(message).some((id) => id.startsWith(`z:reroll:${jobId}`)) ? message : undefined;
  }, `the result card of ${jobId}`);
  const getUrl = fake.callsTo('files.getUploadURLExternal').find((c) => String(c.args.filename).startsWith(`${jobId}-`))!;
  const fileId = String(getUrl.result!.file_id);
  const complete = fake.callsTo('files.completeUploadExternal').find((c) => (c.args.files as { id: string }[])[0]?.id === fileId)!;
  const bytes = fake.uploads.find((u) => u.fileId === fileId)!.bytes;
  return { card, complete, bytes };
}

async function draft(text: string, user = 'UANN', channel = 'C1'): Promise<{ jobId: string; ts: string }> {
  const marker = text.split(' --')[0]!;
  const response = await slash('/draft', text, user, channel);
  expect(response.status).toBe(200);
  const { ts, jobId } = await cardFor(marker, channel);
  await resultOf(channel, ts, jobId);
  return { jobId, ts };
}

function click(actionId: string, user: string, channel: string, message: FakeMessage): Promise<{ status: number; body: string }> & { responseId: string } {
  const responseId = `r${++responseSeq}`;
  const promise = interact({
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: fake.teamId },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: message.ts, channel_id: channel, is_ephemeral: false },
    trigger_id: `trigger-${responseId}`,
    team: { id: fake.teamId, domain: 'fake' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel, name: 'general' },
    message: { type: 'message', user: fake.botUserId, ts: message.ts, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}), text: message.text, blocks: message.blocks },
    state: { values: {} },
    response_url: `${fake.base}/response/${responseId}`,
    actions: [actionPayload(actionId, message)],
  });
  return Object.assign(promise, { responseId });
}

const solidPng = (colour: string): Promise<Buffer> => sharp({ create: { width: 64, height: 64, channels: 3, background: colour } }).png().toBuffer();

// ---------------------------------------------------------------------------------------------------------------

describe('Slack adapter (HTTP mode)', () => {
  let first: { jobId: string; ts: string };

  it('acks /draft at once, posts a status card, updates it, and uploads a PNG into the card’s thread', async () => {
    const response = await slash('/draft', 'a red fox in the snow --seed 7 --count 1');
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
    const { ts, jobId, post } = await cardFor('a red fox in the snow');
    expect(post.args.thread_ts).toBeUndefined();
    const { card, complete, bytes } = await resultOf('C1', ts, jobId);
    first = { jobId, ts };

    // The status card was updated before the upload (queued/running, with a Cancel button), then became the result.
    const updates = fake.callsTo('chat.update').filter((c) => c.args.ts === ts);
    const statusUpdate = updates.find((u) => JSON.stringify(u.args.blocks).includes(`z:cancel:${jobId}`));
    expect(statusUpdate, 'a status update with a Cancel button').toBeDefined();
    expect(String(statusUpdate!.args.text)).toMatch(/Queued|Drafting/);
    expect(fake.calls.indexOf(statusUpdate!)).toBeLessThan(fake.calls.indexOf(complete));
    expect(fake.calls.indexOf(complete)).toBeLessThan(fake.calls.indexOf(updates.at(-1)!));

    // files.uploadV2: getUploadURLExternal (declared length) → upload → completeUploadExternal into the thread.
    const getUrl = fake.callsTo('files.getUploadURLExternal').find((c) => c.args.filename === `${jobId}-1.png`)!;
    expect(Number(getUrl.args.length)).toBe(bytes.length);
    expect(complete.args.channel_id).toBe('C1');
    expect(complete.args.thread_ts).toBe(ts);
    const meta = await sharp(bytes).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 64, 64]);

    expect(actionIds(card)).toEqual([`z:refine:${jobId}:0`, `z:vary-subtle:${jobId}:0`, `z:vary-strong:${jobId}:0`, `z:reroll:${jobId}`, `z:delete:${jobId}`]);
    // One button (Refine), the rest in one menu.
    expect(JSON.stringify(card.blocks)).toContain('"type":"static_select"');
    expect(blockText(card)).toContain('seed 7');
    expect(blockText(card)).toContain('requested by Ann');
    expect(fake.callsTo('users.info').some((c) => c.args.user === 'UANN' && c.args.include_locale === 'true')).toBe(true);
    expect(journal().get(jobId)).toMatchObject({ status: 'done', owner: { platform: 'slack', userId: 'UANN' }, policy: 'block' });
  });

  it('escapes user text so the bot never mentions anyone', async () => {
    // Slack encodes what the user typed: `<b>` arrives as &lt;b&gt;, mentions as <!channel> and <@U…|name>.
    const before = fake.calls.length;
    await slash('/draft', 'zebra &lt;b&gt; &amp; <!channel> <@U999|bob> --count 1', 'UANN');
    const { ts, jobId } = await cardFor('zebra');
    await resultOf('C1', ts, jobId);
    const sent = chatPayloads(fake.calls.slice(before));
    expect(sent).toContain('zebra &lt;b&gt; &amp;');
    expect(sent).not.toMatch(/<!|<@|<#/);
    expect(journal().get(jobId)!.spec.userPrompt).toBe('zebra <b> & channel bob');
  });

  it('Refine n, Vary n and Reroll start new jobs in the card’s thread, owned by whoever clicked', async () => {
    const card = fake.message('C1', first.ts)!;
    const cases = [
      { id: `z:refine:${first.jobId}:0`, user: 'UBOB', role: 'refine' },
      { id: `z:vary-subtle:${first.jobId}:0`, user: 'UBOB', role: 'draft' },
      { id: `z:reroll:${first.jobId}`, user: 'UANN', role: 'draft' },
    ];
    for (const c of cases) {
      const known = new Set(fake.callsTo('chat.postMessage').map((p) => p.result?.ts));
      const response = await click(c.id, c.user, 'C1', card);
      expect(response.status).toBe(200);
      const post = await waitFor(() => fake.callsTo('chat.postMessage').find((p) => p.args.thread_ts === first.ts && !known.has(p.result?.ts)), `the card of ${c.id}`);
      const ts = String(post.result!.ts);
      const record = await waitFor(() => journal().recent({ limit: 200 }).find((r) => deliveryTs(r) === ts), `the job of ${c.id}`);
      expect(record).toMatchObject({ role: c.role, parentId: first.jobId, owner: { platform: 'slack', userId: c.user } });
      const { complete, bytes } = await resultOf('C1', ts, record.id);
      expect(complete.args.thread_ts).toBe(first.ts);
      expect((await sharp(bytes).metadata()).format).toBe('png');
    }
  });

  it('Cancel: refused (ephemerally) for someone else, cancels a waiting job for its owner', async () => {
    // Keep the one worker busy so the job waits in the queue while the buttons are pressed.
    const blockers = [];
    for (let i = 0; i < 8; i++) {
      const submitted = await runtime.engine.submit(
        { role: 'draft', owner: { platform: 'test', userId: `blocker${i}` }, prompt: 'a busy queue', steps: 50, width: 256, height: 256, count: 4 },
        { delivery: null, policy: 'block' },
      );
      if (submitted.ok) blockers.push(submitted.value);
    }
    expect(blockers).toHaveLength(8);
    try {
      await slash('/draft', 'cancel me please --count 1', 'UANN');
      const { ts, jobId } = await cardFor('cancel me please');
      const card = await waitFor(() => (actionIds(fake.message('C1', ts)).includes(`z:cancel:${jobId}`) ? fake.message('C1', ts) : undefined), 'the Cancel button');

      const byBob = click(`z:cancel:${jobId}`, 'UBOB', 'C1', card);
      expect((await byBob).status).toBe(200);
      expect(await responseText(byBob.responseId)).toContain('Only the person who started this job');
      expect(fake.responses.find((r) => r.id === byBob.responseId)!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(journal().get(jobId)!.status).not.toBe('cancelled');

      const byAnn = click(`z:cancel:${jobId}`, 'UANN', 'C1', card);
      expect((await byAnn).status).toBe(200);
      await waitFor(() => fake.message('C1', ts)?.text === 'Cancelled.', 'the card to say Cancelled.');
      expect(journal().get(jobId)!.status).toBe('cancelled');
      expect(actionIds(fake.message('C1', ts))).toEqual([]);
    } finally {
      for (const blocker of blockers) runtime.engine.cancel(blocker.id);
    }
  });

  it('Delete: refused for someone else; for the owner, deletes the card and the uploaded image', async () => {
    const { jobId, ts } = await draft('a teapot to delete --count 1', 'UANN');
    const fileId = String(fake.callsTo('files.getUploadURLExternal').find((c) => c.args.filename === `${jobId}-1.png`)!.result!.file_id);
    const card = fake.message('C1', ts)!;

    const byBob = click(`z:delete:${jobId}`, 'UBOB', 'C1', card);
    expect(await responseText(byBob.responseId)).toContain('Only the person who started this job');
    expect(fake.message('C1', ts)).toBeDefined();

    const byAnn = click(`z:delete:${jobId}`, 'UANN', 'C1', card);
    expect(await responseText(byAnn.responseId)).toBe('Deleted.');
    expect(fake.callsTo('files.delete').map((c) => c.args.file)).toContain(fileId);
    expect(fake.hasFile(fileId)).toBe(false);
    expect(fake.message('C1', ts)).toBeUndefined();

    // A workspace admin may delete anyone's job.
    const bobs = await draft('a kettle Bob made --count 1', 'UBOB');
    const byAdmin = click(`z:delete:${bobs.jobId}`, 'UADM', 'C1', fake.message('C1', bobs.ts)!);
    expect(await responseText(byAdmin.responseId)).toBe('Deleted.');
    expect(fake.message('C1', bobs.ts)).toBeUndefined();
  });

  it('/refine and /edit without an image start from the user’s latest image in the channel', async () => {
    const owl = await draft('an owl on a branch --count 1', 'UANN', 'C3');
    const refine = await slash('/refine', '--steps 28', 'UANN', 'C3');
    expect(refine.status).toBe(200);
    const refined = await waitFor(() => journal().recent({ limit: 200 }).find((r) => r.role === 'refine' && r.parentId === owl.jobId), 'the refine of the owl');
    expect(refined.spec).toMatchObject({ userPrompt: 'an owl on a branch', steps: 28 });
    await resultOf('C3', deliveryTs(refined)!, refined.id);

    await slash('/edit', 'as a pencil sketch', 'UANN', 'C3');
    const edited = await waitFor(() => journal().recent({ limit: 200 }).find((r) => r.role === 'edit' && r.parentId === refined.id), 'the edit of the refined owl');
    expect(edited.spec.userPrompt).toBe('an owl on a branch, as a pencil sketch');
    await resultOf('C3', deliveryTs(edited)!, edited.id);

    const nothing = await slash('/edit', 'as a sketch', 'UANN', 'C4');
    expect(await responseText(nothing.responseId)).toBe('Attach an image, or reply to one, to do that.');
  });

  it('edits the image of a thread when the bot is mentioned there, downloading it with the bot token', async () => {
    const file = fake.addFile(await solidPng('#3060c0'), { name: 'photo.png', user: 'UANN' });
    const parent = fake.addMessage('C1', { user: 'UANN', text: 'our logo', files: [file] });
    const response = await postEvent({ type: 'app_mention', user: 'UBOB', text: `<@${fake.botUserId}> make it glow --seed 3`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: parent.ts });
    expect(response.status).toBe(200);

    const post = await waitFor(() => fake.callsTo('chat.postMessage').find((c) => c.args.thread_ts === parent.ts), 'the edit card in the thread');
    expect(fake.callsTo('conversations.replies').some((c) => c.args.ts === parent.ts && c.args.channel === 'C1')).toBe(true);
    expect(fake.downloads.filter((d) => d.path.startsWith(`/files/${file.id}/`))).toEqual([{ path: `/files/${file.id}/photo.png`, authorization: `Bearer ${BOT_TOKEN}`, status: 200 }]);
    const ts = String(post.result!.ts);
    const record = await waitFor(() => journal().recent({ limit: 200 }).find((r) => deliveryTs(r) === ts), 'the edit job');
    expect(record).toMatchObject({ role: 'edit', owner: { userId: 'UBOB' } });
    expect(record.spec.userPrompt).toBe('make it glow');
    const { complete, bytes } = await resultOf('C1', ts, record.id);
    expect(complete.args.thread_ts).toBe(parent.ts);
    expect((await sharp(bytes).metadata()).format).toBe('png');
  });

  it('in a thread longer than a page, a mention edits the newest image (the pages are followed)', async () => {
    const first = fake.addFile(await solidPng('#3060c0'), { name: 'first.png', user: 'UANN' });
    const parent = fake.addMessage('C1', { user: 'UANN', text: 'long thread', files: [first] });
    for (let i = 0; i < 450; i++) fake.addMessage('C1', { user: 'UBOB', text: `chatter ${i}`, thread_ts: parent.ts });
    const latest = fake.addFile(await solidPng('#30c060'), { name: 'latest.png', user: 'UBOB' });
    fake.addMessage('C1', { user: 'UBOB', text: 'new version', files: [latest], thread_ts: parent.ts });
    await postEvent({ type: 'app_mention', user: 'UBOB', text: `<@${fake.botUserId}> add a frame`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: parent.ts });

    await waitFor(() => fake.downloads.find((d) => d.path === `/files/${latest.id}/latest.png`), 'the newest image downloaded');
    expect(fake.callsTo('conversations.replies').filter((c) => c.args.ts === parent.ts).length).toBeGreaterThanOrEqual(3);
    expect(fake.downloads.some((d) => d.path.startsWith(`/files/${first.id}/`))).toBe(false);
  });

  it('a mention in the thread of one of the bot’s results edits that candidate, prompt known, nothing downloaded', async () => {
    const lighthouse = await draft('a lighthouse on a cliff --count 1', 'UANN');
    const downloads = fake.downloads.length;
    await postEvent({ type: 'app_mention', user: 'UBOB', text: `<@${fake.botUserId}> at night`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: lighthouse.ts });
    const record = await waitFor(() => journal().recent({ limit: 200 }).find((r) => r.role === 'edit' && r.parentId === lighthouse.jobId), 'the edit of the lighthouse');
    expect(record.spec.userPrompt).toBe('a lighthouse on a cliff, at night');
    expect(record.owner.userId).toBe('UBOB');
    await resultOf('C1', deliveryTs(record)!, record.id);
    expect(fake.downloads.length).toBe(downloads);
  });

  it('refuses an image on a foreign host without downloading it', async () => {
    const foreign = fake.addFile(await solidPng('#00ff00'), { name: 'elsewhere.png', user: 'UANN', url: `http://localhost:${fake.port}/files/FOREIGN/elsewhere.png` });
    const parent = fake.addMessage('C1', { user: 'UANN', text: 'from elsewhere', files: [foreign] });
    await postEvent({ type: 'app_mention', user: 'UANN', text: `<@${fake.botUserId}> sharpen`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: parent.ts });
    const ephemeral = await waitFor(() => fake.callsTo('chat.postEphemeral').find((c) => c.args.thread_ts === parent.ts), 'the refusal');
    expect(ephemeral.args).toMatchObject({ channel: 'C1', user: 'UANN' });
    expect(String(ephemeral.args.text)).toContain('I only download images from the platform’s own file servers.');
    expect(fake.downloads.some((d) => d.path.includes('FOREIGN') || d.path.includes(foreign.id))).toBe(false);
    expect(fake.callsTo('chat.postMessage').some((c) => c.args.thread_ts === parent.ts)).toBe(false);
  });

  it('the “Edit image” shortcut opens a modal; its submission edits the region and answers in the message’s thread', async () => {
    const file = fake.addFile(await solidPng('#c03030'), { name: 'poster.png', user: 'UBOB' });
    const message = fake.addMessage('C2', { user: 'UBOB', text: 'poster draft', files: [file] });
    const shortcut = await interact(editShortcut('trigger-shortcut-1', { id: 'C2', name: 'design' }, { type: 'message', user: 'UBOB', ts: message.ts, text: message.text, files: [file] }));
    expect(shortcut.status).toBe(200);
    const open = await waitFor(() => fake.callsTo('views.open').find((c) => c.args.trigger_id === 'trigger-shortcut-1'), 'views.open');
    const view = open.args.view as { callback_id: string; private_metadata: string; blocks: { block_id: string }[] };
    expect(view.callback_id).toBe('edit_image_modal');
    expect(view.blocks.map((b) => b.block_id)).toEqual(['instruction', 'region']);

    const submitted = await interact(viewSubmission('UANN', view.private_metadata, 'paint it gold --seed 5', 'left'));
    expect(submitted).toEqual({ status: 200, body: '' });
    const post = await waitFor(() => fake.callsTo('chat.postMessage').find((c) => c.args.channel === 'C2' && c.args.thread_ts === message.ts), 'the edit card');
    const ts = String(post.result!.ts);
    const record = await waitFor(() => journal().recent({ limit: 200 }).find((r) => deliveryTs(r) === ts), 'the modal’s edit job');
    expect(record).toMatchObject({ role: 'edit', owner: { userId: 'UANN' }, spec: { userPrompt: 'paint it gold', seed: 5, mask: { kind: 'region' } } });
    expect(fake.downloads.some((d) => d.path === `/files/${file.id}/poster.png` && d.authorization === `Bearer ${BOT_TOKEN}`)).toBe(true);
    const { complete } = await resultOf('C2', ts, record.id);
    expect(complete.args.thread_ts).toBe(message.ts);
  });

  it('a grid of several candidates: a mention edits every one (one job, a grid back) or the one `#n` picks; the modal’s candidate is optional', async () => {
    await slash('/draft', '{red|blue} kite over a field', 'UANN');
    const { ts, jobId } = await cardFor('kite over a field');
    await resultOf('C1', ts, jobId);
    const upload = fake.thread('C1', ts).find((m) => m.files?.[0]?.name === `${jobId}-grid.png`)!;
    expect(upload).toBeDefined();
    const editsOf = (): JobRecord[] => journal().recent({ limit: 200 }).filter((r) => r.role === 'edit' && r.parentId === jobId);

    // No pick: both candidates, each from its own image with its own prompt, in one job whose result is a grid.
    await postEvent({ type: 'app_mention', user: 'UANN', text: `<@${fake.botUserId}> add clouds`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: ts });
    const all = await waitFor(() => editsOf()[0], 'the edit of every candidate');
    expect(all.spec.candidates.map((c) => c.prompt)).toEqual(['red kite over a field, add clouds', 'blue kite over a field, add clouds']);
    expect(all.spec.candidates.map((c) => c.parentIndex)).toEqual([0, 1]);
    await resultOf('C1', deliveryTs(all)!, all.id);
    expect(fake.thread('C1', ts).some((m) => m.files?.[0]?.name === `${all.id}-grid.png`)).toBe(true);

    // `#2` (or ＃2) at the start: candidate 2 alone — of the thread's newest image, which is now the edit's grid.
    await postEvent({ type: 'app_mention', user: 'UANN', text: `<@${fake.botUserId}> ＃2 add a sun`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C1', thread_ts: ts });
    const second = await waitFor(() => journal().recent({ limit: 200 }).find((r) => r.role === 'edit' && r.parentId === all.id), 'the edit of candidate 2');
    expect(second.spec.candidates.map((c) => c.prompt)).toEqual(['blue kite over a field, add clouds, add a sun']);
    await resultOf('C1', deliveryTs(second)!, second.id);

    // The shortcut's modal offers the candidates, none chosen (every one); choosing 1 edits candidate 1.
    await interact(editShortcut('trigger-grid-1', { id: 'C1', name: 'general' }, { type: 'message', user: fake.botUserId, ts: upload.ts, thread_ts: ts, text: '', files: upload.files }));
    const open = await waitFor(() => fake.callsTo('views.open').find((c) => c.args.trigger_id === 'trigger-grid-1'), 'views.open');
    const view = open.args.view as { private_metadata: string; blocks: { block_id: string; optional?: boolean; element: { options?: { value: string }[]; initial_option?: unknown } }[] };
    const select = view.blocks.find((b) => b.block_id === 'candidate')!;
    expect(select.element.options!.map((o) => o.value)).toEqual(['1', '2']);
    expect(select.optional).toBe(true);
    expect(select.element.initial_option).toBeUndefined();
    const downloads = fake.downloads.length;
    expect((await interact(viewSubmission('UANN', view.private_metadata, 'add birds', '', '1'))).status).toBe(200);
    const first = await waitFor(() => editsOf().find((r) => r.spec.userPrompt.endsWith('add birds')), 'the edit of candidate 1');
    expect(first.spec.candidates.map((c) => c.prompt)).toEqual(['red kite over a field, add birds']);
    await resultOf('C1', deliveryTs(first)!, first.id);
    expect(fake.downloads.length).toBe(downloads);
  });

  it('bad input in the modal is shown in the modal, and nothing is queued', async () => {
    const file = fake.addFile(await solidPng('#808080'), { name: 'grey.png', user: 'UANN' });
    const metadata = JSON.stringify({ channel: 'C2', threadTs: fake.nextTs(), file });
    const posts = fake.callsTo('chat.postMessage').length;
    const response = await interact(viewSubmission('UANN', metadata, 'brighter --seed abc', ''));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ response_action: 'errors', errors: { instruction: '--seed needs a whole number, not "abc".' } });
    expect(fake.callsTo('chat.postMessage').length).toBe(posts);
    expect(fake.downloads.some((d) => d.path.includes(file.id))).toBe(false);
  });

  it('answers a user whose Slack locale is Chinese in Chinese', async () => {
    const bad = await slash('/draft', '狐狸 --sed 1', 'UZH');
    expect(await responseText(bad.responseId)).toContain('不认识的选项 --sed');
    await slash('/draft', '一只红色的狐狸 --count 1', 'UZH');
    const { ts, jobId } = await cardFor('一只红色的狐狸');
    const { card } = await resultOf('C1', ts, jobId);
    expect(blockText(card)).toContain('精修 1');
    expect(blockText(card)).toContain('由 李雷 发起');
    expect(fake.callsTo('chat.update').some((c) => c.args.ts === ts && /排队中|草图生成/.test(String(c.args.text)))).toBe(true);
  });

  it('rejects a bad signature and a stale timestamp with 401, and does nothing', async () => {
    const fields = formBody(slashCommandBody({ command: '/draft', text: 'forged request', user: 'UANN', channel: 'C1', responseUrl: `${fake.base}/response/forged` }, fake.teamId));
    const badSignature = await postSigned(endpoint, fields, 'application/x-www-form-urlencoded', { secret: 'not-the-secret' });
    expect(badSignature.status).toBe(401);
    const stale = await postSigned(endpoint, fields, 'application/x-www-form-urlencoded', { secret: SECRET, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
    // A real request after them is answered; by then anything the forged ones started would have shown.
    const after = await slash('/draft', 'after forgery --sed 1', 'UANN');
    await responseText(after.responseId);
    expect(fake.calls.some((c) => JSON.stringify(c.args).includes('forged'))).toBe(false);
    expect(fake.responses.some((r) => r.id === 'forged')).toBe(false);
    expect(journal().recent({ limit: 500 }).some((r) => r.spec.userPrompt.includes('forged'))).toBe(false);
  });

  it('answers bad input privately, posts and queues nothing for it, and keeps working', async () => {
    const posts = fake.callsTo('chat.postMessage').length;
    const outOfRange = await slash('/draft', 'too many --count 9', 'UANN');
    expect(outOfRange.status).toBe(200);
    expect(await responseText(outOfRange.responseId)).toBe('--count must be between 1 and 4; you gave 9.');
    expect(fake.callsTo('chat.postMessage').length).toBe(posts);

    // An empty prompt passes the grammar but not the engine's checks, which run before any card is posted.
    const empty = await slash('/draft', '--seed 1', 'UANN');
    expect(await responseText(empty.responseId)).toBe('Tell me what to draw: the prompt is empty.');
    expect(fake.callsTo('chat.postMessage').length).toBe(posts);
    expect(fake.responses.find((r) => r.id === empty.responseId)!.body.response_type).toBe('ephemeral');

    const still = await draft('still working --count 1', 'UANN');
    expect(journal().get(still.jobId)!.status).toBe('done');
  });

  it('tells the user to invite the bot when it is not in the channel', async () => {
    fake.notInChannel.add('CNOPE');
    const response = await slash('/draft', 'somewhere private --count 1', 'UANN', 'CNOPE');
    expect(await responseText(response.responseId)).toContain('/invite');
    expect(journal().recent({ limit: 500 }).some((r) => r.spec.userPrompt === 'somewhere private')).toBe(false);
  });

  it('after a restart, continues a recovered job in its card and reports a lost one', async () => {
    const base = journal().get(first.jobId)!;
    const card = fake.addMessage('C1', { user: fake.botUserId, text: 'a card from before the restart' });
    const place = { platform: 'slack', channelId: 'C1', channelIsNsfw: false };
    const scope = { platform: 'slack', workspace: fake.teamId, channel: 'C1' };
    // What a previous process left in the journal: a second connection to the same file, as that process had.
    const previous = new JobJournal(join(runtime.config.dataDir, 'zimage.db'));
    previous.add({
      id: 'resumedjob01',
      scope,
      owner: { platform: 'slack', userId: 'UANN', name: 'Ann' },
      spec: base.spec,
      cost: base.cost,
      delivery: { channel: 'C1', locale: 'en', place, data: { v: 1, channel: 'C1', ts: card.ts, threadTs: null, by: 'Ann' } },
      policy: 'block',
      parentId: null,
    });
    previous.add({
      id: 'lostjob00001',
      scope,
      owner: { platform: 'slack', userId: 'UZH' },
      spec: base.spec,
      cost: base.cost,
      delivery: { channel: 'C1', locale: 'zh-CN', place, data: null },
      policy: 'block',
      parentId: null,
    });
    previous.close();
    const { resumed, failed } = runtime.engine.recover((record) => (record.owner.platform === 'slack' ? adapter.resume(record) : { resume: false, reason: 'not ours' }));
    expect(resumed.map((h) => h.id)).toContain('resumedjob01');
    const lost = failed.find((r) => r.id === 'lostjob00001')!;
    expect(lost).toBeDefined();

    const { complete } = await resultOf('C1', card.ts, 'resumedjob01');
    expect(complete.args.thread_ts).toBe(card.ts);

    await adapter.reportLost(lost);
    const note = fake.callsTo('chat.postEphemeral').find((c) => c.args.user === 'UZH' && String(c.args.text).includes('lostjob00001'))!;
    expect(note.args.channel).toBe('C1');
    expect(String(note.args.text)).toContain('机器人重启了');

    // A lost job whose card is known: the card stops offering Cancel, and the thread says why.
    const lostCard = fake.addMessage('C1', { user: fake.botUserId, text: 'another old card' });
    await adapter.reportLost({
      ...lost,
      id: 'lostjob00002',
      owner: { platform: 'slack', userId: 'UANN' },
      delivery: { channel: 'C1', locale: 'en', place, data: { v: 1, channel: 'C1', ts: lostCard.ts, threadTs: null, by: null } },
    });
    const reply = fake.callsTo('chat.postMessage').find((c) => c.args.thread_ts === lostCard.ts)!;
    expect(String(reply.args.text)).toContain('could not finish your job lostjob00002');
    expect(fake.message('C1', lostCard.ts)!.text).toContain('could not finish your job lostjob00002');
  });

  it('answers in Socket Mode: apps.connections.open with the app token, hello, a slash command envelope acked', async () => {
    const socketRuntime: Runtime = { ...runtime, config: { ...runtime.config, slack: { ...runtime.config.slack, appToken: APP_TOKEN } } };
    const socket = await startSlackAdapter(socketRuntime);
    try {
      expect(socket.mode).toBe('socket');
      expect(fake.callsTo('apps.connections.open').at(-1)!.authorization).toBe(`Bearer ${APP_TOKEN}`);
      await waitFor(() => fake.socketCount === 1, 'the socket connection');
      const payload = slashCommandBody({ command: '/draft', text: 'over the socket --count 1', user: 'UBOB', channel: 'C1', responseUrl: `${fake.base}/response/socket-1` }, fake.teamId);
      const ack = await fake.sendEnvelope('slash_commands', payload);
      expect(ack.envelope_id).toMatch(/^env-/);
      const { ts, jobId } = await cardFor('over the socket');
      await resultOf('C1', ts, jobId);
    } finally {
      await socket.stop();
    }
    await waitFor(() => fake.socketCount === 0, 'the socket to close');
  });

  it('after the core pauses, refuses new commands with one clear message', async () => {
    runtime.core.pause();
    const response = await slash('/draft', 'too late --count 1', 'UANN');
    expect(await responseText(response.responseId)).toBe('The bot is restarting. Try again in a minute.');
    expect(journal().recent({ limit: 500 }).some((r) => r.spec.userPrompt === 'too late')).toBe(false);
  });
});

/** Ann's "Edit image" message shortcut on `message` in `channel`. */
function editShortcut(triggerId: string, channel: { id: string; name: string }, message: { ts: string } & Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message_action',
    callback_id: 'edit_image',
    trigger_id: triggerId,
    action_ts: String(Date.now() / 1000),
    token: 'legacy-verification-token',
    team: { id: fake.teamId, domain: 'fake' },
    channel,
    user: { id: 'UANN', name: 'ann', team_id: fake.teamId },
    response_url: `${fake.base}/response/${triggerId}`,
    message_ts: message.ts,
    message,
    is_enterprise_install: false,
  };
}

function viewSubmission(user: string, privateMetadata: string, instruction: string, region: string, candidate?: string): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: fake.teamId, domain: 'fake' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: fake.teamId },
    api_app_id: 'A0TEST',
    token: 'legacy-verification-token',
    trigger_id: 'trigger-view',
    is_enterprise_install: false,
    view: {
      id: 'V0TEST',
      team_id: fake.teamId,
      type: 'modal',
      callback_id: 'edit_image_modal',
      private_metadata: privateMetadata,
      title: { type: 'plain_text', text: 'Edit image' },
      blocks: [],
      state: {
        values: {
          instruction: { value: { type: 'plain_text_input', value: instruction } },
          region: { value: { type: 'plain_text_input', value: region || null } },
          ...(candidate !== undefined ? { candidate: { value: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: candidate }, value: candidate } } } } : {}),
        },
      },
      hash: 'h',
      root_view_id: 'V0TEST',
      previous_view_id: null,
      app_id: 'A0TEST',
      bot_id: 'B0TEST',
      clear_on_close: false,
      notify_on_close: false,
      external_id: '',
    },
  };
}

