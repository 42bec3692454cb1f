import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ComponentType,
  GatewayOpcodes,
  InteractionResponseType,
  InteractionType,
  MessageType,
  ReactionType,
  type APIAttachment,
  type GatewayMessageReactionAddDispatchData,
  type GatewayMessageReactionRemoveDispatchData,
  type ApplicationFlags,
  type GuildMemberFlags,
  type APIGuildMember,
  type APIUser,
  type GatewayReadyDispatchData,
  type RESTGetAPIGatewayBotResult,
} from 'discord.js';

/**
 * A fake Discord on 127.0.0.1 for the real discord.js client: REST (gateway discovery, command registration,
 * interaction callbacks, interaction webhooks, channel messages, a CDN for attachments) and the gateway over ws
 * (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, dispatches) on one port. It enforces what matters — the
 * 3-second acknowledgement window (10062), bot auth on bot routes, expired interaction tokens (50027), the upload
 * limit (40005), rate limits with real headers — and records every request for the tests' assertions.
 */

const EPOCH = 1420070400000n;
let sequence = 0n;

/** A snowflake for a moment (discord.js reads an interaction's age from its id). */
export function snowflake(ms = Date.now()): string {
  sequence = (sequence + 1n) & 0xfffn;
  return String(((BigInt(ms) - EPOCH) << 22n) | (1n << 17n) | sequence);
}

export interface RecordedFile {
  readonly field: string;
  readonly name: string;
  readonly type: string;
  readonly bytes: Buffer;
}

export interface RecordedRequest {
  readonly method: string;
  /** Decoded (`@original`, not `%40original`), without `/api/v10`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly auth: string | null;
  /** The JSON body, or the multipart `payload_json`. */
  readonly json: Record<string, unknown> | unknown[] | null;
  readonly files: readonly RecordedFile[];
  status: number;
  /** When it arrived (performance.now()): the load benchmark measures from it. */
  readonly at: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id: string;
  author: APIUser;
  content: string;
  components: unknown[];
  attachments: APIAttachment[];
  message_reference?: { message_id: string; channel_id: string; guild_id: string };
  flags: number;
  type: MessageType;
  deleted: boolean;
  /** Every version the message went through (content and components), for the tests. */
  history: { content: string; components: unknown[]; attachments: number }[];
  /** Its reactions in the order each emoji was first added, with who reacted (Discord shows them in that order). */
  reactions: FakeReaction[];
}

export interface FakeReaction {
  /** The unicode emoji as Discord names it (`1️⃣`). */
  readonly emoji: string;
  readonly users: string[];
}

interface FakeInteraction {
  readonly id: string;
  readonly token: string;
  readonly type: InteractionType;
  readonly channelId: string;
  readonly dispatchedAt: number;
  readonly uploadLimit: number;
  readonly componentMessageId: string | null;
  readonly expireOnFirstEdit: boolean;
  acknowledged: boolean;
  originalId: string | null;
  modal: Record<string, unknown> | null;
}

export interface InteractOptions {
  readonly user?: APIUser;
  readonly channelId?: string;
  readonly locale?: string;
  /** The interaction's creation time, as its id encodes it (an old one models a token about to expire). */
  readonly createdAt?: number;
  readonly uploadLimit?: number;
  /** The token works for the acknowledgement, then every webhook call fails with 50027 (it "expired" meanwhile). */
  readonly expireOnFirstEdit?: boolean;
  /** The guild the interaction comes from (another guild the bot is in); default the fake's own. */
  readonly guildId?: string;
  /** The member may manage messages there (a moderator). */
  readonly manageMessages?: boolean;
  /** The member has Manage Server. */
  readonly manageGuild?: boolean;
  /** The member has Manage Channels in the channel. */
  readonly manageChannels?: boolean;
}

export interface Interacted {
  readonly id: string;
  readonly token: string;
}

const user = (id: string, username: string, bot = false): APIUser => ({ id, username, discriminator: '0', global_name: null, avatar: null, ...(bot ? { bot: true } : {}) });

/** View Channel, Send Messages, Attach Files, Read Message History, Use Application Commands, Add Reactions. */
const PERMISSIONS_MEMBER = String((1n << 10n) | (1n << 11n) | (1n << 15n) | (1n << 16n) | (1n << 31n) | (1n << 6n));

/** A member's rights in the channel, as an interaction carries them (`member.permissions`, overwrites applied). */
function memberPermissions(opts: InteractOptions): string {
  let bits = BigInt(PERMISSIONS_MEMBER);
  if (opts.manageMessages) bits |= 1n << 13n;
  if (opts.manageGuild) bits |= 1n << 5n;
  if (opts.manageChannels) bits |= 1n << 4n;
  return String(bits);
}

/** Discord names a message's reactions by the emoji; at most this many different ones per message (30010). */
const MAX_REACTIONS = 20;
/** The reaction routes take one request per quarter second per channel, and say so in their headers. */
const REACTION_WINDOW_MS = 250;

/** A REST answer: status, JSON body, and any headers beyond the content type (rate limits). */
type Answer = [number, unknown, Record<string, string>?];

export class FakeDiscord {
  readonly token = `fake.${randomBytes(12).toString('hex')}`;
  readonly appId = snowflake();
  readonly guildId = snowflake();
  readonly channelId = snowflake();
  readonly nsfwChannelId = snowflake();
  readonly bot = user(snowflake(), 'zimage', true);
  readonly alice = user(snowflake(), 'alice');
  readonly bob = user(snowflake(), 'bob');
  readonly carol = user(snowflake(), 'carol');
  readonly requests: RecordedRequest[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly identifies: Record<string, unknown>[] = [];
  /** Acknowledgements that came after the 3-second window. */
  readonly lateAcks: string[] = [];
  channelUploadLimit = 10 * 2 ** 20;

  readonly #http: Server;
  readonly #wss: WebSocketServer;
  readonly #sockets = new Set<WebSocket>();
  readonly #interactions = new Map<string, FakeInteraction>();
  readonly #expired = new Set<string>();
  readonly #files = new Map<string, { bytes: Buffer; type: string }>();
  readonly #rateLimits: ((method: string, path: string) => boolean)[] = [];
  /** Per channel: when the reaction routes take the next request. */
  readonly #reactionReset = new Map<string, number>();
  #seq = 0;
  #port = 0;

  private constructor() {
    this.#http = createServer((req, res) => void this.#handle(req, res));
    this.#wss = new WebSocketServer({ server: this.#http });
    this.#wss.on('connection', (ws) => this.#connect(ws));
  }

  static async start(): Promise<FakeDiscord> {
    const fake = new FakeDiscord();
    await new Promise<void>((resolve) => fake.#http.listen(0, '127.0.0.1', resolve));
    fake.#port = (fake.#http.address() as AddressInfo).port;
    return fake;
  }

  get base(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** What DISCORD_API_BASE is set to. */
  get apiBase(): string {
    return `${this.base}/api`;
  }

  async close(): Promise<void> {
    for (const ws of this.#sockets) ws.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    this.#http.closeAllConnections();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  // ---- test controls ----

  /** The next request matching `match` gets a 429 with Discord's rate-limit headers. */
  rateLimitOnce(match: (method: string, path: string) => boolean): void {
    this.#rateLimits.push(match);
  }

  /** Serves bytes as a CDN attachment and returns the attachment object a payload would carry. */
  hostAttachment(bytes: Buffer, filename: string, contentType = 'image/png'): APIAttachment {
    const id = snowflake();
    const key = `${id}/${filename}`;
    this.#files.set(key, { bytes, type: contentType });
    const url = `${this.base}/attachments/${key}`;
    return { id, filename, size: bytes.byteLength, url, proxy_url: url, content_type: contentType };
  }

  /** A message some user posted (with an image, say), stored so the bot can be pointed at it. */
  userMessage(author: APIUser, fields: { content?: string; attachments?: APIAttachment[]; channelId?: string }): FakeMessage {
    return this.#store({
      channel_id: fields.channelId ?? this.channelId,
      author,
      content: fields.content ?? '',
      components: [],
      attachments: fields.attachments ?? [],
      flags: 0,
      type: MessageType.Default,
    });
  }

  /** The interaction's response message (`@original`). */
  original(token: string): FakeMessage | undefined {
    const id = this.#interactions.get(token)?.originalId;
    return id ? this.messages.get(id) : undefined;
  }

  modalOf(token: string): Record<string, unknown> | null {
    return this.#interactions.get(token)?.modal ?? null;
  }

  /** Requests to the interaction's webhook (edits, follow-ups), in order. */
  webhookRequests(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/webhooks/${this.appId}/${token}`));
  }

  callbacks(token: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/interactions/') && r.path.split('/')[3] === token);
  }

  /** Polls until `check` returns a value (not undefined/false); fails with `what` after a generous timeout. */
  async waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 25_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`fake discord: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---- dispatching events as Discord would ----

  slash(name: string, options: Record<string, string | number | boolean | APIAttachment>, opts: InteractOptions = {}): Interacted {
    const resolved: Record<string, APIAttachment> = {};
    const list = Object.entries(options).map(([optionName, value]) => {
      if (typeof value === 'object') {
        resolved[value.id] = value;
        return { name: optionName, type: ApplicationCommandOptionType.Attachment, value: value.id };
      }
      const type =
        typeof value === 'boolean'
          ? ApplicationCommandOptionType.Boolean
          : typeof value === 'string'
            ? ApplicationCommandOptionType.String
            : Number.isInteger(value)
              ? ApplicationCommandOptionType.Integer
              : ApplicationCommandOptionType.Number;
      return { name: optionName, type, value };
    });
    return this.#interact(InteractionType.ApplicationCommand, opts, null, {
      data: {
        id: snowflake(),
        name,
        type: ApplicationCommandType.ChatInput,
        guild_id: this.guildId,
        options: list,
        ...(Object.keys(resolved).length > 0 ? { resolved: { attachments: resolved } } : {}),
      },
    });
  }

  /**
   * A press of what the message shows with this id: a button, or an option of one of its select menus, sent as
   * Discord sends a choice (the menu's custom_id and the chosen values).
   */
  click(message: FakeMessage, customId: string, opts: InteractOptions = {}): Interacted {
    const menu = message.components
      .flatMap((row) => (row as { components?: { type: number; custom_id: string; options?: { value: string }[] }[] }).components ?? [])
      .find((c) => c.type === ComponentType.StringSelect && c.options?.some((o) => o.value === customId));
    const data = menu
      ? { custom_id: menu.custom_id, component_type: ComponentType.StringSelect, values: [customId] }
      : { custom_id: customId, component_type: ComponentType.Button };
    return this.#interact(InteractionType.MessageComponent, { channelId: message.channel_id, ...opts }, message.id, { data, message: this.#wire(message) });
  }

  contextMenu(target: FakeMessage, name: string, opts: InteractOptions = {}): Interacted {
    return this.#interact(InteractionType.ApplicationCommand, { channelId: target.channel_id, ...opts }, null, {
      data: { id: snowflake(), name, type: ApplicationCommandType.Message, guild_id: this.guildId, target_id: target.id, resolved: { messages: { [target.id]: this.#wire(target) } } },
    });
  }

  submitModal(customId: string, fields: Record<string, string>, opts: InteractOptions = {}): Interacted {
    return this.#interact(InteractionType.ModalSubmit, opts, null, {
      data: {
        custom_id: customId,
        components: Object.entries(fields).map(([id, value], i) => ({
          type: ComponentType.Label,
          id: i * 2 + 1,
          component: { type: ComponentType.TextInput, id: i * 2 + 2, custom_id: id, value },
        })),
      },
    });
  }

  /** MESSAGE_CREATE for a user's message, optionally replying to another (the parent travels as referenced_message). */
  postMessage(author: APIUser, fields: { content: string; replyTo?: FakeMessage; attachments?: APIAttachment[]; mentionsBot?: boolean }): FakeMessage {
    const message = this.#store({
      channel_id: fields.replyTo?.channel_id ?? this.channelId,
      author,
      content: fields.content,
      components: [],
      attachments: fields.attachments ?? [],
      flags: 0,
      type: fields.replyTo ? MessageType.Reply : MessageType.Default,
      ...(fields.replyTo ? { message_reference: { message_id: fields.replyTo.id, channel_id: fields.replyTo.channel_id, guild_id: this.guildId } } : {}),
    });
    this.#dispatch('MESSAGE_CREATE', {
      ...this.#wire(message),
      member: this.#member(author, false),
      mentions: fields.mentionsBot ? [this.bot] : [],
      ...(fields.replyTo ? { referenced_message: this.#wire(fields.replyTo) } : {}),
    });
    return message;
  }

  /**
   * A person clicks a reaction under a message in their client: Discord stores it and sends MESSAGE_REACTION_ADD
   * (nothing when they had already reacted with that emoji).
   */
  react(who: APIUser, message: FakeMessage, emoji: string): void {
    if (this.#addReaction(message, emoji, who.id) === 'added') this.#dispatch('MESSAGE_REACTION_ADD', this.#reactionAdd(who, message, emoji));
  }

  /** A person clicks their reaction again (takes it away): MESSAGE_REACTION_REMOVE, if they had it. */
  unreact(who: APIUser, message: FakeMessage, emoji: string): void {
    if (this.#removeReaction(message, emoji, who.id)) this.#dispatch('MESSAGE_REACTION_REMOVE', this.#reactionRemove(who, message, emoji));
  }

  /** Who reacted with what on a message, in Discord's order. */
  reactionsOn(message: FakeMessage): { emoji: string; users: string[] }[] {
    return message.reactions.map((r) => ({ emoji: r.emoji, users: [...r.users] }));
  }

  // ---- internals: gateway ----

  #send(ws: WebSocket, op: GatewayOpcodes, d: unknown, t: string | null = null): void {
    ws.send(JSON.stringify({ op, d, s: op === GatewayOpcodes.Dispatch ? ++this.#seq : null, t }));
  }

  #dispatch(t: string, d: unknown): void {
    for (const ws of this.#sockets) this.#send(ws, GatewayOpcodes.Dispatch, d, t);
  }

  #connect(ws: WebSocket): void {
    this.#send(ws, GatewayOpcodes.Hello, { heartbeat_interval: 41250 });
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('message', (raw) => {
      const payload = JSON.parse(String(raw)) as { op: number; d: Record<string, unknown> };
      if (payload.op === GatewayOpcodes.Heartbeat) this.#send(ws, GatewayOpcodes.HeartbeatAck, null);
      if (payload.op !== GatewayOpcodes.Identify) return;
      this.identifies.push(payload.d);
      if (payload.d.token !== this.token) {
        ws.close(4004, 'Authentication failed');
        return;
      }
      this.#sockets.add(ws);
      const ready: GatewayReadyDispatchData = {
        v: 10,
        user: { ...this.bot, verified: true, mfa_enabled: false },
        guilds: [{ id: this.guildId, unavailable: true }],
        session_id: randomBytes(8).toString('hex'),
        resume_gateway_url: `ws://127.0.0.1:${this.#port}`,
        shard: [0, 1],
        application: { id: this.appId, flags: 0 as ApplicationFlags, flags_new: '0' },
      };
      this.#send(ws, GatewayOpcodes.Dispatch, ready, 'READY');
      this.#send(ws, GatewayOpcodes.Dispatch, this.#guild(), 'GUILD_CREATE');
    });
  }

  #member(who: APIUser, withUser = true): Partial<APIGuildMember> & { permissions: string } {
    return { ...(withUser ? { user: who } : {}), roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 as GuildMemberFlags, permissions: PERMISSIONS_MEMBER };
  }

  #channel(id: string): Record<string, unknown> {
    const nsfw = id === this.nsfwChannelId;
    return { id, type: 0, guild_id: this.guildId, name: nsfw ? 'after-dark' : 'general', position: nsfw ? 1 : 0, permission_overwrites: [], nsfw, topic: null, last_message_id: null, rate_limit_per_user: 0, parent_id: null };
  }

  #guild(): Record<string, unknown> {
    return {
      id: this.guildId,
      name: 'fake guild',
      icon: null,
      owner_id: this.alice.id,
      preferred_locale: 'en-US',
      roles: [{ id: this.guildId, name: '@everyone', permissions: PERMISSIONS_MEMBER, position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
      channels: [this.#channel(this.channelId), this.#channel(this.nsfwChannelId)],
      members: [this.#member(this.bot)],
      member_count: 3,
      joined_at: new Date(0).toISOString(),
      large: false,
      unavailable: false,
      features: [],
      emojis: [],
      stickers: [],
      threads: [],
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      system_channel_id: null,
      system_channel_flags: 0,
      premium_tier: 0,
      nsfw_level: 0,
      premium_progress_bar_enabled: false,
    };
  }

  #interact(type: InteractionType, opts: InteractOptions, componentMessageId: string | null, extra: Record<string, unknown>): Interacted {
    const id = snowflake(opts.createdAt ?? Date.now());
    const token = `itok_${randomBytes(24).toString('base64url')}`;
    const channelId = opts.channelId ?? this.channelId;
    const uploadLimit = opts.uploadLimit ?? 10 * 2 ** 20;
    this.#interactions.set(token, {
      id,
      token,
      type,
      channelId,
      dispatchedAt: Date.now(),
      uploadLimit,
      componentMessageId,
      expireOnFirstEdit: opts.expireOnFirstEdit ?? false,
      acknowledged: false,
      originalId: null,
      modal: null,
    });
    this.#dispatch('INTERACTION_CREATE', {
      id,
      token,
      type,
      version: 1,
      application_id: this.appId,
      guild_id: opts.guildId ?? this.guildId,
      channel_id: channelId,
      channel: this.#channel(channelId),
      member: { ...this.#member(opts.user ?? this.alice), permissions: memberPermissions(opts) },
      app_permissions: PERMISSIONS_MEMBER,
      locale: opts.locale ?? 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': this.guildId },
      context: 0,
      attachment_size_limit: uploadLimit,
      ...extra,
    });
    return { id, token };
  }

  // ---- internals: messages ----

  #store(fields: Omit<FakeMessage, 'id' | 'guild_id' | 'deleted' | 'history' | 'reactions'>): FakeMessage {
    const message: FakeMessage = { id: snowflake(), guild_id: this.guildId, deleted: false, history: [], reactions: [], ...fields };
    message.history.push({ content: message.content, components: message.components, attachments: message.attachments.length });
    this.messages.set(message.id, message);
    return message;
  }

  #wire(message: FakeMessage): Record<string, unknown> {
    return {
      id: message.id,
      channel_id: message.channel_id,
      guild_id: message.guild_id,
      author: message.author,
      content: message.content,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: message.attachments,
      embeds: [],
      pinned: false,
      type: message.type,
      flags: message.flags,
      components: message.components,
      ...(message.message_reference ? { message_reference: message.message_reference } : {}),
      // As the bot sees them: `me` is whether the bot itself reacted.
      ...(message.reactions.length > 0
        ? {
            reactions: message.reactions.map((r) => ({
              count: r.users.length,
              count_details: { burst: 0, normal: r.users.length },
              me: r.users.includes(this.bot.id),
              me_burst: false,
              burst_me: false,
              emoji: { id: null, name: r.emoji },
              burst_colors: [],
            })),
          }
        : {}),
    };
  }

  /** Applies a create/edit body: content, components, and `attachments` naming kept ids or new `files[n]`. */
  #apply(message: FakeMessage, json: Record<string, unknown>, files: readonly RecordedFile[]): void {
    if (typeof json.content === 'string') message.content = json.content;
    if (Array.isArray(json.components)) message.components = json.components;
    if (Array.isArray(json.attachments)) {
      message.attachments = (json.attachments as { id: string | number; filename?: string; description?: string }[]).map((a) => {
        const kept = message.attachments.find((old) => old.id === String(a.id));
        if (kept) return kept;
        const file = files.find((f) => f.field === `files[${a.id}]`);
        if (!file) throw new Error(`attachment ${String(a.id)} has no files[${String(a.id)}] part`);
        const hosted = this.hostAttachment(file.bytes, a.filename ?? file.name, file.type || 'image/png');
        return { ...hosted, ...(a.description ? { description: a.description } : {}) };
      });
    }
    message.history.push({ content: message.content, components: message.components, attachments: message.attachments.length });
  }

  // ---- internals: REST ----

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (url.pathname.startsWith('/attachments/')) {
      const file = this.#files.get(decodeURIComponent(url.pathname.slice('/attachments/'.length)));
      if (!file) return this.#reply(res, 404, { message: 'Not found', code: 0 });
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.bytes.byteLength });
      res.end(file.bytes);
      return;
    }
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const { json, files } = await this.#body(req, raw);
    const record: RecordedRequest = { method: req.method ?? 'GET', path, query: url.searchParams, auth: req.headers.authorization ?? null, json, files, status: 0, at: performance.now() };
    this.requests.push(record);
    const limited = this.#rateLimits.findIndex((match) => match(record.method, path));
    if (limited >= 0) {
      this.#rateLimits.splice(limited, 1);
      record.status = 429;
      res.writeHead(429, {
        'content-type': 'application/json',
        'retry-after': '1',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String((Date.now() + 250) / 1000),
        'x-ratelimit-reset-after': '0.25',
        'x-ratelimit-bucket': 'fake-bucket',
        'x-ratelimit-scope': 'user',
      });
      res.end(JSON.stringify({ message: 'You are being rate limited.', retry_after: 0.25, global: false }));
      return;
    }
    const [status, body, headers] = this.#route(record);
    record.status = status;
    this.#reply(res, status, body, headers);
  }

  async #body(req: IncomingMessage, raw: Buffer): Promise<{ json: RecordedRequest['json']; files: RecordedFile[] }> {
    const type = req.headers['content-type'] ?? '';
    if (raw.byteLength === 0) return { json: null, files: [] };
    if (type.startsWith('multipart/form-data')) {
      const body = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
      const form = await new Response(body, { headers: { 'content-type': type } }).formData();
      const entries: [string, FormDataEntryValue][] = [];
      form.forEach((value, field) => entries.push([field, value]));
      const files: RecordedFile[] = [];
      let json: RecordedRequest['json'] = null;
      for (const [field, value] of entries) {
        if (typeof value === 'string') {
          if (field === 'payload_json') json = JSON.parse(value) as RecordedRequest['json'];
        } else {
          files.push({ field, name: value.name, type: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
        }
      }
      return { json, files };
    }
    return { json: JSON.parse(raw.toString('utf8')) as RecordedRequest['json'], files: [] };
  }

  #reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (status === 204) {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  #botAuthorized(record: RecordedRequest): boolean {
    return record.auth === `Bot ${this.token}`;
  }

  #route(r: RecordedRequest): Answer {
    const parts = r.path.split('/').filter(Boolean);
    const json = (r.json ?? {}) as Record<string, unknown>;
    const unauthorized: Answer = [401, { message: '401: Unauthorized', code: 0 }];
    // Gateway discovery and the application.
    if (r.method === 'GET' && r.path === '/gateway/bot') {
      if (!this.#botAuthorized(r)) return unauthorized;
      const body: RESTGetAPIGatewayBotResult = {
        url: `ws://127.0.0.1:${this.#port}`,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
      };
      return [200, body];
    }
    if (r.method === 'GET' && r.path === '/applications/@me') {
      return this.#botAuthorized(r) ? [200, { id: this.appId, name: 'zimage', bot: this.bot, flags: 0 }] : unauthorized;
    }
    if (r.method === 'PUT' && parts[0] === 'applications' && parts.at(-1) === 'commands') {
      if (!this.#botAuthorized(r)) return unauthorized;
      if (parts[1] !== this.appId) return [404, { message: 'Unknown Application', code: 10002 }];
      return [200, (r.json as Record<string, unknown>[]).map((c) => ({ ...c, id: snowflake(), application_id: this.appId, version: snowflake() }))];
    }
    if (parts[0] === 'interactions' && parts[3] === 'callback' && r.method === 'POST') return this.#callback(parts[2]!, json, r.files);
    if (parts[0] === 'webhooks') return this.#webhook(r, parts[2]!, parts.slice(3), json);
    if (parts[0] === 'channels') {
      if (!this.#botAuthorized(r)) return unauthorized;
      return this.#channelRoute(r, parts[1]!, parts.slice(2), json);
    }
    return [404, { message: `fake discord has no route ${r.method} ${r.path}`, code: 0 }];
  }

  #tooLarge(files: readonly RecordedFile[], limit: number): boolean {
    return files.some((f) => f.bytes.byteLength > limit);
  }

  #callback(token: string, json: Record<string, unknown>, files: readonly RecordedFile[]): Answer {
    const interaction = this.#interactions.get(token);
    const unknown: Answer = [404, { message: 'Unknown interaction', code: 10062 }];
    if (!interaction || this.#expired.has(token)) return unknown;
    if (interaction.acknowledged) return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
    if (Date.now() - interaction.dispatchedAt > 3000) {
      this.lateAcks.push(token);
      return unknown;
    }
    const data = (json.data ?? {}) as Record<string, unknown>;
    interaction.acknowledged = true;
    switch (json.type) {
      case InteractionResponseType.DeferredChannelMessageWithSource:
      case InteractionResponseType.ChannelMessageWithSource: {
        if (this.#tooLarge(files, interaction.uploadLimit)) return [413, { message: 'Request entity too large', code: 40005 }];
        const message = this.#store({ channel_id: interaction.channelId, author: this.bot, content: '', components: [], attachments: [], flags: Number(data.flags ?? 0), type: MessageType.ChatInputCommand });
        if (json.type === InteractionResponseType.ChannelMessageWithSource) this.#apply(message, data, files);
        interaction.originalId = message.id;
        return [204, null];
      }
      case InteractionResponseType.DeferredMessageUpdate:
        interaction.originalId = interaction.componentMessageId;
        return [204, null];
      case InteractionResponseType.Modal:
        interaction.modal = data;
        return [204, null];
      default:
        return [400, { message: `fake discord does not take callback type ${String(json.type)}`, code: 50035 }];
    }
  }

  #webhook(r: RecordedRequest, token: string, rest: string[], json: Record<string, unknown>): Answer {
    const interaction = this.#interactions.get(token);
    if (r.auth !== null) return [400, { message: 'interaction webhooks take no Authorization header', code: 0 }];
    if (!interaction) return [404, { message: 'Unknown Webhook', code: 10015 }];
    const isEdit = r.method === 'PATCH' || (r.method === 'POST' && rest.length === 0);
    if (isEdit && interaction.expireOnFirstEdit) this.#expired.add(token);
    if (this.#expired.has(token)) return [401, { message: 'Invalid Webhook Token', code: 50027 }];
    if (rest.length === 0 && r.method === 'POST') {
      if (this.#tooLarge(r.files, interaction.uploadLimit)) return [413, { message: 'Request entity too large', code: 40005 }];
      const message = this.#store({ channel_id: interaction.channelId, author: this.bot, content: '', components: [], attachments: [], flags: Number(json.flags ?? 0), type: MessageType.Default });
      this.#apply(message, json, r.files);
      return [200, this.#wire(message)];
    }
    if (rest[0] !== 'messages' || rest.length !== 2) return [404, { message: 'no such webhook route', code: 0 }];
    const id = rest[1] === '@original' ? interaction.originalId : rest[1]!;
    const message = id ? this.messages.get(id) : undefined;
    if (!message || message.deleted) return [404, { message: 'Unknown Message', code: 10008 }];
    if (r.method === 'GET') return [200, this.#wire(message)];
    if (r.method === 'DELETE') {
      message.deleted = true;
      return [204, null];
    }
    if (r.method === 'PATCH') {
      if (this.#tooLarge(r.files, interaction.uploadLimit)) return [413, { message: 'Request entity too large', code: 40005 }];
      this.#apply(message, json, r.files);
      return [200, this.#wire(message)];
    }
    return [405, { message: 'method not allowed', code: 0 }];
  }

  #channelRoute(r: RecordedRequest, channelId: string, rest: string[], json: Record<string, unknown>): Answer {
    if (channelId !== this.channelId && channelId !== this.nsfwChannelId) return [404, { message: 'Unknown Channel', code: 10003 }];
    if (rest[0] !== 'messages') return [404, { message: 'no such channel route', code: 0 }];
    if (rest.length === 1 && r.method === 'POST') {
      if (this.#tooLarge(r.files, this.channelUploadLimit)) return [413, { message: 'Request entity too large', code: 40005 }];
      const reference = json.message_reference as { message_id: string } | undefined;
      const message = this.#store({
        channel_id: channelId,
        author: this.bot,
        content: '',
        components: [],
        attachments: [],
        flags: 0,
        type: reference ? MessageType.Reply : MessageType.Default,
        ...(reference ? { message_reference: { message_id: reference.message_id, channel_id: channelId, guild_id: this.guildId } } : {}),
      });
      this.#apply(message, json, r.files);
      return [200, this.#wire(message)];
    }
    const message = this.messages.get(rest[1] ?? '');
    if (!message || message.deleted || message.channel_id !== channelId) return [404, { message: 'Unknown Message', code: 10008 }];
    if (rest[2] === 'reactions') return this.#ownReaction(r, message, rest.slice(3));
    if (r.method === 'GET') return [200, this.#wire(message)];
    if (message.author.id !== this.bot.id) return [403, { message: 'Cannot edit a message authored by another user', code: 50005 }];
    if (r.method === 'DELETE') {
      message.deleted = true;
      return [204, null];
    }
    if (r.method === 'PATCH') {
      if (this.#tooLarge(r.files, this.channelUploadLimit)) return [413, { message: 'Request entity too large', code: 40005 }];
      this.#apply(message, json, r.files);
      return [200, this.#wire(message)];
    }
    return [405, { message: 'method not allowed', code: 0 }];
  }

  // ---- internals: reactions ----

  /**
   * PUT / DELETE /channels/:c/messages/:m/reactions/:emoji/@me: the bot's own reaction, 204 either way (adding one that
   * is there, or removing one that is not, changes nothing and tells nobody). Unicode emoji only (this guild has no
   * custom ones: 10014), at most 20 different ones per message (30010). One request per quarter second per channel,
   * with the headers Discord sends; a request inside that window gets a 429.
   */
  #ownReaction(r: RecordedRequest, message: FakeMessage, rest: string[]): Answer {
    if (rest.length !== 2 || rest[1] !== '@me' || (r.method !== 'PUT' && r.method !== 'DELETE')) return [404, { message: 'no such reaction route', code: 0 }];
    const now = Date.now();
    const resetAt = this.#reactionReset.get(message.channel_id) ?? 0;
    const bucket = { 'x-ratelimit-limit': '1', 'x-ratelimit-remaining': '0', 'x-ratelimit-bucket': `reactions-${message.channel_id.slice(-6)}` };
    if (now < resetAt) {
      const wait = (resetAt - now) / 1000;
      return [
        429,
        { message: 'You are being rate limited.', retry_after: wait, global: false },
        { ...bucket, 'retry-after': String(Math.ceil(wait)), 'x-ratelimit-reset': String(resetAt / 1000), 'x-ratelimit-reset-after': wait.toFixed(3), 'x-ratelimit-scope': 'user' },
      ];
    }
    this.#reactionReset.set(message.channel_id, now + REACTION_WINDOW_MS);
    const headers = { ...bucket, 'x-ratelimit-reset': String((now + REACTION_WINDOW_MS) / 1000), 'x-ratelimit-reset-after': (REACTION_WINDOW_MS / 1000).toFixed(3) };
    const emoji = rest[0]!;
    if (emoji.includes(':') || !/\p{Extended_Pictographic}|\u20E3/u.test(emoji)) return [400, { message: 'Unknown Emoji', code: 10014 }, headers];
    if (r.method === 'PUT') {
      const added = this.#addReaction(message, emoji, this.bot.id);
      if (added === 'full') return [400, { message: 'Maximum number of reactions reached (20)', code: 30010 }, headers];
      if (added === 'added') this.#dispatch('MESSAGE_REACTION_ADD', this.#reactionAdd(this.bot, message, emoji));
    } else if (this.#removeReaction(message, emoji, this.bot.id)) {
      this.#dispatch('MESSAGE_REACTION_REMOVE', this.#reactionRemove(this.bot, message, emoji));
    }
    return [204, null, headers];
  }

  #addReaction(message: FakeMessage, emoji: string, userId: string): 'added' | 'there' | 'full' {
    let reaction = message.reactions.find((x) => x.emoji === emoji);
    if (reaction?.users.includes(userId)) return 'there';
    if (!reaction) {
      if (message.reactions.length >= MAX_REACTIONS) return 'full';
      reaction = { emoji, users: [] };
      message.reactions.push(reaction);
    }
    reaction.users.push(userId);
    return 'added';
  }

  #removeReaction(message: FakeMessage, emoji: string, userId: string): boolean {
    const reaction = message.reactions.find((x) => x.emoji === emoji);
    if (!reaction?.users.includes(userId)) return false;
    reaction.users.splice(reaction.users.indexOf(userId), 1);
    if (reaction.users.length === 0) message.reactions.splice(message.reactions.indexOf(reaction), 1);
    return true;
  }

  /** MESSAGE_REACTION_ADD as Discord sends it in a guild: the member who reacted (without permissions), the author. */
  #reactionAdd(who: APIUser, message: FakeMessage, emoji: string): GatewayMessageReactionAddDispatchData {
    const member: APIGuildMember = { user: who, roles: [], joined_at: new Date(0).toISOString(), deaf: false, mute: false, flags: 0 as GuildMemberFlags };
    return {
      user_id: who.id,
      channel_id: message.channel_id,
      message_id: message.id,
      guild_id: message.guild_id,
      member,
      emoji: { id: null, name: emoji },
      message_author_id: message.author.id,
      burst: false,
      burst_colors: [],
      type: ReactionType.Normal,
    };
  }

  /** MESSAGE_REACTION_REMOVE carries no member and no author. */
  #reactionRemove(who: APIUser, message: FakeMessage, emoji: string): GatewayMessageReactionRemoveDispatchData {
    return { user_id: who.id, channel_id: message.channel_id, message_id: message.id, guild_id: message.guild_id, emoji: { id: null, name: emoji }, burst: false, type: ReactionType.Normal };
  }
}
