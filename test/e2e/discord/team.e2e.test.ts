import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originOf, originText } from '../../../src/bots/core/lineage.ts';
import { errorText, text } from '../../../src/bots/core/texts.ts';
import { startDiscordAdapter, type DiscordAdapter } from '../../../src/bots/discord/index.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { tempDir } from '../../support/fakes.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeDiscord, type FakeMessage } from './fake-discord.ts';
import { callbackTypes, customIds, jobOf, privateReply, resultOf } from './fake-helpers.ts';

/**
 * What a team does with the bot on Discord, end to end: the real discord.js client and the real runtime (engine,
 * SQLite journal) against the fake Discord — votes by reaction and their live counts, /board and a Refine pressed
 * from it, the lineage links between results, and /settings with its permissions and precedence, across a restart
 * of the bot (same journal, a new client with nothing cached). Every wait polls for state; nothing races the clock.
 */
const KEYCAPS = ['1️⃣', '2️⃣', '3️⃣', '4️⃣'];

let fake: FakeDiscord;
let dataDir: string;
let runtime: Runtime;
let adapter: DiscordAdapter;

async function startBot(): Promise<void> {
  runtime = await startTestRuntime({ statusIntervalMs: 100, config: { dataDir, discord: { token: fake.token, apiBase: fake.apiBase, guildId: fake.guildId } } });
  adapter = await startDiscordAdapter(runtime);
}

/** A restart as main.ts shuts down (pending vote edits sent, then the gateway closed), then a fresh process's start. */
async function restartBot(): Promise<void> {
  await runtime.close();
  await adapter.stop();
  await startBot();
}

beforeAll(async () => {
  fake = await FakeDiscord.start();
  dataDir = tempDir('zimage-discord-team-');
  await startBot();
});

afterAll(async () => {
  await runtime?.close();
  await adapter?.stop();
  await fake?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// helpers

const link = (messageId: string, channelId = fake.channelId): string => `https://discord.com/channels/${fake.guildId}/${channelId}/${messageId}`;

/** Waits until the bot has added its vote reactions (one per delivered candidate) to a result. */
async function withReactions(message: FakeMessage): Promise<FakeMessage> {
  const delivered = customIds(message).filter((id) => id.startsWith('z:refine:')).length;
  await fake.waitFor(`the ${delivered} vote reactions`, () => message.reactions.length === delivered && message.reactions.every((r) => r.users.includes(fake.bot.id)));
  return message;
}

/** A result shown to the interaction, once the bot has linked it and offered its reactions. */
async function shown(token: string): Promise<{ message: FakeMessage; jobId: string }> {
  const message = await withReactions(await resultOf(fake, token));
  return { message, jobId: jobOf(message) };
}

const votesLine = (counts: readonly number[]): string =>
  `-# ${text('en', 'result.votes', { votes: counts.flatMap((count, i) => (count > 0 ? [text('en', 'result.votes.entry', { n: i + 1, count })] : [])).join(' · ') })}`;

/** The origin line a result shows, from its journal record, with the parent linked to the given message. */
function originLineOf(jobId: string, parentMessage: string, locale: 'en' | 'zh-CN' = 'en'): string {
  const origin = originOf(runtime.core.history.get(jobId)!)!;
  return `-# ${originText(locale, origin, `[${text(locale, 'origin.parent', { job: origin.parentId })}](${link(parentMessage)})`)}`;
}

const votesInJournal = (jobId: string): { candidate: number; count: number }[] => runtime.engine.team.votes(jobId).map((v) => ({ candidate: v.candidate, count: v.count }));

// ---------------------------------------------------------------------------------------------------------------

describe('a team on Discord', () => {
  let voted: { message: FakeMessage; jobId: string };

  it('asks for the reactions intent (not privileged) and registers /board and /settings with their options, localized', () => {
    // Guilds (1 << 0) + GuildMessages (1 << 9) + GuildMessageReactions (1 << 10).
    expect(fake.identifies.map((i) => i.intents)).toEqual([1537]);
    type Option = { name: string; type: number; required?: boolean; min_value?: number; max_value?: number; max_length?: number; choices?: { name: string; value: string; name_localizations?: Record<string, string> }[]; name_localizations?: Record<string, string> };
    const put = fake.requests.find((r) => r.method === 'PUT' && r.path === `/applications/${fake.appId}/guilds/${fake.guildId}/commands`)!;
    const commands = new Map((put.json as { name: string; name_localizations: Record<string, string>; options: Option[] }[]).map((c) => [c.name, c]));
    const board = commands.get('board')!;
    expect(board.name_localizations).toMatchObject({ 'zh-CN': '榜单' });
    expect(board.options).toEqual([expect.objectContaining({ name: 'since', type: 3, required: false, name_localizations: expect.objectContaining({ 'zh-CN': '时间范围' }) })]);
    const settings = commands.get('settings')!;
    expect(settings.name_localizations).toMatchObject({ 'zh-CN': '设置' });
    const options = new Map(settings.options.map((o) => [o.name, o]));
    expect([...options.keys()]).toEqual(['scope', 'count', 'ar', 'style', 'others', 'policy', 'reset']);
    expect(settings.options.every((o) => o.required === false)).toBe(true);
    expect(options.get('scope')!.choices!.map((c) => [c.value, c.name, c.name_localizations!['zh-CN']])).toEqual([
      ['channel', 'This channel', '本频道'],
      ['me', 'Mine', '我的'],
    ]);
    expect(options.get('count')).toMatchObject({ type: 4, min_value: 1, max_value: 4 });
    expect(options.get('ar')).toMatchObject({ type: 3, max_length: 40 });
    expect(options.get('style')!.choices!.map((c) => c.value)).toEqual(runtime.engine.styles.presets.map((p) => p.name));
    expect(options.get('others')).toMatchObject({ type: 5, name_localizations: { 'zh-CN': '他人可按' } });
    expect(options.get('policy')!.choices!.map((c) => c.value)).toEqual(['block', 'spoiler']);
    expect(options.get('reset')!.choices!.map((c) => c.value)).toEqual(['count', 'ar', 'style', 'others', 'policy']);
  });

  it('votes by reaction: 1️⃣–4️⃣ pre-added by the bot (and not counted), three people vote, one takes a vote back', async () => {
    const request = fake.slash('draft', { prompt: 'a lighthouse in fog', count: 4 });
    voted = await shown(request.token);
    const { message, jobId } = voted;
    // In order, one per delivered candidate, each the bot's own; the message is linked to its job in the journal.
    expect(fake.reactionsOn(message)).toEqual(KEYCAPS.map((emoji) => ({ emoji, users: [fake.bot.id] })));
    const puts = fake.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(`/channels/${fake.channelId}/messages/${message.id}/reactions/`));
    expect(puts.filter((r) => r.status === 204).map((r) => r.path.split('/')[6])).toEqual(KEYCAPS);
    expect(puts.every((r) => r.path.endsWith('/@me') && r.auth === `Bot ${fake.token}`)).toBe(true);
    expect(runtime.core.team.jobOfMessage('discord', message.id)).toBe(jobId);
    expect(runtime.core.team.votesOf(jobId)).toEqual([0, 0, 0, 0]);
    const before = { attachments: message.attachments.map((a) => a.id), ids: customIds(message) };

    fake.react(fake.alice, message, '1️⃣');
    fake.react(fake.bob, message, '1️⃣');
    fake.react(fake.carol, message, '2️⃣');
    fake.react(fake.bob, message, '3️⃣');
    // Not votes: another emoji, and a keycap past the candidates.
    fake.react(fake.carol, message, '👍');
    fake.react(fake.carol, message, '5️⃣');
    fake.unreact(fake.bob, message, '1️⃣');

    // The bot's own reactions counted nothing: exactly the people's votes, in the journal.
    await fake.waitFor('the votes in the journal', () => JSON.stringify(runtime.core.team.votesOf(jobId)) === JSON.stringify([1, 1, 1, 0]));
    expect(votesInJournal(jobId)).toEqual([
      { candidate: 0, count: 1 },
      { candidate: 1, count: 1 },
      { candidate: 2, count: 1 },
    ]);
    // The result is edited with the newest counts (at most every few seconds), keeping its image and its controls.
    await fake.waitFor('the votes line on the result', () => message.content.includes(votesLine([1, 1, 1, 0])));
    expect(message.content).toContain(`job ${jobId}`);
    expect(message.attachments.map((a) => a.id)).toEqual(before.attachments);
    expect(customIds(message)).toEqual(before.ids);
    const edits = fake.requests.filter((r) => r.method === 'PATCH' && r.path === `/channels/${fake.channelId}/messages/${message.id}`);
    expect(edits.length).toBeGreaterThan(0);
    expect(edits.every((r) => r.status === 200 && !('attachments' in (r.json as object)) && r.files.length === 0)).toBe(true);
    // Discord's own counts under the message tell the same story.
    expect(fake.reactionsOn(message).map((r) => [r.emoji, r.users.length])).toEqual([
      ['1️⃣', 2],
      ['2️⃣', 2],
      ['3️⃣', 2],
      ['4️⃣', 1],
      ['👍', 1],
      ['5️⃣', 1],
    ]);
  });

  it('a result posted after the interaction token expired is linked and offered the reactions too', async () => {
    const request = fake.slash('draft', { prompt: 'an old harbour map', count: 2 }, { expireOnFirstEdit: true });
    const original = await fake.waitFor('the deferred response', () => fake.original(request.token));
    const posted = await fake.waitFor('the result posted in the channel', () =>
      [...fake.messages.values()].find((m) => m.message_reference?.message_id === original.id && m.attachments.length > 0 && customIds(m).some((id) => id.startsWith('z:refine:'))),
    );
    await withReactions(posted);
    const jobId = jobOf(posted);
    expect(fake.reactionsOn(posted).map((r) => r.emoji)).toEqual(KEYCAPS.slice(0, 2));
    expect(runtime.core.team.jobOfMessage('discord', posted.id)).toBe(jobId);
    // A keycap past its two candidates is refused by the core, silently: a reaction has nowhere to be answered.
    const channelPosts = (): number => fake.requests.filter((r) => r.method === 'POST' && r.path === `/channels/${fake.channelId}/messages`).length;
    const postsBefore = channelPosts();
    fake.react(fake.bob, posted, '3️⃣');
    fake.react(fake.carol, posted, '2️⃣');
    await fake.waitFor('the vote on the posted result', () => runtime.core.team.votesOf(jobId)[1] === 1);
    await fake.waitFor('its votes line', () => posted.content.includes(votesLine([0, 1])));
    expect(runtime.core.team.votesOf(jobId)).toEqual([0, 1]);
    expect(channelPosts()).toBe(postsBefore);
  });

  it('each result links the message of the one it came from: draft → vary → refine → edit → refine', async () => {
    const draft = await shown(fake.slash('draft', { prompt: 'a paper boat', count: 2 }).token);
    expect(draft.message.content).not.toContain('-# varied');

    const vary = await shown(fake.click(draft.message, `z:vary-subtle:${draft.jobId}:1`, { user: fake.bob }).token);
    expect(runtime.core.history.get(vary.jobId)).toMatchObject({ action: 'vary', parentId: draft.jobId, parentIndex: 1 });
    expect(vary.message.content).toContain(originLineOf(vary.jobId, draft.message.id));
    expect(vary.message.content).toContain(`-# varied from #2 of [job ${draft.jobId}](${link(draft.message.id)})`);

    const refine = await shown(fake.click(vary.message, `z:refine:${vary.jobId}:0`, { user: fake.carol }).token);
    expect(runtime.core.history.get(refine.jobId)).toMatchObject({ action: 'refine', parentId: vary.jobId, parentIndex: 0 });
    expect(refine.message.content).toContain(`-# refined from #1 of [job ${vary.jobId}](${link(vary.message.id)})`);

    // An edit by mention: its result is the card the bot posted in reply, not an interaction's response.
    const mention = fake.postMessage(fake.alice, { content: `<@${fake.bot.id}> make the sail red`, replyTo: refine.message, mentionsBot: true });
    const editCard = await withReactions(
      await fake.waitFor('the edit result', () =>
        [...fake.messages.values()].find((m) => m.message_reference?.message_id === mention.id && m.attachments.length > 0 && customIds(m).some((id) => id.startsWith('z:refine:'))),
      ),
    );
    const editId = jobOf(editCard);
    expect(runtime.core.history.get(editId)).toMatchObject({ action: 'edit', parentId: refine.jobId });
    expect(editCard.content).toContain(originLineOf(editId, refine.message.id));
    expect(editCard.content).toContain(`(${link(refine.message.id)})`);

    // A child of that card links the card.
    const again = await shown(fake.click(editCard, `z:refine:${editId}:0`, { user: fake.bob, locale: 'zh-CN' }).token);
    expect(again.message.content).toContain(originLineOf(again.jobId, editCard.id, 'zh-CN'));
    expect(again.message.content).toContain(`[任务 ${editId}](${link(editCard.id)})`);
  });

  it('/board: the channel’s most voted candidates in order, a contact sheet, and Refine from it', async () => {
    // Empty where nobody voted, in the asker's language, with how to vote here.
    const empty = fake.slash('board', {}, { channelId: fake.nsfwChannelId, locale: 'zh-CN' });
    await fake.waitFor('the empty board', () => fake.original(empty.token)?.content === text('zh-CN', 'board.empty', { window: '24h', how: text('zh-CN', 'board.how.reactions') }));
    expect(fake.original(empty.token)!.attachments).toEqual([]);
    // A window that is no window: refused privately, nothing posted.
    const bad = fake.slash('board', { since: 'forever' });
    expect(await privateReply(fake, bad.token)).toBe(errorText('en', { code: 'bad-window', params: { value: 'forever' } }));
    expect(callbackTypes(fake, bad.token)).toEqual([4]);

    const winner = await shown(fake.slash('draft', { prompt: 'a *bold* fox_tail <@123456789012345678>', count: 2 }).token);
    for (const who of [fake.alice, fake.bob, fake.carol]) fake.react(who, winner.message, '2️⃣');
    for (const who of [fake.alice, fake.bob]) fake.react(who, winner.message, '1️⃣');
    await fake.waitFor('the winner’s votes', () => JSON.stringify(runtime.core.team.votesOf(winner.jobId)) === JSON.stringify([2, 3]));

    const request = fake.slash('board', {});
    const board = await fake.waitFor('the board', () => {
      const message = fake.original(request.token);
      return message && message.attachments.length > 0 ? message : undefined;
    });
    expect(callbackTypes(fake, request.token)).toEqual([5]);
    expect((fake.callbacks(request.token)[0]!.json as { data?: { flags?: number } }).data?.flags ?? 0).toBe(0);
    const [title, ...lines] = board.content.split('\n');
    expect(title).toBe(text('en', 'board.title', { window: '24h', count: lines.length }));
    // Most votes first: the winner's #2 (3 votes), its #1 (2), then the single votes of the earlier results.
    expect(lines[0]).toMatch(/^#1 · 3 votes · “a \\\*bold\\\* fox\\_tail <@123456789012345678>” · seed .+ · by alice$/);
    expect(lines[1]).toMatch(/^#2 · 2 votes · “a \\\*bold\\\* fox/);
    const counts = lines.map((line) => Number(/^#\d+ · (\d+) vote/.exec(line)![1]));
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    // The three single votes on the lighthouse and the one on the harbour map are on the board too.
    expect(lines.length).toBe(6);
    expect(board.attachments[0]!.filename).toBe('board.png');
    const sheet = await sharp(Buffer.from(await (await fetch(board.attachments[0]!.url)).arrayBuffer())).metadata();
    const columns = Math.min(4, lines.length);
    const rows = Math.ceil(lines.length / 4);
    expect([sheet.width, sheet.height]).toEqual([columns * 256 + (columns + 1) * 8, rows * 256 + (rows + 1) * 8]);
    const ids = customIds(board);
    expect(ids.slice(0, 2)).toEqual([`z:refine:${winner.jobId}:1`, `z:refine:${winner.jobId}:0`]);
    expect(ids).toEqual(expect.arrayContaining([`z:vary-subtle:${winner.jobId}:1`, `z:vary-strong:${winner.jobId}:0`]));
    const posted = fake.requests.find((r) => r.method === 'PATCH' && r.path.startsWith(`/webhooks/${fake.appId}/${request.token}`) && r.files.length > 0)!;
    expect(posted.json).toMatchObject({ allowed_mentions: { parse: [] } });

    // Refine #1 pressed on the board: a refine of the winner's candidate 2, owned by whoever pressed.
    const press = fake.click(board, `z:refine:${winner.jobId}:1`, { user: fake.carol });
    const refined = await resultOf(fake, press.token);
    expect(runtime.core.history.get(jobOf(refined))).toMatchObject({ role: 'refine', action: 'refine', parentId: winner.jobId, parentIndex: 1, owner: { userId: fake.carol.id } });
    expect(refined.content).toContain(`-# refined from #2 of [job ${winner.jobId}](${link(winner.message.id)})`);
  });

  it('/settings: refused for a non-admin (privately, in Chinese), set by an admin, precedence flags > personal > channel', async () => {
    const where = { channelId: fake.nsfwChannelId };
    const refused = fake.slash('settings', { scope: 'channel', count: 2 }, { ...where, user: fake.bob, locale: 'zh-CN' });
    expect(await privateReply(fake, refused.token)).toBe(text('zh-CN', 'discord.error.not-allowed-to-configure'));
    expect(callbackTypes(fake, refused.token)).toEqual([4]);
    // Manage Messages (a moderator) is not the right to configure the channel.
    const moderator = fake.slash('settings', { scope: 'channel', count: 2 }, { ...where, user: fake.bob, manageMessages: true });
    expect(await privateReply(fake, moderator.token)).toBe(text('en', 'discord.error.not-allowed-to-configure'));
    expect(runtime.core.team.settingsOf({ actor: { platform: 'discord', userId: fake.bob.id, locale: 'en' }, place: { platform: 'discord', guildId: fake.guildId, channelId: fake.nsfwChannelId, channelIsNsfw: true } }).channel).toEqual({});

    const admin = fake.slash('settings', { scope: 'channel', count: 3, ar: '16:9' }, { ...where, manageChannels: true });
    expect(await privateReply(fake, admin.token)).toMatch(/^Saved\. This channel: --count 3 · --ar 16:9\n/);
    // A channel-only option without a scope means the channel's; with the scope "me" it is refused in Discord's words.
    const others = fake.slash('settings', { others: false }, { ...where, manageGuild: true });
    expect(await privateReply(fake, others.token)).toContain('--others off');
    const mine = fake.slash('settings', { scope: 'me', others: true }, where);
    expect(await privateReply(fake, mine.token)).toBe(text('en', 'discord.error.channel-only-setting', { option: 'others' }));
    const personal = fake.slash('settings', { scope: 'me', count: 2 }, { ...where, user: fake.carol });
    expect(await privateReply(fake, personal.token)).toContain(text('en', 'settings.personal', { values: '--count 2' }));
    const shownToAdmin = fake.slash('settings', {}, { ...where, manageGuild: true });
    const shownText = await privateReply(fake, shownToAdmin.token);
    expect(shownText).toBe(
      [text('en', 'settings.channel', { values: '--count 3 · --ar 16:9 · --others off' }), text('en', 'settings.personal', { values: '—' }), text('en', 'discord.settings.how.admin')].join('\n'),
    );

    await checkPrecedence(where.channelId);
    await restartBot();
    await checkPrecedence(where.channelId);
    const afterRestart = fake.slash('settings', { scope: 'me' }, { ...where, user: fake.carol, locale: 'zh-CN' });
    expect(await privateReply(fake, afterRestart.token)).toBe(
      [text('zh-CN', 'settings.channel', { values: '--count 3 · --ar 16:9 · --others 关' }), text('zh-CN', 'settings.personal', { values: '--count 2' }), text('zh-CN', 'discord.settings.how.member')].join('\n'),
    );
  });

  it('after the restart, a reaction on a result from before it is counted and shown', async () => {
    const { message, jobId } = voted;
    fake.react(fake.carol, message, '4️⃣');
    await fake.waitFor('the vote after the restart', () => JSON.stringify(runtime.core.team.votesOf(jobId)) === JSON.stringify([1, 1, 1, 1]));
    await fake.waitFor('the votes line after the restart', () => message.content.includes(votesLine([1, 1, 1, 1])));
    fake.unreact(fake.alice, message, '1️⃣');
    await fake.waitFor('a vote taken back after the restart', () => JSON.stringify(runtime.core.team.votesOf(jobId)) === JSON.stringify([0, 1, 1, 1]));
  });

  it('every message the bot sent had allowed_mentions with nothing to ping', () => {
    const bodies = fake.requests.filter((r) => (r.method === 'POST' || r.method === 'PATCH') && /^\/(webhooks|channels)\//.test(r.path) && r.json && !Array.isArray(r.json));
    expect(bodies.length).toBeGreaterThan(20);
    expect(bodies.filter((r) => (r.json as { allowed_mentions?: { parse?: unknown[] } }).allowed_mentions?.parse?.length !== 0).map((r) => r.path)).toEqual([]);
    const replies = fake.requests.filter((r) => r.path.startsWith('/interactions/') && (r.json as { type?: number }).type === 4);
    expect(replies.every((r) => ((r.json as { data: { allowed_mentions?: { parse?: unknown[] } } }).data.allowed_mentions?.parse ?? ['missing']).length === 0)).toBe(true);
    expect(fake.lateAcks).toEqual([]);
  });
});

/** In the channel: carol's personal count (2) beats the channel's (3), the channel's ratio applies, her flag beats both. */
async function checkPrecedence(channelId: string): Promise<void> {
  const drafted = async (options: Record<string, string | number>, user = fake.carol): Promise<{ count: number; width: number; height: number }> => {
    const result = await resultOf(fake, fake.slash('draft', { prompt: 'a kite over dunes', ...options }, { channelId, user }).token);
    const spec = runtime.core.history.get(jobOf(result))!.spec;
    return { count: spec.candidates.length, width: spec.width, height: spec.height };
  };
  const personal = await drafted({});
  expect(personal.count).toBe(2);
  // The channel's 16:9: landscape.
  expect(personal.width).toBeGreaterThan(personal.height);
  expect((await drafted({}, fake.alice)).count).toBe(3);
  const flagged = await drafted({ count: 1, ar: '1:1' });
  expect(flagged).toMatchObject({ count: 1 });
  expect(flagged.width).toBe(flagged.height);
}
