import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDiscordAdapter, type DiscordAdapter } from '../../../src/bots/discord/index.ts';
import { errorText } from '../../../src/bots/core/texts.ts';
import type { JobHandle } from '../../../src/engine/job-handle.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeDiscord, type FakeMessage, type Interacted, type RecordedRequest } from './fake-discord.ts';
import { callbackTypes, customIds, customIdsOf, jobOf, pngOf, privateReply as privateReplyOf, resultOf as resultOfToken, statusCardOf } from './fake-helpers.ts';

/**
 * The real discord.js client (REST + gateway) and the real runtime (engine, ONNX fixture model, nsfwjs, SQLite
 * journal) against a fake Discord on 127.0.0.1. The fixture model makes a job take well under a second, so the
 * tests wait for what the fake received rather than for time to pass.
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let fake: FakeDiscord;
let runtime: Runtime;
let adapter: DiscordAdapter;

beforeAll(async () => {
  fake = await FakeDiscord.start();
  runtime = await startTestRuntime({
    statusIntervalMs: 100,
    config: {
      discord: { token: fake.token, apiBase: fake.apiBase, guildId: fake.guildId },
      // Longer jobs for the queue that keeps a job waiting while it is cancelled.
      profiles: { draft: { maxSteps: 50 } },
      queue: { maxWaitingPerUser: 20 },
    },
  });
  adapter = await startDiscordAdapter(runtime);
});

afterAll(async () => {
  await adapter?.stop();
  await runtime?.close();
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// helpers

const journal = (): Runtime['core']['history'] => runtime.core.history;
const resultOf = (token: string): Promise<FakeMessage> => resultOfToken(fake, token);
const privateReply = (token: string): Promise<string> => privateReplyOf(fake, token);
const png = pngOf;

async function draft(prompt: string, options: Record<string, string | number> = {}, user = fake.alice): Promise<{ interaction: Interacted; result: FakeMessage }> {
  const interaction = fake.slash('draft', { prompt, ...options }, { user });
  return { interaction, result: await resultOf(interaction.token) };
}

/** A PNG that is not one of the bot's (no job behind it): an upload. */
const upload = (colour: string): Promise<Buffer> => sharp({ create: { width: 64, height: 64, channels: 3, background: colour } }).png().toBuffer();

// ---------------------------------------------------------------------------------------------------------------

describe('discord adapter against a fake Discord', () => {
  let first: { interaction: Interacted; result: FakeMessage; jobId: string };

  it('logs in with Guilds + GuildMessages + GuildMessageReactions only and registers the commands once, localized', () => {
    // Guilds (1 << 0) + GuildMessages (1 << 9) + GuildMessageReactions (1 << 10); no privileged Message Content (1 << 15).
    expect(fake.identifies.map((i) => i.intents)).toEqual([1537]);
    const puts = fake.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/applications/'));
    expect(puts.map((r) => r.path)).toEqual([`/applications/${fake.appId}/guilds/${fake.guildId}/commands`]);
    const commands = puts[0]!.json as {
      name: string;
      type?: number;
      name_localizations?: Record<string, string>;
      description_localizations?: Record<string, string>;
      options?: { name: string; type: number; required?: boolean; min_value?: number; max_value?: number; choices?: { name: string; value: string; name_localizations?: Record<string, string> }[]; name_localizations?: Record<string, string>; description_localizations?: Record<string, string> }[];
    }[];
    expect(commands.map((c) => c.name)).toEqual(['draft', 'refine', 'edit', 'board', 'settings', 'Edit image']);
    const [draftCommand, refine, edit, , , menu] = commands;
    expect(draftCommand!.name_localizations).toMatchObject({ 'zh-CN': '草图' });
    expect(draftCommand!.description_localizations!['zh-CN']).toMatch(/草图/);
    const options = new Map(draftCommand!.options!.map((o) => [o.name, o]));
    expect(draftCommand!.options![0]).toMatchObject({ name: 'prompt', type: 3, required: true });
    expect([...options.keys()]).toEqual(['prompt', 'count', 'seed', 'chaos', 'ar', 'style', 'no', 'steps', 'guidance']);
    expect(options.get('count')).toMatchObject({ type: 4, min_value: 1, max_value: 4, name_localizations: { 'zh-CN': '数量' } });
    expect(options.get('steps')).toMatchObject({ min_value: 1, max_value: 50 });
    expect(options.get('guidance')).toMatchObject({ type: 10, min_value: 0, max_value: 20 });
    expect(options.get('seed')!.description_localizations!['zh-CN']).toContain('种子');
    const styles = options.get('style')!.choices!;
    expect(styles.map((c) => c.value)).toEqual(runtime.engine.styles.presets.map((p) => p.name));
    expect(styles.find((c) => c.value === 'ink')).toMatchObject({ name: 'Ink wash 水墨', name_localizations: { 'zh-CN': '水墨' } });
    expect(refine!.options!.map((o) => [o.name, o.required])).toEqual(expect.arrayContaining([['prompt', false], ['image', false], ['strength', false]]));
    expect(refine!.options!.find((o) => o.name === 'steps')).toMatchObject({ min_value: 28, max_value: 50 });
    expect(edit!.options!.slice(0, 2).map((o) => [o.name, o.type, o.required])).toEqual([['prompt', 3, true], ['image', 11, true]]);
    expect(edit!.options!.map((o) => o.name)).toEqual(expect.arrayContaining(['region', 'strength', 'mask']));
    expect(menu).toMatchObject({ type: 3, name: 'Edit image', name_localizations: { 'zh-CN': '编辑图像' } });
    expect(menu).not.toHaveProperty('description', expect.any(String));
  });

  it('/draft defers, shows a status card with Cancel, then the grid PNG, the footer and the buttons', async () => {
    const { interaction, result } = await draft('a red fox @everyone <@123456789012345678> --seed 42', { count: 2 });
    first = { interaction, result, jobId: jobOf(result) };
    expect(callbackTypes(fake, interaction.token)).toEqual([5]);
    expect(((fake.callbacks(interaction.token)[0]!.json as { data?: { flags?: number } }).data?.flags ?? 0) & 64).toBe(0);
    // The card went through a status with a Cancel button before the result.
    const statuses = result.history.filter((h) => customIdsOf(h.components).some((id) => id === `z:cancel:${first.jobId}`));
    expect(statuses.length).toBeGreaterThan(0);
    expect(result.history.some((h) => /Queued|step \d+\/\d+|starting|finishing/.test(h.content))).toBe(true);

    const image = await png(result);
    // Two 64×64 candidates side by side (with the grid's gutter).
    expect(image.height).toBe(64);
    expect(image.width).toBeGreaterThanOrEqual(128);
    expect(result.attachments[0]!.filename).toBe(`${first.jobId}-grid.png`);
    expect(result.content).toContain('> a red fox @everyone');
    expect(result.content).toMatch(new RegExp(`-# .+ · seed 42 · 8 steps · 64×64 · [\\d.]+ s · job ${first.jobId}`));
    expect(customIds(result)).toEqual([
      `z:refine:${first.jobId}:0`,
      `z:refine:${first.jobId}:1`,
      `z:vary-subtle:${first.jobId}:0`,
      `z:vary-strong:${first.jobId}:0`,
      `z:vary-subtle:${first.jobId}:1`,
      `z:vary-strong:${first.jobId}:1`,
      `z:reroll:${first.jobId}`,
      `z:delete:${first.jobId}`,
    ]);
    const record = journal().get(first.jobId)!;
    expect(record.owner).toMatchObject({ platform: 'discord', userId: fake.alice.id });
    expect(record.spec).toMatchObject({ seed: 42, userPrompt: 'a red fox @everyone <@123456789012345678>' });
  });

  it('a Refine press starts a refine of that candidate, owned by whoever pressed', async () => {
    const press = fake.click(first.result, `z:refine:${first.jobId}:1`, { user: fake.bob });
    const result = await resultOf(press.token);
    expect(callbackTypes(fake, press.token)).toEqual([5]);
    const record = journal().get(jobOf(result))!;
    expect(record).toMatchObject({ role: 'refine', parentId: first.jobId, owner: { userId: fake.bob.id } });
    expect(record.spec.userPrompt).toBe('a red fox @everyone <@123456789012345678>');
    expect(result.content).toMatch(/ · 30 steps · /);
    expect((await png(result)).width).toBe(64);
  });

  it('/refine without an image refines the user’s latest draft here; with one, that upload', async () => {
    const latest = fake.slash('refine', {}, { user: fake.alice });
    const result = await resultOf(latest.token);
    const record = journal().get(jobOf(result))!;
    expect(record).toMatchObject({ role: 'refine', owner: { userId: fake.alice.id } });
    expect(record.parentId).toBe(journal().latestDone({ owner: { platform: 'discord', userId: fake.alice.id }, roles: ['draft'], scope: journal().get(first.jobId)!.scope })!.id);

    const attached = fake.slash('refine', { prompt: 'sharper', image: fake.hostAttachment(await upload('#118844'), 'sketch.png'), strength: 0.4 });
    const record2 = journal().get(jobOf(await resultOf(attached.token)))!;
    expect(record2).toMatchObject({ role: 'refine', parentId: null, spec: { userPrompt: 'sharper', strength: 0.4 } });
  });

  it('passes the channel’s NSFW flag to the moderation policy', async () => {
    const request = fake.slash('draft', { prompt: 'a night market' }, { channelId: fake.nsfwChannelId });
    const result = await resultOf(request.token);
    const envelope = journal().get(jobOf(result))!.delivery as { place: { channelIsNsfw: boolean; channelId: string } };
    expect(envelope.place).toMatchObject({ channelId: fake.nsfwChannelId, channelIsNsfw: true });
    expect((journal().get(first.jobId)!.delivery as { place: { channelIsNsfw: boolean } }).place.channelIsNsfw).toBe(false);
  });

  it('a Vary press makes new candidates around the chosen one', async () => {
    const press = fake.click(first.result, `z:vary-strong:${first.jobId}:0`);
    const result = await resultOf(press.token);
    const record = journal().get(jobOf(result))!;
    expect(record).toMatchObject({ role: 'draft', parentId: first.jobId });
    expect(record.spec.candidates).toHaveLength(2);
    expect(record.spec.candidates[0]!.noise).toMatchObject({ t: expect.any(Number) });
  });

  it('replying to a result with an @mention edits that candidate; replying to an upload edits the upload', async () => {
    const reply = fake.postMessage(fake.bob, { content: `<@${fake.bot.id}> #2 make it blue`, replyTo: first.result, mentionsBot: true });
    const card = await fake.waitFor('the edit result in the channel', () =>
      [...fake.messages.values()].find((m) => m.message_reference?.message_id === reply.id && m.attachments.length > 0 && customIds(m).some((id) => id.startsWith('z:refine:'))),
    );
    // One card: posted as a reply to the request, edited from status into the result.
    expect(card.history.some((h) => customIdsOf(h.components).some((id) => id.startsWith('z:cancel:')))).toBe(true);
    const record = journal().get(jobOf(card))!;
    expect(record).toMatchObject({ role: 'edit', parentId: first.jobId, owner: { userId: fake.bob.id } });
    expect(record.spec.userPrompt).toBe('a red fox @everyone <@123456789012345678>, make it blue');

    const theirs = fake.userMessage(fake.alice, { attachments: [fake.hostAttachment(await upload('#aa3300'), 'photo.png')] });
    const reply2 = fake.postMessage(fake.alice, { content: `<@${fake.bot.id}> add a hat --strength 0.5`, replyTo: theirs, mentionsBot: true });
    const card2 = await fake.waitFor('the upload edit result', () =>
      [...fake.messages.values()].find((m) => m.message_reference?.message_id === reply2.id && m.attachments.length > 0),
    );
    const record2 = journal().get(jobOf(card2))!;
    expect(record2).toMatchObject({ role: 'edit', parentId: null });
    expect(record2.spec).toMatchObject({ userPrompt: 'add a hat', strength: 0.5 });

    // A mention with no image to edit: the answer is a reply in the channel (a mention has no private way back).
    const bare = fake.postMessage(fake.alice, { content: `<@${fake.bot.id}> hello there`, mentionsBot: true });
    const answer = await fake.waitFor('the answer to a mention without an image', () => [...fake.messages.values()].find((m) => m.message_reference?.message_id === bare.id));
    expect(answer.content).toBe(errorText('en', { code: 'no-image' }));
  });

  it('a reply without `#n` to a result of several candidates edits every one in one job, with a grid back', async () => {
    const reply = fake.postMessage(fake.bob, { content: `<@${fake.bot.id}> make it green`, replyTo: first.result, mentionsBot: true });
    const card = await fake.waitFor('the grid edit result', () =>
      [...fake.messages.values()].find((m) => m.message_reference?.message_id === reply.id && m.attachments.length > 0 && customIds(m).some((id) => id.startsWith('z:refine:'))),
    );
    const record = journal().get(jobOf(card))!;
    expect(record).toMatchObject({ role: 'edit', parentId: first.jobId, owner: { userId: fake.bob.id } });
    expect(record.spec.candidates.map((c) => [c.prompt, c.parentIndex])).toEqual([
      ['a red fox @everyone <@123456789012345678>, make it green', 0],
      ['a red fox @everyone <@123456789012345678>, make it green', 1],
    ]);
    expect(card.attachments[0]!.filename).toBe(`${record.id}-grid.png`);
    expect(customIds(card)).toEqual(expect.arrayContaining([`z:refine:${record.id}:0`, `z:refine:${record.id}:1`]));
    // A pick past the result's candidates is refused, in the channel (a mention has no private way back).
    const tooFar = fake.postMessage(fake.bob, { content: `<@${fake.bot.id}> #3 make it green`, replyTo: first.result, mentionsBot: true });
    const answer = await fake.waitFor('the refusal of #3', () => [...fake.messages.values()].find((m) => m.message_reference?.message_id === tooFar.id));
    expect(answer.content).toBe(errorText('en', { code: 'no-such-candidate', params: { n: 3, count: 2 } }));
  });

  it('the "Edit image" menu opens a form; submitting it edits the chosen candidate or the upload', async () => {
    const menu = fake.contextMenu(first.result, 'Edit image');
    const modal = await fake.waitFor('the edit form', () => fake.modalOf(menu.token) ?? undefined);
    expect(modal.custom_id).toBe(`zf:j:${first.jobId}:01`);
    const fieldIds = (modal.components as { component: { custom_id: string } }[]).map((c) => c.component.custom_id);
    expect(fieldIds).toEqual(['instruction', 'region', 'candidate']);
    const submit = fake.submitModal(String(modal.custom_id), { instruction: 'paint the sky pink', region: 'top', candidate: '2' });
    const result = await resultOf(submit.token);
    const record = journal().get(jobOf(result))!;
    expect(record).toMatchObject({ role: 'edit', parentId: first.jobId, spec: { mask: { kind: 'region' } } });
    expect(record.spec.userPrompt).toContain('paint the sky pink');

    const theirs = fake.userMessage(fake.bob, { attachments: [fake.hostAttachment(await upload('#2266aa'), 'cat.png')] });
    const menu2 = fake.contextMenu(theirs, 'Edit image', { user: fake.bob });
    const modal2 = await fake.waitFor('the second edit form', () => fake.modalOf(menu2.token) ?? undefined);
    expect(String(modal2.custom_id)).toMatch(/^zf:u:/);
    const submit2 = fake.submitModal(String(modal2.custom_id), { instruction: 'make it night', region: '' }, { user: fake.bob });
    const result2 = await resultOf(submit2.token);
    expect(journal().get(jobOf(result2))).toMatchObject({ role: 'edit', parentId: null, spec: { userPrompt: 'make it night' } });

    // A message without an image: the menu says so, privately.
    const plain = fake.userMessage(fake.bob, { content: 'just words' });
    const menu3 = fake.contextMenu(plain, 'Edit image');
    expect(await privateReply(menu3.token)).toBe(errorText('en', { code: 'no-image' }));
  });

  it('cancel: another user is refused privately, the owner cancels the waiting job', async () => {
    // Other users' long jobs ahead in the fair queue keep this one waiting.
    const blockers: JobHandle[] = [];
    for (let i = 0; i < 6; i++) {
      const submitted = await runtime.engine.submit({ role: 'draft', owner: { platform: 'load', userId: `u${i}` }, prompt: `blocker ${i}`, count: 4, steps: 50, width: 256, height: 256 });
      if (submitted.ok) blockers.push(submitted.value);
    }
    const request = fake.slash('draft', { prompt: 'a slow heron' });
    const { card, jobId, cancelId } = await statusCardOf(fake, request.token);
    const byBob = fake.click(card, cancelId, { user: fake.bob });
    const byAlice = fake.click(card, cancelId, { user: fake.alice });
    expect(await privateReply(byBob.token)).toBe(errorText('en', { code: 'not-owner' }));
    await fake.waitFor('the cancelled card', () => fake.original(request.token)?.content === 'Cancelled.');
    expect(callbackTypes(fake, byAlice.token)).toEqual([6]);
    expect(journal().get(jobId)!.status).toBe('cancelled');
    expect(customIds(fake.original(request.token))).toEqual([]);
    expect(card.history.some((h) => /Queued · position \d+ · starts <t:\d+:R>/.test(h.content))).toBe(true);
    await Promise.all(blockers.map((b) => b.settled));
  });

  it('Delete: refused for others, done for the owner', async () => {
    const { result } = await draft('a teapot');
    const jobId = jobOf(result);
    const byBob = fake.click(result, `z:delete:${jobId}`, { user: fake.bob });
    expect(await privateReply(byBob.token)).toBe(errorText('en', { code: 'not-owner' }));
    expect(result.deleted).toBe(false);
    fake.click(result, `z:delete:${jobId}`);
    await fake.waitFor('the deleted result', () => result.deleted);
  });

  it('Delete acts on the job’s own message only, and a moderator’s right only in the job’s own guild', async () => {
    const mine = await draft('a lantern of mine');
    const theirs = await draft('a kettle of theirs', {}, fake.bob);
    const mineId = jobOf(mine.result);
    // A Delete for alice's job arriving on bob's result (a crafted interaction): bob's message stays.
    const crossed = fake.click(theirs.result, `z:delete:${mineId}`);
    expect(await privateReply(crossed.token)).toBe(errorText('en', { code: 'wrong-message' }));
    expect(theirs.result.deleted).toBe(false);
    expect(mine.result.deleted).toBe(false);
    // A moderator of another guild is nobody here; one of this guild may delete.
    const otherGuild = fake.click(theirs.result, `z:delete:${jobOf(theirs.result)}`, { user: fake.alice, guildId: '999999999999999999', manageMessages: true });
    expect(await privateReply(otherGuild.token)).toBe(errorText('en', { code: 'not-owner' }));
    expect(theirs.result.deleted).toBe(false);
    fake.click(theirs.result, `z:delete:${jobOf(theirs.result)}`, { user: fake.alice, manageMessages: true });
    await fake.waitFor('the moderator’s delete', () => theirs.result.deleted);
  });

  it('keeps no interaction token in the journal once the job’s result is out', async () => {
    const { interaction, result } = await draft('a lighthouse at dusk');
    const jobId = jobOf(result);
    await fake.waitFor('the token dropped from the journal', () => !JSON.stringify(journal().get(jobId)!.delivery).includes(interaction.token));
    expect(journal().get(jobId)!.delivery).toMatchObject({ data: { interaction: { token: null }, replyTo: result.id } });
  });

  it('bad input gets one private message, and the bot keeps working', async () => {
    const grammar = fake.slash('draft', { prompt: 'a fox --seed banana' });
    expect(await privateReply(grammar.token)).toBe(errorText('en', { code: 'not-a-number', params: { flag: '--seed', value: 'banana', kind: 'integer' } }));
    expect(callbackTypes(fake, grammar.token)).toEqual([4]);

    // Refused by the engine after the public defer: the placeholder is deleted, the reason sent privately.
    const blocked = fake.slash('draft', { prompt: 'a nude statue' }, { locale: 'zh-CN' });
    expect(await privateReply(blocked.token)).toBe(errorText('zh-CN', { code: 'prompt-blocked', message: '' }));
    expect(callbackTypes(fake, blocked.token)).toEqual([5]);
    expect(fake.webhookRequests(blocked.token).map((r) => r.method)).toEqual(expect.arrayContaining(['DELETE', 'POST']));
    expect(fake.original(blocked.token)?.deleted).toBe(true);

    const { result } = await draft('a calm lake');
    expect(result.attachments).toHaveLength(1);
  });

  it('refuses an attachment from a host that is not Discord’s, before deferring', async () => {
    const foreign = { id: '1100000000000000001', filename: 'cat.png', size: 1000, url: 'https://images.example.com/cat.png', proxy_url: 'https://images.example.com/cat.png', content_type: 'image/png' };
    const request = fake.slash('edit', { prompt: 'make it blue', image: foreign });
    expect(await privateReply(request.token)).toBe(errorText('en', { code: 'attachment-host' }));
    expect(fake.webhookRequests(request.token)).toEqual([]);
  });

  it('sniffs a download before decoding it, and refuses a declared size over the limit before deferring', async () => {
    const notAnImage = fake.hostAttachment(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'sneaky.png', 'image/png');
    const request = fake.slash('edit', { prompt: 'make it blue', image: notAnImage });
    expect(await privateReply(request.token)).toBe(errorText('en', { code: 'unsupported-attachment' }));
    expect(callbackTypes(fake, request.token)).toEqual([5]);
    expect(fake.original(request.token)?.deleted).toBe(true);

    const huge = { ...fake.hostAttachment(await upload('#000000'), 'huge.png'), size: 64 * 2 ** 20 };
    const request2 = fake.slash('edit', { prompt: 'make it blue', image: huge });
    expect(await privateReply(request2.token)).toBe(errorText('en', { code: 'attachment-too-large', params: { max: '10 MiB' } }));
    expect(callbackTypes(fake, request2.token)).toEqual([4]);
  });

  it('survives a 429 with rate-limit headers', async () => {
    let limited = '';
    fake.rateLimitOnce((method, path) => {
      const hit = method === 'PATCH' && path.endsWith('/messages/@original') && limited === '';
      if (hit) limited = path;
      return hit;
    });
    const { interaction, result } = await draft('a lighthouse');
    expect(limited).toContain(interaction.token);
    const edits = fake.webhookRequests(interaction.token).filter((r) => r.method === 'PATCH');
    expect(edits[0]!.status).toBe(429);
    expect(edits.slice(1).every((r) => r.status === 200)).toBe(true);
    expect(result.attachments).toHaveLength(1);
  });

  it('when the interaction token has expired, the result goes out as a channel message replying to the request', async () => {
    const request = fake.slash('draft', { prompt: 'an old map' }, { expireOnFirstEdit: true });
    const original = await fake.waitFor('the deferred response', () => fake.original(request.token));
    const posted = await fake.waitFor('a channel reply with the result', () =>
      fake.requests.find((r) => r.method === 'POST' && r.path === `/channels/${fake.channelId}/messages` && (r.json as { message_reference?: { message_id: string } }).message_reference?.message_id === original.id && r.files.length > 0),
    );
    expect(posted.status).toBe(200);
    expect(posted.json).toMatchObject({ allowed_mentions: { parse: [] } });
    // The first webhook edit met the expired token; nothing after it used the token again.
    expect(fake.webhookRequests(request.token).filter((r) => r.method === 'PATCH').map((r) => r.status)).toEqual([401]);
    await fake.waitFor('the old card without its Cancel button', () => customIds(fake.original(request.token)).length === 0);
  });

  it('a token older than 14 minutes is not used: status and result go to the channel at once', async () => {
    const request = fake.slash('draft', { prompt: 'a sundial' }, { createdAt: Date.now() - 14.5 * 60_000 });
    const original = await fake.waitFor('the deferred response', () => fake.original(request.token));
    const reply = await fake.waitFor('the result as a reply', () =>
      [...fake.messages.values()].find((m) => m.message_reference?.message_id === original.id && m.attachments.length > 0),
    );
    expect(customIds(reply).some((id) => id.startsWith('z:refine:'))).toBe(true);
    expect(fake.webhookRequests(request.token).filter((r) => r.method === 'PATCH')).toEqual([]);
    // The status went into the original message through the channel route (the bot wrote it).
    expect(fake.requests.some((r) => r.method === 'PATCH' && r.path === `/channels/${fake.channelId}/messages/${original.id}`)).toBe(true);
  });

  it('downscales a grid that is larger than the channel’s upload limit', async () => {
    // The fixture draws the same picture for the same prompt and seed: measure it, then ask with a smaller limit.
    const full = await png((await draft('a mosaic', { count: 4, seed: 7 })).result);
    const limit = Math.floor(full.bytes.byteLength * 0.6);
    const request = fake.slash('draft', { prompt: 'a mosaic', count: 4, seed: 7 }, { uploadLimit: limit });
    const image = await png(await resultOf(request.token));
    expect(image.bytes.byteLength).toBeLessThanOrEqual(limit);
    expect(image.width).toBeLessThan(full.width);
    expect(image.height).toBeLessThan(full.height);
  });

  it('`npm run register` registers the commands globally without a gateway connection', async () => {
    const before = fake.requests.length;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/register-discord.ts'], {
        cwd: ROOT,
        env: { ...process.env, DISCORD_TOKEN: fake.token, DISCORD_API_BASE: fake.apiBase, DISCORD_GUILD_ID: '', LOG_LEVEL: 'silent' },
        stdio: 'ignore',
      });
      child.on('error', reject);
      child.on('exit', resolve);
    });
    expect(code).toBe(0);
    const puts = fake.requests.slice(before).filter((r) => r.method === 'PUT' && r.path.startsWith('/applications/'));
    expect(puts.map((r) => r.path)).toEqual([`/applications/${fake.appId}/commands`]);
    expect((puts[0]!.json as { name: string }[]).map((c) => c.name)).toEqual(['draft', 'refine', 'edit', 'board', 'settings', 'Edit image']);
  });

  it('every message the bot sent had allowed_mentions with nothing to ping', () => {
    const bodies = fake.requests.flatMap((r): { where: string; body: Record<string, unknown> }[] => messagePayload(r));
    expect(bodies.length).toBeGreaterThan(30);
    const bad = bodies.filter(({ body }) => {
      const mentions = body.allowed_mentions as { parse?: unknown[]; users?: unknown[]; roles?: unknown[] } | undefined;
      return !mentions || !Array.isArray(mentions.parse) || mentions.parse.length > 0 || (mentions.users ?? []).length > 0 || (mentions.roles ?? []).length > 0;
    });
    expect(bad.map((b) => b.where)).toEqual([]);
    expect(fake.lateAcks).toEqual([]);
  });
});

/**
 * The message payloads in a request: callback data of types 4 (reply) and 7 (update), and every create or edit on
 * a webhook or channel message route. Deferrals (5, 6) and modals (9) carry no message.
 */
function messagePayload(r: RecordedRequest): { where: string; body: Record<string, unknown> }[] {
  const json = r.json as Record<string, unknown> | null;
  if (!json || Array.isArray(json)) return [];
  if (r.path.startsWith('/interactions/')) {
    return json.type === 4 || json.type === 7 ? [{ where: `${r.method} callback ${String(json.type)}`, body: (json.data ?? {}) as Record<string, unknown> }] : [];
  }
  const isMessageRoute = r.path.startsWith('/webhooks/') || /^\/channels\/\d+\/messages/.test(r.path);
  return isMessageRoute && (r.method === 'POST' || r.method === 'PATCH') ? [{ where: `${r.method} ${r.path.replace(/\/webhooks\/(\d+)\/[^/]+/, '/webhooks/$1/:token')}`, body: json }] : [];
}
