import { request } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeRuntime } from '../../../test/e2e/studio/fake-runtime.ts';
import type { Runtime } from '../../runtime.ts';
import { OPTIONS } from '../core/options.ts';
import { errorText, text } from '../core/texts.ts';
import { startStudio, StudioStartError, type StudioAdapter } from './index.ts';
import type { TabMessage } from './protocol.ts';
import { CONTENT_SECURITY_POLICY } from './security-headers.ts';

/**
 * The studio's HTTP and WebSocket surface over the real engine and core (fake pipeline): what a hostile page or a
 * broken client can send, and what comes back.
 */
let runtime: Runtime;
let studio: StudioAdapter;
let port: number;
let origin: string;

beforeAll(async () => {
  runtime = await startFakeRuntime({ limits: { maxInputBytes: 64 * 1024 } });
  studio = await startStudio(runtime);
  port = Number(new URL(studio.url).port);
  origin = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await studio?.stop();
  await runtime?.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path and headers exactly as given (fetch would normalise `..` away). */
function raw(path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[]; noHost?: boolean } = {}): Promise<RawResponse> {
  const headers = options.noHost ? { ...options.headers } : { host: `127.0.0.1:${port}`, ...options.headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers, setHost: !options.noHost }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    for (const chunk of [options.body ?? []].flat()) req.write(chunk);
    req.end();
  });
}

/** A WebSocket client that keeps every message it receives. */
async function client(headers: Record<string, string> = { origin }, path = '/ws'): Promise<{ ws: WebSocket; messages: TabMessage[]; next: (pred: (m: TabMessage) => boolean) => Promise<TabMessage> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  const messages: TabMessage[] = [];
  const waiters: { pred: (m: TabMessage) => boolean; resolve: (m: TabMessage) => void }[] = [];
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as TabMessage;
    messages.push(message);
    for (const w of waiters.splice(0)) (w.pred(message) ? w.resolve(message) : waiters.push(w));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
  const next = (pred: (m: TabMessage) => boolean): Promise<TabMessage> => {
    const found = messages.find(pred);
    return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  return { ws, messages, next };
}

const hello = (userId: string, name: string, locale = 'en-US'): string => JSON.stringify({ t: 'hello', userId, name, locale });

describe('studio server: HTTP', () => {
  it('serves the page with a strict CSP', async () => {
    const page = await raw('/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("img-src 'self' blob: data:");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(String(page.body)).toContain('<script type="module" src="/app.js">');
    expect((await raw('/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('serves no file outside its own list, however the path is spelled', async () => {
    for (const path of ['/../package.json', '/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/public/../index.ts', '//etc/passwd', '/index.ts', '/studio-bot.ts', '/media/../zimage.db', '/media/abcd1234/../../zimage.db', '/media/abcd1234/0.png', '/zimage.db', '/outputs/']) {
      const response = await raw(path);
      expect(response.status, path).toBe(404);
      expect(String(response.body), path).toBe('Not found');
    }
  });

  it('answers only requests that name it in Host (DNS rebinding)', async () => {
    expect((await raw('/', { headers: { host: `evil.example:${port}` } })).status).toBe(403);
    expect((await raw('/', { headers: { host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    // HTTP/1.1 without Host: Node's server refuses it before the studio sees it.
    expect((await raw('/', { noHost: true })).status).toBe(400);
    expect((await raw('/', { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it('takes uploads only from its own origin, for a user a tab has presented, capped, and only images', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#08f' } }).png().toBuffer();
    // No tab has said it is tab-aaaaaaaa yet: an id nobody presented gets no room.
    expect((await raw('/upload?user=tab-aaaaaaaa', { method: 'POST', headers: { origin }, body: png })).status).toBe(400);
    const tab = await client();
    tab.ws.send(hello('tab-aaaaaaaa', 'Ada'));
    await tab.next((m) => m.t === 'welcome');
    const post = (headers: Record<string, string>, body: Buffer | Buffer[], query = '?user=tab-aaaaaaaa&locale=zh-CN'): Promise<RawResponse> =>
      raw(`/upload${query}`, { method: 'POST', headers, body });
    expect((await post({}, png)).status).toBe(403);
    expect((await post({ origin: 'http://evil.example' }, png)).status).toBe(403);
    expect((await post({ origin, host: `evil.example:${port}` }, png)).status).toBe(403);
    const badUser = await post({ origin }, png, '?user=x');
    expect(badUser.status).toBe(400);
    const text = await post({ origin }, Buffer.from('just some text'));
    expect(text.status).toBe(415);
    expect(JSON.parse(String(text.body))).toEqual({ error: errorText('zh-CN', { code: 'unsupported-attachment' }) });
    const declared = await post({ origin, 'content-length': String(65 * 1024) }, Buffer.alloc(65 * 1024));
    expect(declared.status).toBe(413);
    expect(JSON.parse(String(declared.body)).error).toBe(errorText('zh-CN', { code: 'attachment-too-large', params: { max: '64 KiB' } }));
    // Chunked, no length: refused once the bytes pass the cap.
    const streamed = await post({ origin, 'transfer-encoding': 'chunked' }, [png, Buffer.alloc(40 * 1024), Buffer.alloc(40 * 1024)]);
    expect(streamed.status).toBe(413);
    const ok = await post({ origin }, png);
    expect(ok.status).toBe(200);
    expect(JSON.parse(String(ok.body)).id).toMatch(/^[a-f0-9]{32}$/);
    expect((await raw('/upload', { method: 'PUT', headers: { origin } })).status).toBe(405);
    tab.ws.close();
  });
});

describe('studio server: WebSocket', () => {
  it('refuses handshakes from other origins, other hosts and other paths', async () => {
    await expect(client({})).rejects.toThrow('HTTP 403');
    await expect(client({ origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(client({ origin, host: `evil.example:${port}` })).rejects.toThrow('HTTP 403');
    await expect(client({ origin }, '/other')).rejects.toThrow('HTTP 403');
    const ok = await client({ origin: `http://localhost:${port}` });
    ok.ws.close();
  });

  it('answers anything unreadable with one message and changes nothing', async () => {
    const { ws, messages, next } = await client();
    const bad = text('en', 'studio.bad-message');
    const jobsBefore = runtime.core.history.recent({ limit: 100 }).length;
    ws.send(JSON.stringify({ t: 'command', ref: 1, text: '/draft a cat' })); // before hello
    ws.send(Buffer.from(hello('tab-bbbbbbbb', 'Bo')), { binary: true });
    ws.send('{"t":"hello"');
    ws.send(JSON.stringify({ t: 'hello', userId: 'tab-bbbbbbbb', name: 'Bo\u202E', locale: 'en' }));
    ws.send(hello('tab-bbbbbbbb', 'Bo'));
    await next((m) => m.t === 'welcome');
    ws.send(hello('tab-cccccccc', 'Someone else'));
    ws.send(JSON.stringify({ t: 'command', ref: 2, text: 'x', isAdmin: true }));
    await new Promise<void>((resolve) => {
      const check = (): void => (messages.filter((m) => m.t === 'error').length >= 6 ? resolve() : void setTimeout(check, 10));
      check();
    });
    expect(messages.filter((m) => m.t === 'error')).toEqual(Array.from({ length: 6 }, () => ({ t: 'error', ref: null, text: bad })));
    expect(runtime.core.history.recent({ limit: 100 }).length).toBe(jobsBefore);
    // Frames past the size limit close the connection (1009: message too big).
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ t: 'command', ref: 3, text: 'x'.repeat(70 * 1024) }));
    expect(await closed).toBe(1009);
  });

  it('runs commands for the tab that sent them, shows the cards to every tab, and refusals only to the asker', async () => {
    const ada = await client();
    const bo = await client();
    ada.ws.send(hello('tab-aaaaaaaa', 'Ada'));
    bo.ws.send(hello('tab-bbbbbbbb', 'Bo', 'zh-Hans-CN'));
    const welcome = await ada.next((m) => m.t === 'welcome');
    expect(welcome).toMatchObject({ t: 'welcome', userId: 'tab-aaaaaaaa', name: 'Ada', upload: { maxBytes: 64 * 1024 }, assistant: false, assists: [] });
    // No prompt assistant here: --enhance is not offered.
    expect(welcome.t === 'welcome' && welcome.options.map((o) => o.flag)).toEqual(OPTIONS.filter((o) => o.name !== 'enhance').map((o) => `--${o.name}`));
    await bo.next((m) => m.t === 'welcome');

    ada.ws.send(JSON.stringify({ t: 'command', ref: 7, text: '/draft a red fox --seed 5 --count 2' }));
    const ack = await ada.next((m) => m.t === 'ack' && m.ref === 7);
    const jobId = ack.t === 'ack' ? ack.jobId! : '';
    const result = await bo.next((m) => m.t === 'card' && m.card.jobId === jobId && m.card.state === 'result');
    if (result.t !== 'card') throw new Error('not a card');
    expect(result.card).toMatchObject({ owner: { name: 'Ada', mine: false }, role: 'draft', prompt: 'a red fox', grid: `/media/${jobId}/grid.png` });
    expect(result.card.buttons.map((b) => b.id)).toContain(`z:refine:${jobId}:1`);
    // Cards never carry the owner's tab id (it is all the studio checks before Cancel or Delete).
    expect(JSON.stringify(bo.messages)).not.toContain('tab-aaaaaaaa');
    const own = await ada.next((m) => m.t === 'card' && m.card.jobId === jobId && m.card.state === 'result');
    expect(own.t === 'card' && own.card.owner).toEqual({ name: 'Ada', mine: true });
    expect(bo.messages.some((m) => m.t === 'card' && m.card.jobId === jobId && m.card.state === 'status')).toBe(true);
    expect(bo.messages.some((m) => m.t === 'ack')).toBe(false);
    expect(runtime.core.history.get(jobId)!.owner).toEqual({ platform: 'studio', userId: 'tab-aaaaaaaa', name: 'Ada' });
    const grid = await raw(`/media/${jobId}/grid.png`);
    expect(grid.status).toBe(200);
    expect(grid.headers['content-type']).toBe('image/png');

    // Refusals, in the asker's language, to the asker only.
    bo.ws.send(JSON.stringify({ t: 'command', ref: 8, text: '/draft 一只猫 --seed 香蕉' }));
    bo.ws.send(JSON.stringify({ t: 'command', ref: 9, text: '/imagine 一只猫' }));
    bo.ws.send(JSON.stringify({ t: 'button', ref: 10, id: `z:delete:${jobId}` }));
    bo.ws.send(JSON.stringify({ t: 'button', ref: 11, id: 'z:explode:abcd1234' }));
    // An upload belongs to the tab that sent it.
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#08f' } }).png().toBuffer();
    const upload = JSON.parse(String((await raw('/upload?user=tab-aaaaaaaa', { method: 'POST', headers: { origin }, body: png })).body)) as { id: string };
    bo.ws.send(JSON.stringify({ t: 'command', ref: 12, text: '/edit make it red', upload: upload.id }));
    const refusals = await Promise.all([8, 9, 10, 11, 12].map((ref) => bo.next((m) => m.t === 'error' && m.ref === ref)));
    expect(refusals.map((m) => (m.t === 'error' ? m.text : ''))).toEqual([
      errorText('zh-CN', { code: 'not-a-number', params: { flag: '--seed', value: '香蕉', kind: 'integer' } }),
      text('zh-CN', 'error.unknown-command', { command: '/imagine' }),
      errorText('zh-CN', { code: 'not-owner' }),
      errorText('zh-CN', { code: 'expired-button' }),
      errorText('zh-CN', { code: 'attachment-fetch' }),
    ]);
    expect(ada.messages.some((m) => m.t === 'error')).toBe(false);
    expect(runtime.core.history.get(jobId)!.status).toBe('done');

    ada.ws.close();
    bo.ws.close();
  });

  it('after pause, refuses new commands', async () => {
    const tab = await client();
    tab.ws.send(hello('tab-dddddddd', 'Di'));
    await tab.next((m) => m.t === 'welcome');
    runtime.core.pause();
    tab.ws.send(JSON.stringify({ t: 'command', ref: 1, text: '/draft a cat' }));
    const refusal = await tab.next((m) => m.t === 'error');
    expect(refusal).toEqual({ t: 'error', ref: 1, text: errorText('en', { code: 'shutting-down', message: '' }) });
    runtime.core.resume();
    tab.ws.close();
  });
});

describe('studio server: votes, board, history and settings', () => {
  it('toggles a vote for the voter, marks it in their tab alone, shows the counts in every tab, and refuses to the voter only', async () => {
    const ada = await client();
    const bo = await client();
    ada.ws.send(hello('tab-aaaaaaa2', 'Ada'));
    bo.ws.send(hello('tab-bbbbbbb2', 'Bo', 'zh-CN'));
    await Promise.all([ada.next((m) => m.t === 'welcome'), bo.next((m) => m.t === 'welcome')]);

    // Nothing voted yet: the board says so, and how to vote here.
    bo.ws.send(JSON.stringify({ t: 'board', ref: 1, since: '' }));
    const empty = await bo.next((m) => m.t === 'board' && m.ref === 1);
    expect(empty.t === 'board' && empty.board).toMatchObject({
      text: text('zh-CN', 'board.empty', { window: '24h', how: text('zh-CN', 'board.how.control') }),
      entries: [],
      image: null,
      buttons: [],
      menu: null,
    });

    ada.ws.send(JSON.stringify({ t: 'command', ref: 2, text: '/draft a red fox --seed 5 --count 2' }));
    const ack = await ada.next((m) => m.t === 'ack' && m.ref === 2);
    const jobId = ack.t === 'ack' ? ack.jobId! : '';
    await bo.next((m) => m.t === 'card' && m.card.jobId === jobId && m.card.state === 'result');
    const cardsOf = (tab: typeof ada): Extract<TabMessage, { t: 'card' }>['card'][] =>
      tab.messages.flatMap((m) => (m.t === 'card' && m.card.jobId === jobId && m.card.state === 'result' ? [m.card] : []));
    expect(cardsOf(bo).at(-1)).toMatchObject({ votes: [0, 0], votesLine: null, myVotes: [] });

    bo.ws.send(JSON.stringify({ t: 'vote', ref: 3, jobId, index: 1 }));
    await bo.next((m) => m.t === 'announce' && m.text === text('zh-CN', 'vote.recorded', { n: 2 }));
    expect(cardsOf(bo).at(-1)).toMatchObject({ votes: [0, 1], myVotes: [1] });
    // Every tab sees the count; only the voter's marks the candidate as theirs.
    await expect.poll(() => cardsOf(ada).at(-1)?.votes, { timeout: 30_000 }).toEqual([0, 1]);
    expect(cardsOf(ada).at(-1)).toMatchObject({ myVotes: [], votesLine: text('en', 'result.votes', { votes: '#2 ×1' }) });
    expect(runtime.core.team.votesOf(jobId)).toEqual([0, 1]);

    // Pressed again: taken back.
    bo.ws.send(JSON.stringify({ t: 'vote', ref: 4, jobId, index: 1 }));
    await bo.next((m) => m.t === 'announce' && m.text === text('zh-CN', 'vote.withdrawn', { n: 2 }));
    expect(cardsOf(bo).at(-1)).toMatchObject({ votes: [0, 0], myVotes: [] });
    await expect.poll(() => cardsOf(ada).at(-1)?.votes, { timeout: 30_000 }).toEqual([0, 0]);

    // Refusals, in the voter's language, to the voter alone; nothing changes.
    const adaErrors = ada.messages.filter((m) => m.t === 'error').length;
    bo.ws.send(JSON.stringify({ t: 'vote', ref: 5, jobId: 'zzzz9999', index: 0 }));
    bo.ws.send(JSON.stringify({ t: 'vote', ref: 6, jobId, index: 3 }));
    const refusals = await Promise.all([5, 6].map((ref) => bo.next((m) => m.t === 'error' && m.ref === ref)));
    expect(refusals.map((m) => (m.t === 'error' ? m.text : ''))).toEqual([
      errorText('zh-CN', { code: 'unknown-job' }),
      errorText('zh-CN', { code: 'no-such-candidate', params: { n: 4, count: 2 } }),
    ]);
    expect(ada.messages.filter((m) => m.t === 'error').length).toBe(adaErrors);
    expect(runtime.core.team.votesOf(jobId)).toEqual([0, 0]);

    // After two votes for candidate 1: the board, its sheet served like results (a made-up sheet id is not).
    ada.ws.send(JSON.stringify({ t: 'vote', ref: 7, jobId, index: 0 }));
    bo.ws.send(JSON.stringify({ t: 'vote', ref: 8, jobId, index: 0 }));
    await expect.poll(() => runtime.core.team.votesOf(jobId), { timeout: 30_000 }).toEqual([2, 0]);
    ada.ws.send(JSON.stringify({ t: 'board', ref: 9, since: '2h' }));
    const board = await ada.next((m) => m.t === 'board' && m.ref === 9);
    if (board.t !== 'board') throw new Error('not a board');
    expect(board.board.since).toBe('2h');
    expect(board.board.text).toBe(text('en', 'board.title', { window: '2h', count: 1 }));
    expect(board.board.entries).toMatchObject([{ rank: 1, jobId, index: 0, votes: 2 }]);
    expect(board.board.buttons.map((b) => b.id)).toEqual([`z:refine:${jobId}:0`]);
    expect(board.board.menu?.options.map((o) => o.id)).toEqual([`z:vary-subtle:${jobId}:0`, `z:vary-strong:${jobId}:0`]);
    expect(board.board.image?.url).toMatch(/^\/board\/[a-f0-9]{32}\.png$/);
    const sheet = await raw(board.board.image!.url);
    expect(sheet.status).toBe(200);
    expect(sheet.headers['content-type']).toBe('image/png');
    expect((await sharp(sheet.body).metadata()).width).toBeGreaterThan(0);
    expect((await raw(`/board/${'0'.repeat(32)}.png`)).status).toBe(404);
    expect((await raw('/board/../zimage.db')).status).toBe(404);
    ada.ws.send(JSON.stringify({ t: 'board', ref: 10, since: '999w' }));
    expect(await ada.next((m) => m.t === 'error' && m.ref === 10)).toEqual({ t: 'error', ref: 10, text: errorText('en', { code: 'bad-window', params: { value: '999w' } }) });

    // History: Refine 1 of the draft makes a child; its chain is the draft, then it.
    ada.ws.send(JSON.stringify({ t: 'button', ref: 11, id: `z:refine:${jobId}:0` }));
    const refineAck = await ada.next((m) => m.t === 'ack' && m.ref === 11);
    const refine = refineAck.t === 'ack' ? refineAck.jobId! : '';
    const refined = await bo.next((m) => m.t === 'card' && m.card.jobId === refine && m.card.state === 'result');
    expect(refined.t === 'card' && refined.card.origin).toEqual({
      action: 'refine',
      parentId: jobId,
      parentIndex: 0,
      before: 'refined from #1 of ',
      label: `job ${jobId}`,
      after: '',
      linked: true,
    });
    bo.ws.send(JSON.stringify({ t: 'lineage', ref: 12, jobId: refine }));
    const chain = await bo.next((m) => m.t === 'lineage' && m.ref === 12);
    expect(chain.t === 'lineage' && chain.chain.map((s) => [s.jobId, s.role])).toEqual([[jobId, 'draft'], [refine, 'refine']]);
    expect(chain.t === 'lineage' && chain.children).toEqual([]);
    expect(chain.t === 'lineage' && chain.chain[1]!.line).toContain(text('zh-CN', 'origin.refine.one', { n: 1, parent: jobId }));
    bo.ws.send(JSON.stringify({ t: 'lineage', ref: 13, jobId }));
    const children = await bo.next((m) => m.t === 'lineage' && m.ref === 13);
    expect(children.t === 'lineage' && children.children.map((s) => s.jobId)).toEqual([refine]);
    bo.ws.send(JSON.stringify({ t: 'lineage', ref: 14, jobId: 'zzzz9999' }));
    expect(await bo.next((m) => m.t === 'error' && m.ref === 14)).toEqual({ t: 'error', ref: 14, text: errorText('zh-CN', { code: 'unknown-job' }) });

    ada.ws.close();
    bo.ws.close();
  });

  it('shows and changes the studio’s settings and a user’s own, anyone may set the studio’s, and says why not in the asker’s tab', async () => {
    const ada = await client();
    ada.ws.send(hello('tab-aaaaaaa3', 'Ada'));
    await ada.next((m) => m.t === 'welcome');
    const ask = async (ref: number, change?: unknown): Promise<TabMessage> => {
      ada.ws.send(JSON.stringify({ t: 'settings', ref, ...(change ? { change } : {}) }));
      return ada.next((m) => (m.t === 'settings' || m.t === 'error') && m.ref === ref);
    };
    const shown = await ask(1);
    if (shown.t !== 'settings') throw new Error(JSON.stringify(shown));
    expect(shown.settings).toMatchObject({ channel: {}, personal: {}, canConfigure: true, choices: { maxCount: runtime.config.limits.maxCount, policies: ['block'] } });
    expect(shown.settings.choices.styles.map((s) => s.name)).toEqual(runtime.engine.styles.presets.map((p) => p.name));
    expect(shown.settings.lines).toEqual([text('en', 'settings.channel', { values: text('en', 'settings.none') }), text('en', 'settings.personal', { values: text('en', 'settings.none') })]);
    expect(shown.saved).toBeNull();

    const saved = await ask(2, { target: 'channel', values: { count: 2, ar: '16:9', othersMayPress: false } });
    if (saved.t !== 'settings') throw new Error(JSON.stringify(saved));
    expect(saved.settings.channel).toEqual({ count: 2, ar: '16:9', othersMayPress: false });
    expect(saved.saved).toContain('--count 2 · --ar 16:9 · --others off');
    // The panel is how the studio changes them: the sentence about the command is left out.
    expect(saved.saved).not.toContain('/settings');
    const mine = await ask(3, { target: 'personal', values: { count: 1 } });
    expect(mine.t === 'settings' && mine.settings.personal).toEqual({ count: 1 });

    expect(await ask(4, { target: 'personal', values: { othersMayPress: true } })).toEqual({ t: 'error', ref: 4, text: errorText('en', { code: 'channel-only-setting', params: { flag: '--others' } }) });
    expect(await ask(5, { target: 'channel', values: { policy: 'spoiler' } })).toEqual({ t: 'error', ref: 5, text: errorText('en', { code: 'policy-not-allowed', params: { policy: 'spoiler', allowed: 'block' } }) });
    expect(await ask(6, { target: 'personal', values: { ar: 'banana' } })).toEqual({
      t: 'error',
      ref: 6,
      text: errorText('en', { code: 'bad-setting', params: { flag: '--ar', value: 'banana', allowed: '1:1 16:9 9:16 4:3 3:2 …' } }),
    });
    expect(runtime.core.team.settingsOf({ actor: { platform: 'studio', userId: 'tab-aaaaaaa3', locale: 'en' }, place: { platform: 'studio', channelId: 'studio', channelIsNsfw: false } }).personal).toEqual({ count: 1 });

    // Back to the defaults: `default` clears each.
    const cleared = await ask(7, { target: 'channel', values: { count: 'default', ar: 'default', othersMayPress: 'default' } });
    expect(cleared.t === 'settings' && cleared.settings.channel).toEqual({});
    const clearedMine = await ask(8, { target: 'personal', values: { count: 'default' } });
    expect(clearedMine.t === 'settings' && clearedMine.settings.personal).toEqual({});
    ada.ws.close();
  });
});

describe('studio server: hardening', () => {
  it('welcomes new identities at a limited rate, and anyone seen before at any time', async () => {
    const limited = await startFakeRuntime({ studio: { newUsersPerMinute: 3 } });
    const limitedStudio = await startStudio(limited);
    const limitedOrigin = `http://127.0.0.1:${new URL(limitedStudio.url).port}`;
    try {
      const connect = async (userId: string): Promise<TabMessage> => {
        const ws = new WebSocket(`ws://127.0.0.1:${new URL(limitedStudio.url).port}/ws`, { headers: { origin: limitedOrigin } });
        const first = new Promise<TabMessage>((resolve) => ws.once('message', (data) => resolve(JSON.parse(String(data)) as TabMessage)));
        await new Promise((resolve) => ws.once('open', resolve));
        ws.send(hello(userId, 'Someone'));
        const message = await first;
        ws.close();
        return message;
      };
      for (const id of ['tab-new00001', 'tab-new00002', 'tab-new00003']) expect((await connect(id)).t).toBe('welcome');
      expect(await connect('tab-new00004')).toEqual({ t: 'error', ref: null, text: text('en', 'studio.too-many-new-users') });
      // Someone already seen (another tab, a reload) is always welcome.
      expect((await connect('tab-new00001')).t).toBe('welcome');
    } finally {
      await limitedStudio.stop();
      await limited.close();
    }
  });

  it('cancels a waiting or running job its owner deletes, so it does not run on', async () => {
    const tab = await client();
    tab.ws.send(hello('tab-eeeeeeee', 'Eve'));
    await tab.next((m) => m.t === 'welcome');
    // At least 16 × 200 ms: still running when the delete arrives, however loaded the machine.
    tab.ws.send(JSON.stringify({ t: 'command', ref: 1, text: '/draft slow [step=200] --steps 16 --count 1' }));
    tab.ws.send(JSON.stringify({ t: 'command', ref: 2, text: '/draft waiting --count 1' }));
    const acks = await Promise.all([1, 2].map((ref) => tab.next((m) => m.t === 'ack' && m.ref === ref)));
    const [running, waiting] = acks.map((m) => (m.t === 'ack' ? m.jobId! : ''));
    await tab.next((m) => m.t === 'card' && m.card.jobId === running && m.card.state === 'status' && m.card.status?.phase === 'running');
    tab.ws.send(JSON.stringify({ t: 'button', ref: 3, id: `z:delete:${waiting}` }));
    tab.ws.send(JSON.stringify({ t: 'button', ref: 4, id: `z:delete:${running}` }));
    await tab.next((m) => m.t === 'removed' && m.jobId === running);
    for (const id of [running!, waiting!]) {
      await expect.poll(() => runtime.core.history.get(id)?.status, { timeout: 30_000 }).toBe('cancelled');
      expect(runtime.core.history.get(id)!.result).toBeNull();
    }
    tab.ws.close();
  });
});

describe('studio server: other platforms\' jobs', () => {
  it('refuses a reply to, or a describe of, a job the studio does not show (another platform\'s, found by its id)', async () => {
    const submitted = await runtime.engine.submit({ role: 'draft', owner: { platform: 'discord', userId: '4242' }, prompt: 'a teal ring', count: 1 });
    if (!submitted.ok) throw new Error(submitted.error.message);
    const jobId = submitted.value.id;
    await submitted.value.settled;
    const tab = await client();
    tab.ws.send(hello('tab-ffffffff', 'Fay'));
    await tab.next((m) => m.t === 'welcome');
    const jobs = runtime.core.history.recent({ limit: 100 }).length;
    tab.ws.send(JSON.stringify({ t: 'command', ref: 1, text: 'make it blue', replyTo: { jobId, index: 0 } }));
    tab.ws.send(JSON.stringify({ t: 'describe', ref: 2, image: { jobId, index: 0 } }));
    for (const ref of [1, 2]) {
      expect(await tab.next((m) => m.t === 'error' && m.ref === ref)).toEqual({ t: 'error', ref, text: errorText('en', { code: 'unknown-job' }) });
    }
    expect(runtime.core.history.recent({ limit: 100 })).toHaveLength(jobs);
    tab.ws.close();
  });
});

describe('studio start-up', () => {
  it('refuses to listen beyond loopback', async () => {
    const exposed = { ...runtime, config: { ...runtime.config, studio: { ...runtime.config.studio, host: '0.0.0.0' } } };
    await expect(startStudio(exposed)).rejects.toMatchObject({ code: 'non-loopback-host' });
    await expect(startStudio(exposed)).rejects.toBeInstanceOf(StudioStartError);
  });

  it('says so when the port is taken', async () => {
    const taken = { ...runtime, config: { ...runtime.config, studio: { ...runtime.config.studio, port } } };
    await expect(startStudio(taken)).rejects.toMatchObject({ code: 'listen-failed' });
  });
});
