import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackAdapter, type SlackAdapter } from '../../../src/bots/slack/index.ts';
import { JobJournal } from '../../../src/engine/journal/journal.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { FakeSlack, type FakeMessage, type ReactionEvent } from './fake-slack.ts';
import { actionIds, waitFor } from './slack-requests.ts';
import { SlackSession } from './slack-session.ts';

/**
 * What a team does with the bot in Slack, end to end: the real bolt App (HTTP receiver, signatures) and the real
 * runtime (engine, ONNX fixture model, nsfwjs, SQLite journal) against the fake Slack. Votes are reactions the bot
 * pre-adds; /board posts the most voted candidates; each result links its parent's card; /settings by admins and
 * owners for the channel, by anyone for themselves, kept across a restart.
 */
const BOT_TOKEN = 'xoxb-test-bot-token-0002';
const APP_TOKEN = 'xapp-test-app-token-0002';
const SECRET = 'test-signing-secret-0002';

let fake: FakeSlack;
let runtime: Runtime;
let adapter: SlackAdapter;
let session: SlackSession;

const slackConfig = () => ({ botToken: BOT_TOKEN, signingSecret: SECRET, apiUrl: fake.apiUrl, port: 0, host: '127.0.0.1', apiRetries: 0 });

async function start(dataDir?: string): Promise<void> {
  runtime = await startTestRuntime({ config: { slack: slackConfig(), ...(dataDir ? { dataDir } : {}) } });
  adapter = await startSlackAdapter(runtime);
  const endpoint = `http://127.0.0.1:${adapter.port}/slack/events`;
  if (session) session.endpoint = endpoint;
  else session = new SlackSession(fake, { endpoint, secret: SECRET, jobs: () => runtime.core.history.recent({ limit: 500 }) });
}

beforeAll(async () => {
  fake = await FakeSlack.start({ botToken: BOT_TOKEN, appToken: APP_TOKEN });
  fake.users.set('UANN', { locale: 'en-US', name: 'Ann' });
  fake.users.set('UBOB', { locale: 'en-GB', name: 'Bob' });
  fake.users.set('UCAT', { locale: 'en-US', name: 'Cat' });
  fake.users.set('UDAN', { locale: 'en-US', name: 'Dan' });
  fake.users.set('UZH', { locale: 'zh-CN', name: '李雷' });
  fake.users.set('UADM', { locale: 'en-US', name: 'Admin', isAdmin: true });
  fake.users.set('UOWN', { locale: 'en-US', name: 'Owner', isOwner: true });
  await start();
});

afterAll(async () => {
  await adapter?.stop();
  await runtime?.close();
  await fake?.close();
});

const team = () => runtime.core.team;

/** A person reacts (or takes the reaction back) in Slack, and Slack sends the event. */
async function react(user: string, channel: string, ts: string, name: string, on = true): Promise<ReactionEvent> {
  const event = on ? fake.react(user, channel, ts, name) : fake.unreact(user, channel, ts, name);
  expect(event, `Slack accepts ${user}'s ${on ? '' : 'removal of '}:${name}:`).toBeDefined();
  expect((await session.postEvent(event!)).status).toBe(200);
  return event!;
}

const blockOf = (message: FakeMessage | undefined, blockId: string): string =>
  JSON.stringify((message?.blocks as { block_id?: string }[] | undefined)?.find((b) => b.block_id === blockId) ?? null);

// ---------------------------------------------------------------------------------------------------------------

describe('Slack: votes, the board, lineage and settings', () => {
  /** A three-candidate result everyone votes on, and a single one: the board's material. */
  let lighthouse: { jobId: string; ts: string };
  let kettle: { jobId: string; ts: string };

  it('pre-adds :one: … :three: for the delivered candidates and links the card to its job', async () => {
    const { jobId, ts } = await session.draft('a lighthouse at dusk --count 3 --seed 3', 'UANN', 'C1');
    lighthouse = { jobId, ts };
    const reactions = await waitFor(() => (fake.message('C1', ts)?.reactions?.length === 3 ? fake.message('C1', ts)!.reactions : undefined), 'the vote reactions on the card');
    expect(reactions).toEqual([
      { name: 'one', users: ['UBOT'], count: 1 },
      { name: 'two', users: ['UBOT'], count: 1 },
      { name: 'three', users: ['UBOT'], count: 1 },
    ]);
    const added = fake.callsTo('reactions.add').filter((c) => c.args.timestamp === ts);
    expect(added.map((c) => [c.args.channel, c.args.name])).toEqual([
      ['C1', 'one'],
      ['C1', 'two'],
      ['C1', 'three'],
    ]);
    // Added after the card became the result, so a vote cannot arrive before the card shows what it votes on.
    const resultUpdate = fake.callsTo('chat.update').findIndex((c) => c.args.ts === ts && JSON.stringify(c.args.blocks).includes(`z:reroll:${jobId}`));
    expect(fake.calls.indexOf(fake.callsTo('chat.update')[resultUpdate]!)).toBeLessThan(fake.calls.indexOf(added[0]!));
    expect(team().jobOfMessage('slack', `C1:${ts}`)).toBe(jobId);
    // A draft has no parent: no origin line.
    expect(blockOf(fake.message('C1', ts), 'z-origin')).toBe('null');
  });

  it('counts votes from three people, one taken back, on the card (edited) and in the journal; other emoji do not count', async () => {
    const { jobId, ts } = lighthouse;
    const updatesBefore = fake.callsTo('chat.update').filter((c) => c.args.ts === ts).length;
    await react('UANN', 'C1', ts, 'two');
    await react('UBOB', 'C1', ts, 'two');
    await react('UCAT', 'C1', ts, 'two');
    await react('UANN', 'C1', ts, 'one');
    await react('UBOB', 'C1', ts, 'three');
    await react('UCAT', 'C1', ts, 'tada');
    await react('UBOB', 'C1', ts, 'three', false);

    await waitFor(() => JSON.stringify(team().votesOf(jobId)) === '[1,3,0]' || undefined, 'the votes in the journal');
    expect(team().storedResult(jobId)!.votes).toEqual([1, 3, 0]);
    // Edits are spaced out (the first at once, then at most one per few seconds), so wait for the newest counts.
    const card = await waitFor(() => (blockOf(fake.message('C1', ts), 'z-votes').includes('Votes: #1 ×1 · #2 ×3') ? fake.message('C1', ts) : undefined), 'the counts on the card', 30_000);
    expect(fake.callsTo('chat.update').filter((c) => c.args.ts === ts).length).toBeGreaterThan(updatesBefore);
    // The edit is the card's words and controls; its image stays in the thread and the reactions stay on it.
    expect(actionIds(card)).toContain(`z:refine:${jobId}:2`);
    expect(blockOf(card, 'z-status')).toContain('requested by Ann');
    expect(fake.thread('C1', ts).filter((m) => m.files?.some((f) => f.name === `${jobId}-grid.png`))).toHaveLength(1);
    expect(fake.reactors('C1', ts, 'two')).toEqual(['UBOT', 'UANN', 'UBOB', 'UCAT']);
    // Slack's own tally counts the bot's pre-added reaction; the votes do not.
    expect(fake.message('C1', ts)!.reactions!.find((r) => r.name === 'two')!.count).toBe(4);
  });

  it('ignores the bot’s own reactions', async () => {
    const { jobId, ts } = lighthouse;
    // Slack sends the bot's own reaction_added too, once it adds one.
    const own = fake.reactionEvent('reaction_added', fake.botUserId, 'C1', ts, 'three');
    expect((await session.postEvent(own)).status).toBe(200);
    // A later vote by someone not yet looked up is the barrier: it needs a users.info call, as the bot's would have.
    await react('UDAN', 'C1', ts, 'one');
    await waitFor(() => team().votesOf(jobId)[0]! >= 2 || undefined, 'Dan’s vote');
    expect(fake.callsTo('users.info').some((c) => c.args.user === fake.botUserId)).toBe(false);
    expect(team().votesOf(jobId)).toEqual([2, 3, 0]);
    await react('UDAN', 'C1', ts, 'one', false);
    await waitFor(() => JSON.stringify(team().votesOf(jobId)) === '[1,3,0]' || undefined, 'Dan’s vote taken back');
  });

  it('/board after votes: the order, the contact sheet in its thread, and a Refine #1 from it refines the right candidate', async () => {
    kettle = await session.draft('a copper kettle --count 1 --seed 5', 'UBOB', 'C1');
    await waitFor(() => fake.message('C1', kettle.ts)?.reactions?.length === 1 || undefined, 'the kettle’s :one:');
    expect(fake.message('C1', kettle.ts)!.reactions!.map((r) => r.name)).toEqual(['one']);
    await react('UANN', 'C1', kettle.ts, 'one');
    await react('UCAT', 'C1', kettle.ts, 'one');
    await waitFor(() => team().votesOf(kettle.jobId)[0] === 2 || undefined, 'the kettle’s votes');

    const after = fake.calls.length;
    const asked = await session.slash('/board', '', 'UCAT', 'C1');
    expect(asked).toMatchObject({ status: 200, body: '' });
    const post = await waitFor(() => fake.calls.slice(after).find((c) => c.method === 'chat.postMessage' && c.args.channel === 'C1' && String(c.args.text).startsWith('Top 3')), 'the board');
    expect(post.args.thread_ts).toBeUndefined();
    const boardTs = String(post.result!.ts);
    const board = fake.message('C1', boardTs)!;
    expect((board.blocks as { block_id: string }[]).map((b) => b.block_id)).toEqual(['z-board', 'z-board-1', 'z-board-2', 'z-board-3', 'z-actions']);
    expect(blockOf(board, 'z-board')).toContain('Top 3 of this channel · last 24h');
    // Most votes first: the lighthouse's #2 (3 votes), the kettle (2), the lighthouse's #1 (1).
    expect(blockOf(board, 'z-board-1')).toMatch(/#1 · 3 votes · “a lighthouse at dusk” .* by Ann/);
    expect(blockOf(board, 'z-board-2')).toMatch(/#2 · 2 votes · “a copper kettle” · seed 5 .* by Bob/);
    expect(blockOf(board, 'z-board-3')).toMatch(/#3 · 1 vote · “a lighthouse at dusk”/);
    // Refine #n per entry, the Vary menu beside them, in one actions block.
    expect(actionIds(board)).toEqual([
      `z:refine:${lighthouse.jobId}:1`,
      `z:refine:${kettle.jobId}:0`,
      `z:refine:${lighthouse.jobId}:0`,
      `z:vary-subtle:${lighthouse.jobId}:1`,
      `z:vary-strong:${lighthouse.jobId}:1`,
      `z:vary-subtle:${kettle.jobId}:0`,
      `z:vary-strong:${kettle.jobId}:0`,
      `z:vary-subtle:${lighthouse.jobId}:0`,
      `z:vary-strong:${lighthouse.jobId}:0`,
    ]);
    expect(board.blocks.filter((b) => (b as { type: string }).type === 'actions')).toHaveLength(1);

    // The contact sheet, through files.uploadV2 into the board's thread: three 256-px tiles in one row.
    const { bytes, complete } = await session.upload('board.png', after);
    expect(complete.args).toMatchObject({ channel_id: 'C1', thread_ts: boardTs });
    const sheet = await sharp(bytes).metadata();
    expect([sheet.format, sheet.width, sheet.height]).toEqual(['png', 3 * 256 + 4 * 8, 256 + 2 * 8]);

    // Refine #1 on the board is the lighthouse's candidate 2; the new card goes into the board's thread.
    const before = fake.calls.length;
    expect((await session.click(`z:refine:${lighthouse.jobId}:1`, 'UDAN', 'C1', board)).status).toBe(200);
    const refined = await session.cardInThread('C1', boardTs, before);
    expect(runtime.core.history.get(refined.jobId)).toMatchObject({ role: 'refine', action: 'refine', parentId: lighthouse.jobId, parentIndex: 1, owner: { userId: 'UDAN' } });
    await session.resultCard('C1', refined.ts, refined.jobId);
  });

  it('/board: an empty board says so privately, a bad window is refused privately, and neither posts anything', async () => {
    const posts = fake.callsTo('chat.postMessage').length;
    const empty = await session.slash('/board', '--since 2h', 'UANN', 'C9');
    expect(await session.responseText(empty.responseId)).toBe(
      'No votes in this channel in the last 2h, so the board is empty. To vote, react to a result with the number of the candidate you like (1️⃣–4️⃣); react again to take it back.',
    );
    expect(fake.responses.find((r) => r.id === empty.responseId)!.body.response_type).toBe('ephemeral');
    const bad = await session.slash('/board', '--since forever', 'UZH', 'C1');
    expect(await session.responseText(bad.responseId)).toBe('“forever”不是有效的时间范围。请写成 2h、7d 或 1w 这样（最长 90 天）。');
    expect(fake.callsTo('chat.postMessage').length).toBe(posts);
  });

  it('links each result to its parent’s card: draft → vary → refine → edit, permalinks cached, plain text without one', async () => {
    const draft = await session.draft('a paper boat on a pond --count 2 --seed 11', 'UANN', 'C2');
    const permalinkOf = (ts: string): string => fake.permalinkOf('C2', ts)!;

    // Vary #2 of the draft: the card goes into the draft's thread and links the draft's card.
    let before = fake.calls.length;
    await session.click(`z:vary-subtle:${draft.jobId}:1`, 'UBOB', 'C2', draft.card);
    const vary = await session.cardInThread('C2', draft.ts, before);
    const varyCard = await session.resultCard('C2', vary.ts, vary.jobId);
    expect(blockOf(varyCard, 'z-origin')).toContain(`varied from #2 of <${permalinkOf(draft.ts)}|job ${draft.jobId}>`);

    // Refine the vary's candidate: its card (in the same thread) links the vary's card, a thread reply's permalink.
    before = fake.calls.length;
    await session.click(`z:refine:${vary.jobId}:0`, 'UCAT', 'C2', varyCard);
    const refine = await session.cardInThread('C2', draft.ts, before);
    const refineCard = await session.resultCard('C2', refine.ts, refine.jobId);
    expect(permalinkOf(vary.ts)).toContain(`?thread_ts=${draft.ts}&cid=C2`);
    expect(blockOf(refineCard, 'z-origin')).toContain(`refined from #1 of <${permalinkOf(vary.ts)}|job ${vary.jobId}>`);

    // Edit by mention in the thread: the newest image there is the refine's.
    before = fake.calls.length;
    await session.postEvent({ type: 'app_mention', user: 'UANN', text: `<@${fake.botUserId}> make it night`, ts: fake.nextTs(), event_ts: fake.nextTs(), channel: 'C2', thread_ts: draft.ts });
    const edit = await session.cardInThread('C2', draft.ts, before);
    const editCard = await session.resultCard('C2', edit.ts, edit.jobId);
    expect(runtime.core.history.get(edit.jobId)).toMatchObject({ action: 'edit', parentId: refine.jobId });
    expect(blockOf(editCard, 'z-origin')).toMatch(new RegExp(`edited from (#1 of )?<${escapeRegExp(permalinkOf(refine.ts))}\\|job ${refine.jobId}>`));

    // A second child of the draft reuses the draft's permalink: one chat.getPermalink per parent card.
    before = fake.calls.length;
    await session.click(`z:vary-strong:${draft.jobId}:0`, 'UBOB', 'C2', draft.card);
    const strong = await session.cardInThread('C2', draft.ts, before);
    expect(blockOf(await session.resultCard('C2', strong.ts, strong.jobId), 'z-origin')).toContain(`varied from #1 of <${permalinkOf(draft.ts)}|job ${draft.jobId}>`);
    expect(fake.callsTo('chat.getPermalink').filter((c) => c.args.message_ts === draft.ts)).toHaveLength(1);

    // A parent whose card was deleted in Slack: chat.getPermalink fails, the parent is named as plain text.
    expect(fake.removeMessage('C2', edit.ts)).toBe(true);
    before = fake.calls.length;
    await session.click(`z:vary-subtle:${edit.jobId}:0`, 'UBOB', 'C2', editCard);
    const orphan = await session.cardInThread('C2', draft.ts, before);
    const orphanOrigin = blockOf(await session.resultCard('C2', orphan.ts, orphan.jobId), 'z-origin');
    expect(orphanOrigin).toContain(`varied from #1 of job ${edit.jobId}`);
    expect(orphanOrigin).not.toContain('<');
    expect(fake.calls.slice(before).find((c) => c.method === 'chat.getPermalink' && c.args.message_ts === edit.ts)?.result).toEqual({ ok: false, error: 'message_not_found' });
  });

  it('a vote for a withheld candidate is not counted and is explained to the voter only; reactions elsewhere are no votes', async () => {
    // What a previous process left: a finished three-candidate job whose candidate 2 the filter withheld, its card
    // posted and linked (the classifier never flags the fixture model's flat colours, so the journal is written here).
    const base = runtime.core.history.get(lighthouse.jobId)!;
    const card = fake.addMessage('C1', { user: fake.botUserId, text: 'a card with a withheld candidate' });
    const previous = new JobJournal(join(runtime.config.dataDir, 'zimage.db'));
    previous.add({
      id: 'withheldjob1',
      scope: base.scope,
      owner: base.owner,
      spec: base.spec,
      cost: base.cost,
      delivery: { channel: 'C1', locale: 'en', place: { platform: 'slack', channelId: 'C1', channelIsNsfw: false }, data: { v: 1, channel: 'C1', ts: card.ts, threadTs: null, by: 'Ann' } },
      policy: 'block',
      parentId: null,
    });
    previous.finish('withheldjob1', 'done', { result: { ...base.result!, images: base.result!.images.map((i) => (i.index === 1 ? { ...i, withheld: true, path: null } : i)) } });
    previous.close();
    team().linkMessage('slack', `C1:${card.ts}`, 'withheldjob1');

    const ephemerals = fake.callsTo('chat.postEphemeral').length;
    await react('UZH', 'C1', card.ts, 'two');
    const told = await waitFor(() => fake.callsTo('chat.postEphemeral').slice(ephemerals).find((c) => c.args.user === 'UZH'), 'the note to the voter');
    expect(told.args).toMatchObject({ channel: 'C1', text: '这个候选已被内容过滤器拦截，不能投票。' });

    // A reaction on a message that shows no job (a person's message) is no vote; nor is :four: on three candidates,
    // and that one is not answered (on a message of three, :four: may mean anything).
    const chatter = fake.addMessage('C1', { user: 'UANN', text: 'which one?' });
    await react('UBOB', 'C1', chatter.ts, 'one');
    await react('UZH', 'C1', card.ts, 'four');
    await react('UZH', 'C1', card.ts, 'one');
    await waitFor(() => team().votesOf('withheldjob1')[0] === 1 || undefined, 'the vote for candidate 1');
    expect(team().votesOf('withheldjob1')).toEqual([1, 0, 0]);
    expect(fake.callsTo('chat.postEphemeral').length).toBe(ephemerals + 1);
    expect(team().jobOfMessage('slack', `C1:${chatter.ts}`)).toBeUndefined();
  });

  it('/settings: the channel’s by a workspace admin or owner, refused for anyone else (in Chinese for a zh-CN user); precedence on the next /draft', async () => {
    const show = (user: string) => session.slash('/settings', '', user, 'C4');

    const byAdmin = await session.slash('/settings', 'channel --count 2 --ar 16:9 --style ink', 'UADM', 'C4');
    const saved = await session.responseText(byAdmin.responseId);
    expect(saved).toMatch(/^Saved\. This channel: .*count 2.*16:9.*ink/s);
    expect(fake.responses.find((r) => r.id === byAdmin.responseId)!.body.response_type).toBe('ephemeral');

    const byZh = await session.slash('/settings', 'channel --count 1', 'UZH', 'C4');
    expect(await session.responseText(byZh.responseId)).toBe('只有频道管理员可以修改本频道的设置。你仍可以用 /settings me 设置你自己的默认值。');
    const byAnn = await session.slash('/settings', 'channel --others off', 'UANN', 'C4');
    expect(await session.responseText(byAnn.responseId)).toBe('Only channel admins can change this channel’s settings. You can still set your own with /settings me.');
    // An owner may; a policy Slack cannot honour (spoilers need an NSFW channel) is refused and changes nothing.
    const byOwner = await session.slash('/settings', 'channel --policy spoiler', 'UOWN', 'C4');
    expect(await session.responseText(byOwner.responseId)).toMatch(/NSFW/);
    const ownerOthers = await session.slash('/settings', 'channel --others on', 'UOWN', 'C4');
    expect(await session.responseText(ownerOthers.responseId)).toMatch(/^Saved\./);
    expect(team().settingsOf({ actor: { platform: 'slack', userId: 'UOWN', locale: 'en' }, place: { platform: 'slack', guildId: fake.teamId, channelId: 'C4', channelIsNsfw: false } }).channel).toEqual({
      count: 2,
      ar: '16:9',
      style: 'ink',
      othersMayPress: true,
    });

    // Anyone sets their own; bad input is one clear sentence.
    const bobs = await session.slash('/settings', 'me --count 1 --style watercolor', 'UBOB', 'C4');
    expect(await session.responseText(bobs.responseId)).toMatch(/^Saved\..*Yours: .*count 1.*watercolor/s);
    const bad = await session.slash('/settings', 'me --colour red', 'UBOB', 'C4');
    expect(await session.responseText(bad.responseId)).toMatch(/^There is no setting --colour\./);
    expect(await session.responseText((await show('UANN')).responseId)).toMatch(/This channel: .*count 2/s);

    // Flags > personal > channel > config.
    const ann = await session.draft('channel defaults apply', 'UANN', 'C4');
    const bob = await session.draft('personal defaults apply', 'UBOB', 'C4');
    const flags = await session.draft('flags win --count 3 --ar 1:1 --style photo', 'UBOB', 'C4');
    const shape = (jobId: string) => {
      const spec = runtime.core.history.get(jobId)!.spec;
      return { count: spec.candidates.length, wide: spec.width > spec.height, square: spec.width === spec.height, style: spec.style };
    };
    expect(shape(ann.jobId)).toEqual({ count: 2, wide: true, square: false, style: 'ink' });
    expect(shape(bob.jobId)).toEqual({ count: 1, wide: true, square: false, style: 'watercolor' });
    expect(shape(flags.jobId)).toEqual({ count: 3, wide: false, square: true, style: 'photo' });
  });

  it('after a restart (a new app on the same data dir): the settings hold, and a reaction on an old card still votes', async () => {
    const dataDir = runtime.config.dataDir;
    await adapter.stop();
    await runtime.close();
    await start(dataDir);

    const shown = await session.slash('/settings', '', 'UBOB', 'C4');
    expect(await session.responseText(shown.responseId)).toMatch(/This channel: .*count 2.*16:9.*ink.*Yours: .*count 1.*watercolor/s);
    const ann = await session.draft('after the restart', 'UANN', 'C4');
    const spec = runtime.core.history.get(ann.jobId)!.spec;
    expect([spec.candidates.length, spec.width > spec.height, spec.style]).toEqual([2, true, 'ink']);

    // The card from before the restart is found through the journal's link.
    await react('UDAN', 'C1', kettle.ts, 'one');
    await waitFor(() => team().votesOf(kettle.jobId)[0] === 3 || undefined, 'a vote on a card from before the restart');
    await waitFor(() => blockOf(fake.message('C1', kettle.ts), 'z-votes').includes('Votes: #1 ×3') || undefined, 'the old card edited', 30_000);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
