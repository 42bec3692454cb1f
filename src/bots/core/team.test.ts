import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeModerator, startFakeEngine, testConfig } from '../../../test/support/fakes.ts';
import type { Config } from '../../config/schema.ts';
import type { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../logging.ts';
import type { Actor, JobCommand, Place, Who } from './command.ts';
import { BotCore } from './core.ts';
import { runCommand, type ChatPort } from './flow.ts';
import { originText, renderChain } from './lineage.ts';
import type { Reply } from './reply.ts';
import { parseSettingsText } from './settings.ts';
import { errorText } from './texts.ts';

const log = createLogger('silent');
const place: Place = { platform: 'test', channelId: 'c1', channelIsNsfw: false };
const ann: Actor = { platform: 'test', userId: 'ann', name: 'Ann', locale: 'en' };
const bob: Actor = { platform: 'test', userId: 'bob', name: 'Bob', locale: 'en' };
const cat: Actor = { platform: 'test', userId: 'cat', name: 'Cat', locale: 'zh-CN' };
const admin: Actor = { platform: 'test', userId: 'adm', name: 'Adm', locale: 'en', isAdmin: true, canConfigure: true };
const as = (actor: Actor, where: Place = place): Who => ({ actor, place: where });

const engines: Engine[] = [];
afterEach(async () => Promise.all(engines.splice(0).map((e) => e.shutdown())));

async function setup(options: { config?: Readonly<Config>; moderator?: FakeModerator; voteEditIntervalMs?: number } = {}): Promise<{ core: BotCore; engine: Engine; config: Readonly<Config> }> {
  const config = options.config ?? testConfig();
  const engine = await startFakeEngine({ config, ...(options.moderator ? { moderator: options.moderator } : {}) });
  engines.push(engine);
  const core = new BotCore({
    engine,
    policyFor: () => 'block',
    log,
    statusIntervalMs: 0,
    settings: { maxCount: config.limits.maxCount, channelPolicies: config.moderation.channelPolicies },
    voteEditIntervalMs: options.voteEditIntervalMs ?? 0,
  });
  return { core, engine, config };
}

const port: ChatPort<string> = { refuse: async () => undefined, retract: async () => undefined, open: async () => 'card', sink: () => async () => undefined };

/** Runs a command to its end; the job id, or the refusal's sentence. */
async function run(core: BotCore, command: JobCommand, who: Who): Promise<{ id: string } | { refused: string }> {
  const outcome = await runCommand(core, port, command, who, log);
  if (outcome.kind === 'refused') return { refused: errorText('en', outcome.error) };
  await outcome.finished;
  return { id: outcome.handle.id };
}

async function job(core: BotCore, command: JobCommand, who: Who): Promise<string> {
  const done = await run(core, command, who);
  if (!('id' in done)) throw new Error(done.refused);
  return done.id;
}

describe('votes', () => {
  it('one vote per person per candidate, a second press takes it back, counts per candidate', async () => {
    const { core } = await setup();
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 4 --seed 1' }, as(ann));
    expect(core.team.vote(draft, 0, as(ann))).toMatchObject({ ok: true, value: { on: true, votes: [1, 0, 0, 0] } });
    expect(core.team.vote(draft, 0, as(bob))).toMatchObject({ ok: true, value: { on: true, votes: [2, 0, 0, 0] } });
    expect(core.team.vote(draft, 2, as(cat))).toMatchObject({ ok: true, value: { votes: [2, 0, 1, 0] } });
    // An explicit "on" twice is still one vote (a reaction added again after a restart).
    expect(core.team.vote(draft, 2, as(cat), { on: true })).toMatchObject({ ok: true, value: { votes: [2, 0, 1, 0] } });
    // Bob presses again: his vote is taken back.
    expect(core.team.vote(draft, 0, as(bob))).toMatchObject({ ok: true, value: { on: false, votes: [1, 0, 1, 0] } });
    expect(core.team.votesOf(draft)).toEqual([1, 0, 1, 0]);
    const stored = core.team.storedResult(draft)!;
    expect(stored).toMatchObject({ kind: 'result', refresh: true, image: null, votes: [1, 0, 1, 0], votesLine: 'Votes: #1 ×1 · #3 ×1' });
  });

  it('refuses what cannot be voted for, with one sentence each, and changes nothing', async () => {
    let judged = 0;
    const { core } = await setup({ moderator: new FakeModerator(() => ++judged === 1) });
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 2 --seed 3' }, as(ann));
    const withheld = core.history.get(draft)!.result!.images.find((i) => i.withheld)!.index;
    const refusal = (jobId: string, index: number, who = as(bob)): string => {
      const voted = core.team.vote(jobId, index, who);
      return voted.ok ? 'accepted' : errorText('en', voted.error);
    };
    expect(refusal(draft, withheld)).toBe('That candidate was withheld by the content filter, so it cannot be voted for.');
    expect(refusal(draft, 3)).toBe('That result has 2 candidates; there is no #4.');
    expect(refusal('nosuchjob', 0)).toBe('That job is not known any more.');
    // A vote from another platform does not reach this platform's job.
    expect(refusal(draft, 1 - withheld, as({ ...bob, platform: 'other' }, { ...place, platform: 'other' }))).toBe('That job is not known any more.');
    expect(core.team.votesOf(draft)).toEqual([0, 0]);
  });

  it('shows new counts at once, then at most once per interval with the newest counts', async () => {
    const { core } = await setup({ voteEditIntervalMs: 400 });
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 2 --seed 4' }, as(ann));
    const shown: (readonly number[])[] = [];
    const refresh = async (reply: Extract<Reply, { kind: 'result' }>): Promise<void> => void shown.push(reply.votes);
    core.team.vote(draft, 0, as(ann), { refresh });
    await expect.poll(() => shown.length).toBe(1);
    // Three more votes while the interval runs: one edit, with all three.
    core.team.vote(draft, 0, as(bob), { refresh });
    core.team.vote(draft, 1, as(cat), { refresh });
    core.team.vote(draft, 1, as(bob), { refresh });
    await expect.poll(() => shown.length, { timeout: 10_000 }).toBe(2);
    expect(shown).toEqual([
      [1, 0],
      [2, 2],
    ]);
    await core.team.flush();
    expect(shown).toHaveLength(2);
  });

  it('a deleted result loses its votes and leaves the board', async () => {
    const { core } = await setup();
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 1 --seed 5' }, as(ann));
    core.team.vote(draft, 0, as(bob));
    expect(core.delete(draft, as(ann)).ok).toBe(true);
    expect(core.team.votesOf(draft)).toEqual([0]);
    const board = await core.team.board(as(ann), '', 'reactions');
    expect(board.ok && board.value.entries).toEqual([]);
  });
});

describe('board', () => {
  it('lists the most voted candidates first, with who made and built on them, a contact sheet and Refine/Vary for each', async () => {
    const { core } = await setup();
    const first = await job(core, { kind: 'draft', text: 'a red fox --count 2 --seed 10' }, as(ann));
    const second = await job(core, { kind: 'draft', text: 'a blue owl --count 2 --seed 20' }, as(bob));
    for (const who of [ann, bob, cat]) core.team.vote(second, 1, as(who));
    core.team.vote(first, 0, as(bob));
    core.team.vote(first, 0, as(cat));
    core.team.vote(first, 1, as(cat));
    // Cat varies the winner, Ann refines it: both show on its entry.
    await job(core, { kind: 'vary', jobId: second, index: 1, strength: 'subtle' }, as(cat));
    await job(core, { kind: 'refine', image: { jobId: second, index: 1 } }, as(ann));
    const shown = await core.team.board(as(ann), '--since 2h', 'reactions');
    if (!shown.ok) throw new Error(shown.error.code);
    const board = shown.value;
    expect(board.text).toBe('Top 3 of this channel · last 2h');
    expect(board.entries.map((e) => [e.rank, e.jobId, e.index, e.votes])).toEqual([
      [1, second, 1, 3],
      [2, first, 0, 2],
      [3, first, 1, 1],
    ]);
    expect(board.entries[0]!.line).toMatch(/^#1 · 3 votes · “a blue owl” · seed \d+ · fake · by Bob · varied by Cat · refined by Ann$/);
    expect(board.entries[2]!.line).toMatch(/^#3 · 1 vote · “a red fox” · seed \d+ · fake · by Ann$/);
    expect(board.buttons.map((b) => [b.id, b.label])).toEqual([
      [`z:refine:${second}:1`, 'Refine #1'],
      [`z:refine:${first}:0`, 'Refine #2'],
      [`z:refine:${first}:1`, 'Refine #3'],
    ]);
    expect(board.menu!.options.map((o) => o.id)).toContain(`z:vary-strong:${first}:1`);
    const sheet = await sharp(board.image!.png).metadata();
    // Three 256 px tiles in a row with 8 px gaps.
    expect([sheet.width, sheet.height]).toEqual([3 * 256 + 4 * 8, 256 + 2 * 8]);
  });

  it('says an empty board is empty and how to vote here, and refuses a window it cannot read', async () => {
    const { core } = await setup();
    const empty = await core.team.board(as(cat), '', 'control');
    expect(empty.ok && empty.value).toMatchObject({ entries: [], image: null, text: expect.stringMatching(/^最近 24h 本频道还没有投票.*☆/) });
    const bad = await core.team.board(as(ann), '--since forever', 'reactions');
    expect(!bad.ok && errorText('en', bad.error)).toBe('"forever" is not a time window. Use something like 2h, 7d or 1w (up to 90 days).');
    expect((await core.team.board(as(ann), '7天', 'reactions')).ok).toBe(true);
    expect((await core.team.board(as(ann), '100d', 'reactions')).ok).toBe(false);
  });

  it('puts the contact sheet behind a spoiler when an entry was posted behind one', async () => {
    const { core } = await setup({ moderator: new FakeModerator(() => true) });
    const nsfw: Place = { ...place, channelId: 'c-nsfw', channelIsNsfw: true };
    const configured = core.team.settings(as(admin, nsfw), { kind: 'change', target: 'channel', set: { policy: 'spoiler' }, clear: [] });
    expect(configured.ok).toBe(true);
    const flagged = await job(core, { kind: 'draft', text: 'a fox --count 1 --seed 32' }, as(ann, nsfw));
    expect(core.history.get(flagged)!.result!.images[0]).toMatchObject({ withheld: false, spoiler: true });
    core.team.vote(flagged, 0, as(bob, nsfw));
    const board = await core.team.board(as(ann, nsfw), '', 'reactions');
    expect(board.ok && board.value.image?.spoiler).toBe(true);
  });

  it('keeps to its window and its channel', async () => {
    const { core } = await setup();
    const here = await job(core, { kind: 'draft', text: 'a fox --count 1 --seed 30' }, as(ann));
    const elsewhere: Place = { ...place, channelId: 'c2' };
    const there = await job(core, { kind: 'draft', text: 'a cat --count 1 --seed 31' }, as(ann, elsewhere));
    core.team.vote(here, 0, as(bob));
    core.team.vote(there, 0, as(bob, elsewhere));
    const board = await core.team.board(as(ann), '1h', 'reactions');
    expect(board.ok && board.value.entries.map((e) => e.jobId)).toEqual([here]);
  });
});

describe('lineage', () => {
  it('records the action, the parent candidate and who pressed, from draft to vary to refine to edit', async () => {
    const { core } = await setup();
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 2 --seed 40' }, as(ann));
    const vary = await job(core, { kind: 'vary', jobId: draft, index: 1, strength: 'strong' }, as(bob));
    const refine = await job(core, { kind: 'refine', image: { jobId: vary, index: 0 } }, as(cat));
    const edit = await job(core, { kind: 'edit', text: 'make it green', image: { jobId: refine } }, as(ann));
    const found = core.team.lineage(edit);
    if (!found.ok) throw new Error(found.error.code);
    expect(found.value.chain.map((r) => [r.id, r.action, r.parentId, r.parentIndex, r.owner.userId])).toEqual([
      [draft, 'draft', null, null, 'ann'],
      [vary, 'vary', draft, 1, 'bob'],
      [refine, 'refine', vary, 0, 'cat'],
      [edit, 'edit', refine, 0, 'ann'],
    ]);
    const ofDraft = core.team.lineage(draft);
    expect(ofDraft.ok && ofDraft.value.children.map((c) => c.id)).toEqual([vary]);
    const lines = renderChain('en', found.value.chain);
    expect(lines[0]).toMatch(new RegExp(`^${draft} · /draft · by Ann · done · “a fox”$`));
    expect(lines[1]).toBe(`└ ${vary} · varied from #2 of ${draft} · by Bob · done · “a fox”`);
    expect(lines[3]).toMatch(new RegExp(`^    └ ${edit} · edited from #1 of ${refine} · by Ann · done`));
    // The result of each names its origin for the adapter to link.
    expect(core.team.storedResult(vary)!.origin).toEqual({ action: 'vary', parentId: draft, parentIndex: 1 });
    expect(originText('zh-CN', { action: 'refine', parentId: vary, parentIndex: 0 }, '[任务]')).toBe('精修自 [任务] 的 #1');
    expect(core.team.lineage('nosuchjob').ok).toBe(false);
  });
});

describe('settings', () => {
  const settings = (core: BotCore, who: Who, line: string): string => {
    const command = parseSettingsText(line);
    if (!command.ok) return errorText(who.actor.locale, command.error);
    const result = core.team.settings(who, command.value);
    return result.ok ? result.value : errorText(who.actor.locale, result.error);
  };

  it('applies flags over personal over channel over config, and shows both levels', async () => {
    const { core, engine } = await setup();
    expect(settings(core, as(admin), 'channel --count 2 --ar 16:9 --style ink')).toMatch(/^Saved\. This channel: --count 2 · --ar 16:9 · --style ink/);
    expect(settings(core, as(ann), 'me --count 3')).toContain('Yours: --count 3');
    const spec = async (text: string, who: Who): Promise<{ count: number; width: number; height: number; style: string | null }> => {
      const id = await job(core, { kind: 'draft', text }, who);
      const record = engine.history.get(id)!;
      return { count: record.spec.candidates.length, width: record.spec.width, height: record.spec.height, style: record.spec.style };
    };
    // Ann: her count, the channel's ratio and style.
    expect(await spec('a fox --seed 1', as(ann))).toMatchObject({ count: 3, style: 'ink' });
    const annSpec = await spec('a fox --seed 1', as(ann));
    expect(annSpec.width).toBeGreaterThan(annSpec.height);
    // Her flags win.
    expect(await spec('a fox --seed 1 --count 1 --ar 1:1 --style photo', as(ann))).toMatchObject({ count: 1, style: 'photo' });
    // Bob has no defaults of his own: the channel's.
    expect(await spec('a fox --seed 1', as(bob))).toMatchObject({ count: 2, style: 'ink' });
    // Elsewhere the channel's defaults do not apply; Ann's own still do.
    expect(await spec('a fox --seed 1', as(ann, { ...place, channelId: 'c9' }))).toMatchObject({ count: 3, style: null });
    // "default" removes a setting.
    settings(core, as(admin), 'channel --style default');
    expect(await spec('a fox --seed 1', as(bob))).toMatchObject({ count: 2, style: null });
    expect(settings(core, as(bob), '')).toBe(
      'This channel: --count 2 · --ar 16:9\nYours: —\nChange yours with /settings me --count 1 --ar 16:9 --style <name> ("default" removes one). Your flags beat your defaults, which beat the channel’s; channel admins set the channel’s.',
    );
  });

  it('refuses a non-admin, a bad value, a channel key on personal settings and a policy the operator or the channel forbids', async () => {
    const { core } = await setup({ config: testConfig({ moderation: { channelPolicies: ['block'] } } as never) });
    expect(settings(core, as(bob), 'channel --count 2')).toBe('Only channel admins can change this channel’s settings. You can still set your own with /settings me.');
    expect(settings(core, as(cat), 'channel --count 2')).toBe('只有频道管理员可以修改本频道的设置。你仍可以用 /settings me 设置你自己的默认值。');
    expect(settings(core, as(ann), 'me --others off')).toBe('--others is a channel setting: use /settings channel --others … (channel admins only).');
    expect(settings(core, as(ann), 'me --count 9')).toBe('--count must be between 1 and 4; you gave 9.');
    expect(settings(core, as(ann), 'me --style nosuch')).toMatch(/^Unknown style "nosuch"\. Styles: photo, /);
    expect(settings(core, as(ann), 'me --ar wide')).toMatch(/^--ar cannot be "wide"/);
    expect(settings(core, as(ann), 'me --colour red')).toMatch(/^There is no setting --colour/);
    expect(settings(core, as(ann), 'everyone --count 2')).toMatch(/^Use \/settings to see the settings/);
    expect(settings(core, as(admin), 'channel --policy spoiler')).toBe('This server\'s operator does not let channels choose the policy "spoiler". Allowed: block.');
    // Nothing was saved by any of it.
    expect(settings(core, as(ann), '')).toMatch(/^This channel: —\nYours: —/);
  });

  it('lets a channel choose the spoiler policy only where the platform marks it NSFW, and uses it for new jobs there', async () => {
    const { core, engine } = await setup();
    expect(settings(core, as(admin), 'channel --policy spoiler')).toBe('The spoiler policy is only for channels the platform marks as NSFW (age-restricted).');
    const nsfw: Place = { ...place, channelId: 'c-nsfw', channelIsNsfw: true };
    expect(settings(core, as(admin, nsfw), 'channel --policy spoiler')).toContain('--policy spoiler');
    const id = await job(core, { kind: 'draft', text: 'a fox --count 1' }, as(ann, nsfw));
    expect(engine.history.get(id)!.policy).toBe('spoiler');
    const elsewhere = await job(core, { kind: 'draft', text: 'a fox --count 1' }, as(ann));
    expect(engine.history.get(elsewhere)!.policy).toBe('block');
  });

  it('keeps buttons to their owner where the channel says so: others are refused, the owner and admins are not', async () => {
    const { core } = await setup();
    const draft = await job(core, { kind: 'draft', text: 'a fox --count 2 --seed 50' }, as(ann));
    settings(core, as(admin), 'channel --others off');
    expect(await run(core, { kind: 'vary', jobId: draft, index: 0, strength: 'subtle' }, as(bob))).toEqual({
      refused: 'In this channel only the person who made a result (or an admin) can refine, vary or reroll it.',
    });
    expect(await run(core, { kind: 'reroll', jobId: draft }, as(bob))).toHaveProperty('refused');
    expect(await run(core, { kind: 'refine', image: { jobId: draft, index: 1 } }, as(bob))).toHaveProperty('refused');
    expect(await run(core, { kind: 'reroll', jobId: draft }, as(ann))).toHaveProperty('id');
    expect(await run(core, { kind: 'vary', jobId: draft, index: 0, strength: 'subtle' }, as(admin))).toHaveProperty('id');
    settings(core, as(admin), 'channel --others on');
    expect(await run(core, { kind: 'vary', jobId: draft, index: 0, strength: 'subtle' }, as(bob))).toHaveProperty('id');
  });

  it('survives a restart: the journal keeps votes and settings', async () => {
    const config = testConfig();
    const first = await setup({ config });
    const draft = await job(first.core, { kind: 'draft', text: 'a fox --count 2 --seed 60' }, as(ann));
    first.core.team.vote(draft, 1, as(bob));
    settings(first.core, as(admin), 'channel --count 1');
    settings(first.core, as(ann), 'me --ar 9:16');
    await first.engine.shutdown();
    engines.splice(engines.indexOf(first.engine), 1);
    const second = await setup({ config });
    expect(second.core.team.votesOf(draft)).toEqual([0, 1]);
    expect(second.core.team.settingsOf(as(ann))).toMatchObject({ channel: { count: 1 }, personal: { ar: '9:16' } });
  });
});
