import { parseBinaryFrame, parseTextFrame, type ComfyMessage, type FileRef, type ImageFrame } from './frames.ts';
import type { ApiGraph } from './workflow.ts';

/**
 * What the client needs of a WebSocket. The engine names no WebSocket library (the rule of docs/architecture.md): the
 * runtime hands one in (src/websocket.ts, on `ws`).
 */
export interface SocketLike {
  on(event: 'open', listener: () => void): unknown;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  terminate(): void;
  removeAllListeners(): unknown;
}

export type OpenSocket = (url: string, options: { readonly headers: Readonly<Record<string, string>>; readonly handshakeTimeout: number }) => SocketLike;

/**
 * A thin client for one ComfyUI server: its HTTP routes (server.py) with fetch, and one WebSocket (`/ws?clientId=`)
 * that reconnects with backoff under the same client id, so ComfyUI keeps routing this client's events to it.
 * It knows ComfyUI's protocol and nothing of jobs; comfy-backend.ts and prompt-run.ts build on it.
 */
export interface ComfyClientOptions {
  /** The server's base URL (http or https). */
  readonly url: string;
  /** Sent with every request and the WebSocket handshake (an auth header for a proxy). */
  readonly headers: Readonly<Record<string, string>>;
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly onMessage: (message: ComfyMessage) => void;
  readonly onImage: (frame: ImageFrame) => void;
  /**
   * The socket opened (again) or closed; `error` says why it closed or could not open, `refused` that nothing listens
   * at the address any more (the server process is gone).
   */
  readonly onSocket: (open: boolean, error?: string, refused?: boolean) => void;
  readonly openSocket: OpenSocket;
}

/** A request the server answered with an error status: ComfyUI's own body is kept (a 400's node_errors). */
export class ComfyHttpError extends Error {
  override readonly name = 'ComfyHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The server could not be reached, or did not answer in time. */
export class ComfyUnreachable extends Error {
  override readonly name = 'ComfyUnreachable';
}

/** POST /prompt's 400: `error` (type, message, details) and per-node errors. */
export interface PromptRejection {
  readonly error?: { readonly type?: string; readonly message?: string; readonly details?: string };
  readonly node_errors?: Readonly<Record<string, { readonly class_type?: string; readonly errors?: readonly { readonly message?: string; readonly details?: string }[] }>>;
}

/** One entry of GET /history/{id}. */
export interface HistoryEntry {
  readonly outputs?: Readonly<Record<string, { readonly images?: readonly FileRef[] }>>;
  readonly status?: { readonly status_str?: string; readonly completed?: boolean; readonly messages?: readonly (readonly [string, Record<string, unknown>])[] };
}

/** GET /queue: items are [number, prompt_id, prompt, extra_data, outputs]. */
export interface QueueState {
  readonly running: readonly string[];
  readonly pending: readonly string[];
}

/** GET /object_info: per node class, its inputs by category, as ComfyUI describes them. */
export type ObjectInfo = Readonly<Record<string, { readonly input?: Readonly<Record<string, Readonly<Record<string, unknown>>>> }>>;

export class ComfyClient {
  readonly #options: ComfyClientOptions;
  readonly #base: string;
  #socket: SocketLike | undefined;
  #open = false;
  #closed = false;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ComfyClientOptions) {
    this.#options = options;
    this.#base = options.url.replace(/\/+$/, '');
    this.#retryMs = options.reconnectMinMs;
  }

  get url(): string {
    return this.#base;
  }

  get socketOpen(): boolean {
    return this.#open;
  }

  /** Opens the socket and keeps it open (reconnecting with backoff) until close(). Resolves on the first open or failure. */
  connect(): Promise<boolean> {
    this.#closed = false;
    return new Promise((resolve) => this.#dial(resolve));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#socket?.removeAllListeners();
    this.#socket?.on('error', () => undefined);
    this.#socket?.terminate();
    this.#socket = undefined;
    this.#open = false;
  }

  #dial(first?: (open: boolean) => void): void {
    if (this.#closed) return;
    const wsUrl = `${this.#base.replace(/^http/i, 'ws')}/ws?clientId=${encodeURIComponent(this.#options.clientId)}`;
    const socket = this.#options.openSocket(wsUrl, { headers: { ...this.#options.headers }, handshakeTimeout: this.#options.requestTimeoutMs });
    this.#socket = socket;
    let settled = false;
    socket.on('open', () => {
      this.#open = true;
      this.#retryMs = this.#options.reconnectMinMs;
      settled = true;
      first?.(true);
      this.#options.onSocket(true);
    });
    socket.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (isBinary) {
        const frame = parseBinaryFrame(buffer);
        if (frame) this.#options.onImage(frame);
        return;
      }
      const message = parseTextFrame(buffer.toString('utf8'));
      if (message) this.#options.onMessage(message);
    });
    let reason: string | undefined;
    let refused = false;
    socket.on('error', (error) => {
      reason = error.message;
      refused = (error as { code?: string }).code === 'ECONNREFUSED';
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      const wasOpen = this.#open;
      this.#open = false;
      this.#socket = undefined;
      if (!settled) {
        settled = true;
        first?.(false);
      }
      if (wasOpen || first === undefined) this.#options.onSocket(false, reason ?? 'the connection closed', refused);
      this.#scheduleDial();
    });
  }

  #scheduleDial(): void {
    if (this.#closed) return;
    const wait = this.#retryMs;
    this.#retryMs = Math.min(this.#options.reconnectMaxMs, this.#retryMs * 2);
    this.#timer = setTimeout(() => this.#dial(), wait);
    this.#timer.unref();
  }

  /** Drops the socket now (it reconnects); for a server that stopped answering it. */
  dropSocket(): void {
    this.#socket?.terminate();
  }

  async #request(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        ...init,
        headers: { ...this.#options.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = (error as Error).name === 'TimeoutError' ? `no answer in ${this.#options.requestTimeoutMs} ms` : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new ComfyUnreachable(`${this.#base} cannot be reached (${why})`);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: keep the text.
      }
      throw new ComfyHttpError(`${init.method ?? 'GET'} ${path} answered ${response.status}`, response.status, body);
    }
    return response;
  }

  async #json<T>(path: string, init?: RequestInit): Promise<T> {
    const response = await this.#request(path, init);
    try {
      return (await response.json()) as T;
    } catch {
      throw new ComfyHttpError(`${path} did not answer JSON`, response.status, null);
    }
  }

  #post(path: string, body: unknown): Promise<Response> {
    return this.#request(path, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  }

  systemStats(): Promise<Record<string, unknown>> {
    return this.#json('/system_stats');
  }

  objectInfo(): Promise<ObjectInfo> {
    return this.#json('/object_info');
  }

  /** The files of one model folder (`diffusion_models`, `vae`…); null when the server has no such folder. */
  async models(folder: string): Promise<string[] | null> {
    try {
      return await this.#json<string[]>(`/models/${encodeURIComponent(folder)}`);
    } catch (error) {
      if (error instanceof ComfyHttpError && error.status === 404) return null;
      throw error;
    }
  }

  /** Uploads a PNG into the input folder, overwriting a file of that name; the name LoadImage takes. */
  async uploadImage(png: Buffer, name: string, subfolder: string): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(png)], { type: 'image/png' }), name);
    form.append('type', 'input');
    form.append('subfolder', subfolder);
    form.append('overwrite', 'true');
    const answer = await this.#json<{ name: string; subfolder: string }>('/upload/image', { method: 'POST', body: form });
    return answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
  }

  /** Queues a prompt under our client id (so its events come to this socket) and our own prompt id. */
  async queuePrompt(prompt: ApiGraph, promptId: string, extraData: Record<string, unknown>): Promise<void> {
    await this.#json('/prompt', {
      method: 'POST',
      body: JSON.stringify({ prompt, client_id: this.#options.clientId, prompt_id: promptId, extra_data: extraData }),
      headers: { 'Content-Type': 'application/json' },
    });
  }

  async queue(): Promise<QueueState> {
    const raw = await this.#json<{ queue_running?: unknown[][]; queue_pending?: unknown[][] }>('/queue');
    const ids = (items: unknown[][] | undefined): string[] => (items ?? []).map((item) => String(item[1]));
    return { running: ids(raw.queue_running), pending: ids(raw.queue_pending) };
  }

  /** Removes a prompt that has not started from the server's queue (nothing else is touched). */
  async deleteQueued(promptId: string): Promise<void> {
    await this.#post('/queue', { delete: [promptId] });
  }

  /** Interrupts a prompt only if it is the one running (ComfyUI checks the id). */
  async interrupt(promptId: string): Promise<void> {
    await this.#post('/interrupt', { prompt_id: promptId });
  }

  /** The history entry of one prompt; undefined when the server does not know it. */
  async history(promptId: string): Promise<HistoryEntry | undefined> {
    const all = await this.#json<Record<string, HistoryEntry>>(`/history/${encodeURIComponent(promptId)}`);
    return all[promptId];
  }

  /** Drops prompts' history entries (their outputs stay on disk: ComfyUI has no route to delete them). */
  async forget(promptIds: readonly string[]): Promise<void> {
    await this.#post('/history', { delete: promptIds });
  }

  async view(file: FileRef): Promise<Buffer> {
    const query = new URLSearchParams({ filename: file.filename, subfolder: file.subfolder, type: file.type });
    const response = await this.#request(`/view?${query.toString()}`);
    return Buffer.from(await response.arrayBuffer());
  }
}
