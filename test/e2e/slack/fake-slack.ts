import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake Slack for end-to-end tests, on 127.0.0.1: the Web API methods the adapter calls (form-encoded, bearer
 * tokens checked, Slack's `200 {ok:false}` errors), the upload URLs of files.uploadV2, a file host serving
 * url_private with the bot token only, response_url endpoints, and Socket Mode (apps.connections.open + a WebSocket
 * at /link/). It keeps channels' messages so chat.update, conversations.replies and deletes behave like Slack's, and
 * the reactions on them as reactions.add/remove/get keep them (one per person per emoji, Slack's errors for the rest).
 */
export interface FakeFile {
  readonly id: string;
  readonly name: string;
  readonly title: string;
  readonly mimetype: string;
  readonly user: string;
  readonly url_private: string;
  readonly url_private_download: string;
}

/** One emoji on a message, as Slack lists it: who added it, in order, and how many. */
export interface FakeReaction {
  readonly name: string;
  users: string[];
  count: number;
}

export interface FakeMessage {
  readonly ts: string;
  readonly channel: string;
  thread_ts?: string;
  user: string;
  text: string;
  blocks: unknown[];
  files?: FakeFile[];
  /** Absent until someone reacts (Slack leaves the field out of a message nobody reacted to). */
  reactions?: FakeReaction[];
}

/** A reaction event's `event`, exactly as the Events API sends it. */
export interface ReactionEvent {
  readonly type: 'reaction_added' | 'reaction_removed';
  readonly user: string;
  readonly reaction: string;
  readonly item_user?: string;
  readonly item: { readonly type: 'message'; readonly channel: string; readonly ts: string };
  readonly event_ts: string;
}

export interface ApiCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
  readonly authorization: string | undefined;
  /** What the fake answered. */
  result?: Record<string, unknown>;
  /** When it arrived (performance.now()): the load benchmark measures from it. */
  readonly at: number;
}

export interface FakeUser {
  readonly locale: string;
  readonly isAdmin?: boolean;
  /** A workspace owner: Slack reports is_owner (and, for the primary owner, is_admin too). */
  readonly isOwner?: boolean;
  readonly name: string;
}

export interface Envelope {
  readonly envelope_id: string;
  readonly payload?: unknown;
}

const JSON_FIELDS = new Set(['blocks', 'files', 'view', 'attachments', 'metadata']);
/** Emoji names as Slack accepts them: lower-case words, digits, `_ + ' -`, and an optional `::skin-tone-n`. */
const EMOJI_NAME = /^[a-z0-9_+'-]+(?:::skin-tone-[2-6])?$/;
/** The permalinks' host, as a workspace's own domain would be. */
const PERMALINK_HOST = 'https://fake.slack.test';

export class FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly botUserId = 'UBOT';
  readonly teamId = 'T0TEST';
  readonly calls: ApiCall[] = [];
  readonly responses: { readonly id: string; readonly body: Record<string, unknown> }[] = [];
  readonly downloads: { readonly path: string; readonly authorization: string | undefined; readonly status: number }[] = [];
  readonly uploads: { readonly fileId: string; readonly bytes: Buffer; readonly declaredLength: number }[] = [];
  readonly socketAcks: Envelope[] = [];
  readonly users = new Map<string, FakeUser>();
  /** Channels the bot is not a member of (chat.postMessage answers not_in_channel). */
  readonly notInChannel = new Set<string>();
  readonly #messages = new Map<string, FakeMessage[]>();
  readonly #files = new Map<string, { file: FakeFile; bytes: Buffer }>();
  readonly #pendingUploads = new Map<string, { name: string; length: number }>();
  readonly #sockets = new Set<WebSocket>();
  readonly #server: Server;
  readonly #wss: WebSocketServer;
  #seq = 0;
  #port = 0;

  private constructor(botToken: string, appToken: string) {
    this.botToken = botToken;
    this.appToken = appToken;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#wss = new WebSocketServer({ server: this.#server, path: '/link/' });
    this.#wss.on('connection', (ws) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      ws.on('message', (raw) => this.socketAcks.push(JSON.parse(String(raw)) as Envelope));
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TEST' }, debug_info: { host: 'fake' } }));
    });
  }

  static async start(options: { botToken: string; appToken: string }): Promise<FakeSlack> {
    const fake = new FakeSlack(options.botToken, options.appToken);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  get port(): number {
    return this.#port;
  }

  get socketCount(): number {
    return this.#sockets.size;
  }

  nextTs(): string {
    this.#seq += 1;
    return `${1_700_000_000 + this.#seq}.${String(this.#seq).padStart(6, '0')}`;
  }

  /** A file someone uploaded, served at url_private (or a URL of your choice, to test foreign hosts). */
  addFile(bytes: Buffer, options: { name: string; user: string; url?: string; mimetype?: string }): FakeFile {
    const id = `F${String(++this.#seq).padStart(8, '0')}`;
    const url = options.url ?? `${this.base}/files/${id}/${options.name}`;
    const file: FakeFile = { id, name: options.name, title: options.name, mimetype: options.mimetype ?? 'image/png', user: options.user, url_private: url, url_private_download: url };
    this.#files.set(id, { file, bytes });
    return file;
  }

  addMessage(channel: string, message: { user: string; text?: string; files?: FakeFile[]; thread_ts?: string; blocks?: unknown[] }): FakeMessage {
    const stored: FakeMessage = { ts: this.nextTs(), channel, user: message.user, text: message.text ?? '', blocks: message.blocks ?? [], ...(message.files ? { files: message.files } : {}), ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) };
    this.#channel(channel).push(stored);
    return stored;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.#channel(channel).find((m) => m.ts === ts);
  }

  /** Takes a message away as a person deleting it in Slack would (no API call, no event). */
  removeMessage(channel: string, ts: string): boolean {
    const list = this.#channel(channel);
    const index = list.findIndex((m) => m.ts === ts);
    if (index >= 0) list.splice(index, 1);
    return index >= 0;
  }

  /**
   * A person reacts in Slack's client: the reaction is stored as reactions.add would store it, and the event Slack
   * would then send comes back (undefined when Slack would refuse the reaction, so no event would follow).
   */
  react(user: string, channel: string, ts: string, name: string): ReactionEvent | undefined {
    return this.#react(user, channel, ts, name).ok === true ? this.reactionEvent('reaction_added', user, channel, ts, name) : undefined;
  }

  /** A person takes a reaction back; the reaction_removed event, or undefined when they had not reacted so. */
  unreact(user: string, channel: string, ts: string, name: string): ReactionEvent | undefined {
    return this.#unreact(user, channel, ts, name).ok === true ? this.reactionEvent('reaction_removed', user, channel, ts, name) : undefined;
  }

  /** The event for a reaction as Slack shapes it: item {type, channel, ts}, item_user (the message's author), event_ts. */
  reactionEvent(type: ReactionEvent['type'], user: string, channel: string, ts: string, name: string): ReactionEvent {
    const author = this.message(channel, ts)?.user;
    return { type, user, reaction: name, ...(author ? { item_user: author } : {}), item: { type: 'message', channel, ts }, event_ts: this.nextTs() };
  }

  /** Who reacted with `name` on a message, in the order they did. */
  reactors(channel: string, ts: string, name: string): string[] {
    return [...(this.message(channel, ts)?.reactions?.find((r) => r.name === name)?.users ?? [])];
  }

  /** The permalink Slack gives a message: `p` and the ts without its dot; a thread reply names its thread. */
  permalinkOf(channel: string, ts: string): string | undefined {
    const message = this.message(channel, ts);
    if (!message) return undefined;
    const base = `${PERMALINK_HOST}/archives/${channel}/p${ts.replace('.', '')}`;
    return message.thread_ts && message.thread_ts !== ts ? `${base}?thread_ts=${message.thread_ts}&cid=${channel}` : base;
  }

  /** A thread as conversations.replies returns it: the parent, then the replies, oldest first. */
  thread(channel: string, ts: string): FakeMessage[] {
    return this.#channel(channel).filter((m) => m.ts === ts || m.thread_ts === ts);
  }

  hasFile(id: string): boolean {
    return this.#files.has(id);
  }

  callsTo(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Delivers a Socket Mode envelope to every connected client; resolves with the client's ack. */
  async sendEnvelope(type: 'slash_commands' | 'events_api' | 'interactive', payload: unknown): Promise<Envelope> {
    const envelope_id = `env-${++this.#seq}`;
    for (const ws of this.#sockets) ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    for (let i = 0; i < 2000; i++) {
      const ack = this.socketAcks.find((a) => a.envelope_id === envelope_id);
      if (ack) return ack;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ack for ${envelope_id}`);
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #channel(id: string): FakeMessage[] {
    let list = this.#messages.get(id);
    if (!list) this.#messages.set(id, (list = []));
    return list;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const body = await readBody(req);
    const send = (status: number, payload: unknown, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
    };
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const call: ApiCall = { method: url.pathname.slice(5), args: parseArgs(req, body), authorization: req.headers.authorization, at: performance.now() };
      this.calls.push(call);
      call.result = this.#api(call);
      return send(200, call.result);
    }
    if (req.method === 'POST' && url.pathname.startsWith('/upload/')) return this.#upload(url.pathname.slice(8), req, body, send);
    if (req.method === 'POST' && url.pathname.startsWith('/response/')) {
      this.responses.push({ id: url.pathname.slice(10), body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      return send(200, 'ok', 'text/plain');
    }
    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const id = url.pathname.split('/')[2] ?? '';
      const stored = this.#files.get(id);
      const authorized = req.headers.authorization === `Bearer ${this.botToken}`;
      const status = !stored ? 404 : authorized ? 200 : 403;
      this.downloads.push({ path: url.pathname, authorization: req.headers.authorization, status });
      return status === 200 ? send(200, stored!.bytes, stored!.file.mimetype) : send(status, 'no', 'text/plain');
    }
    send(404, 'not found', 'text/plain');
  }

  async #upload(id: string, req: IncomingMessage, body: Buffer, send: (status: number, payload: unknown, type?: string) => void): Promise<void> {
    const pending = this.#pendingUploads.get(id);
    if (!pending) return send(404, 'unknown upload', 'text/plain');
    let bytes = body;
    const type = req.headers['content-type'] ?? '';
    if (type.startsWith('multipart/form-data')) {
      const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
      const part = form.get('body') ?? form.get('file');
      if (!part || typeof part === 'string') return send(400, 'no file part', 'text/plain');
      bytes = Buffer.from(await part.arrayBuffer());
    }
    this.uploads.push({ fileId: id, bytes, declaredLength: pending.length });
    const file: FakeFile = {
      id,
      name: pending.name,
      title: pending.name,
      mimetype: 'image/png',
      user: this.botUserId,
      url_private: `${this.base}/files/${id}/${pending.name}`,
      url_private_download: `${this.base}/files/${id}/${pending.name}`,
    };
    this.#files.set(id, { file, bytes });
    send(200, `OK - ${bytes.length}`, 'text/plain');
  }

  /** reactions.add's checks and effect, for the bot's calls and for people reacting in the client alike. */
  #react(user: string, channel: string, ts: string, name: string): Record<string, unknown> {
    if (!channel || !ts) return { ok: false, error: 'no_item_specified' };
    if (!/^\d+\.\d+$/.test(ts)) return { ok: false, error: 'bad_timestamp' };
    if (!EMOJI_NAME.test(name)) return { ok: false, error: 'invalid_name' };
    const message = this.message(channel, ts);
    if (!message) return { ok: false, error: 'message_not_found' };
    const reactions = (message.reactions ??= []);
    const existing = reactions.find((r) => r.name === name);
    if (existing?.users.includes(user)) return { ok: false, error: 'already_reacted' };
    if (existing) {
      existing.users.push(user);
      existing.count += 1;
    } else {
      reactions.push({ name, users: [user], count: 1 });
    }
    return { ok: true };
  }

  #unreact(user: string, channel: string, ts: string, name: string): Record<string, unknown> {
    if (!channel || !ts) return { ok: false, error: 'no_item_specified' };
    if (!/^\d+\.\d+$/.test(ts)) return { ok: false, error: 'bad_timestamp' };
    if (!EMOJI_NAME.test(name)) return { ok: false, error: 'invalid_name' };
    const message = this.message(channel, ts);
    if (!message) return { ok: false, error: 'message_not_found' };
    const existing = message.reactions?.find((r) => r.name === name);
    if (!existing?.users.includes(user)) return { ok: false, error: 'no_reaction' };
    existing.users = existing.users.filter((u) => u !== user);
    existing.count -= 1;
    if (existing.count === 0) message.reactions = message.reactions!.filter((r) => r !== existing);
    if (message.reactions!.length === 0) delete message.reactions;
    return { ok: true };
  }

  #api({ method, args, authorization }: ApiCall): Record<string, unknown> {
    if (method === 'apps.connections.open') {
      if (authorization !== `Bearer ${this.appToken}`) return { ok: false, error: 'invalid_auth' };
      return { ok: true, url: `ws://127.0.0.1:${this.#port}/link/?ticket=t-${++this.#seq}` };
    }
    if (authorization !== `Bearer ${this.botToken}`) return { ok: false, error: 'invalid_auth' };
    const str = (key: string): string => String(args[key] ?? '');
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'zimage', team_id: this.teamId, user_id: this.botUserId, bot_id: 'B0TEST', is_enterprise_install: false };
      case 'users.info': {
        const user = this.users.get(str('user'));
        if (!user) return { ok: false, error: 'user_not_found' };
        return {
          ok: true,
          user: { id: str('user'), name: user.name.toLowerCase(), real_name: user.name, is_admin: user.isAdmin ?? false, is_owner: user.isOwner ?? false, ...(args.include_locale === 'true' ? { locale: user.locale } : {}), profile: { display_name: user.name } },
        };
      }
      case 'chat.postMessage': {
        const channel = str('channel');
        if (this.notInChannel.has(channel)) return { ok: false, error: 'not_in_channel' };
        const message = this.addMessage(channel, { user: this.botUserId, text: str('text'), blocks: (args.blocks as unknown[]) ?? [], ...(args.thread_ts ? { thread_ts: str('thread_ts') } : {}) });
        return { ok: true, channel, ts: message.ts, message };
      }
      case 'chat.update': {
        const message = this.message(str('channel'), str('ts'));
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = str('text');
        message.blocks = (args.blocks as unknown[]) ?? [];
        return { ok: true, channel: str('channel'), ts: message.ts };
      }
      case 'chat.delete': {
        const list = this.#channel(str('channel'));
        const index = list.findIndex((m) => m.ts === str('ts'));
        if (index < 0) return { ok: false, error: 'message_not_found' };
        list.splice(index, 1);
        return { ok: true, channel: str('channel'), ts: str('ts') };
      }
      case 'chat.postEphemeral':
        return { ok: true, message_ts: this.nextTs() };
      case 'chat.getPermalink': {
        if (!args.channel || !args.message_ts) return { ok: false, error: 'invalid_arguments' };
        if (!this.#messages.has(str('channel'))) return { ok: false, error: 'channel_not_found' };
        const permalink = this.permalinkOf(str('channel'), str('message_ts'));
        return permalink ? { ok: true, channel: str('channel'), permalink } : { ok: false, error: 'message_not_found' };
      }
      case 'reactions.add':
        return this.#react(this.botUserId, str('channel'), str('timestamp'), str('name'));
      case 'reactions.remove':
        return this.#unreact(this.botUserId, str('channel'), str('timestamp'), str('name'));
      case 'reactions.get': {
        if (!args.channel || !args.timestamp) return { ok: false, error: 'no_item_specified' };
        const message = this.message(str('channel'), str('timestamp'));
        if (!message) return { ok: false, error: 'message_not_found' };
        return { ok: true, type: 'message', channel: str('channel'), message: { type: 'message', ...message, permalink: this.permalinkOf(str('channel'), message.ts) } };
      }
      case 'conversations.replies': {
        // Oldest first, a page at a time, the parent at the top of every page (as Slack pages a thread).
        const [parent, ...rest] = this.thread(str('channel'), str('ts'));
        const limit = Math.max(1, Number(args.limit ?? 1000) - 1);
        const start = args.cursor ? Number(str('cursor')) : 0;
        const next = start + limit < rest.length ? String(start + limit) : '';
        const messages = parent ? [parent, ...rest.slice(start, start + limit)] : [];
        return { ok: true, messages, has_more: next !== '', response_metadata: { next_cursor: next } };
      }
      case 'files.getUploadURLExternal': {
        const id = `F${String(++this.#seq).padStart(8, '0')}`;
        this.#pendingUploads.set(id, { name: str('filename'), length: Number(str('length')) });
        return { ok: true, upload_url: `${this.base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const files = (args.files as { id: string; title?: string }[]).map((f) => this.#files.get(f.id)?.file);
        if (files.some((f) => !f)) return { ok: false, error: 'file_not_found' };
        const channel = str('channel_id');
        this.addMessage(channel, { user: this.botUserId, files: files as FakeFile[], ...(args.thread_ts ? { thread_ts: str('thread_ts') } : {}) });
        return { ok: true, files: files.map((f) => ({ id: f!.id, name: f!.name, title: f!.title })) };
      }
      case 'files.delete': {
        if (!this.#files.delete(str('file'))) return { ok: false, error: 'file_not_found' };
        for (const list of this.#messages.values()) for (const m of list) if (m.files) m.files = m.files.filter((f) => f.id !== str('file'));
        return { ok: true };
      }
      case 'views.open':
        return { ok: true, view: { id: `V${++this.#seq}`, ...(args.view as object) } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The Web API's form body (or JSON, which the SDK does not send but Slack accepts), JSON-valued fields decoded. */
function parseArgs(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const type = req.headers['content-type'] ?? '';
  const raw: Record<string, unknown> = type.startsWith('application/json')
    ? (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>)
    : Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  for (const key of JSON_FIELDS) {
    if (typeof raw[key] === 'string') {
      try {
        raw[key] = JSON.parse(raw[key]);
      } catch {
        // left as text: the assertion will show it
      }
    }
  }
  return raw;
}
