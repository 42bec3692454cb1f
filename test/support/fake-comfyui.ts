import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { WebSocketServer, type WebSocket } from 'ws';
import { nodeDefs, objectInfoOf, type FakeDisk, type NodeDef } from './fake-comfyui-nodes.ts';
import { blend, composite, decodeImage, drawPattern, encodePng, encodePreview, resize, type FakeImage, type FakeMask } from './fake-comfyui-render.ts';
import { validatePrompt } from './fake-comfyui-validate.ts';

/**
 * A ComfyUI server for tests, on 127.0.0.1, that speaks ComfyUI's protocol as server.py, execution.py and main.py do:
 * POST /prompt validated like validate_prompt (400 with error and node_errors), a FIFO queue run one prompt at a time,
 * the WebSocket at /ws?clientId= with the real event sequence (status, execution_start, execution_cached, executing,
 * progress, binary previews, executed, execution_success / execution_error / execution_interrupted, executing null),
 * SaveImageWebsocket's images as binary frames, /upload/image and /upload/mask into an input folder, /view, /history,
 * /queue (and its delete), /interrupt by prompt id, /object_info, /system_stats and /models. Its pictures are drawn
 * deterministically from seed and prompt (fake-comfyui-render.ts). Tests can make a node fail, a prompt hang, the
 * sockets drop, or the whole server die and come back.
 */

/** The model files the shipped workflows name, per ComfyUI model folder. */
export const WORKFLOW_MODELS: Readonly<Record<string, readonly string[]>> = {
  diffusion_models: ['z_image_turbo_bf16.safetensors', 'z_image.safetensors', 'qwen_image_edit_fp8_e4m3fn.safetensors'],
  text_encoders: ['qwen_3_4b.safetensors', 'qwen_2.5_vl_7b_fp8_scaled.safetensors'],
  vae: ['ae.safetensors', 'qwen_image_vae.safetensors'],
  loras: [],
  upscale_models: ['4x-UltraSharp.pth', 'RealESRGAN_x2plus.pth'],
  checkpoints: [],
};

/**
 * An upscale model's scale. ComfyUI reads it from the weights (spandrel's ImageModelDescriptor.scale); the fake's
 * files are empty, so it reads the scale from the name, as model makers write it (4x-UltraSharp, RealESRGAN_x2plus).
 */
export function upscaleScaleOf(file: string): number {
  const match = /(?:^|[^a-z0-9])(\d{1,2})x|x(\d{1,2})(?:[^0-9]|$)/i.exec(file);
  const scale = Number(match?.[1] ?? match?.[2]);
  if (!(scale >= 1)) throw new Error(`Upscale model must be a single-image model: the fake cannot tell the scale of ${file}`);
  return scale;
}

/** comfy.utils.get_tiled_scale_steps: the tiles ImageUpscaleWithModel runs (512 px tiles overlapping by 32). */
function tiledScaleSteps(width: number, height: number, tile = 512, overlap = 32): number {
  return Math.ceil(height / (tile - overlap)) * Math.ceil(width / (tile - overlap));
}

export interface FakeComfyOptions {
  /** Files per model folder; default WORKFLOW_MODELS. */
  readonly models?: Readonly<Record<string, readonly string[]>>;
  /** Node classes this server does not have (a missing custom node). */
  readonly without?: readonly string[];
  /** Time per sampler step. */
  readonly stepMs?: number;
  /** A header every request must carry (a proxy's auth). */
  readonly requireHeader?: { readonly name: string; readonly value: string };
  readonly port?: number;
}

interface QueueItem {
  readonly number: number;
  readonly promptId: string;
  readonly prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  readonly extra: Record<string, unknown>;
  readonly outputs: string[];
}

interface HistoryEntry {
  prompt: unknown[];
  outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, unknown>;
}

class Interrupted extends Error {}

type Value =
  | { kind: 'model'; shift?: number }
  | { kind: 'clip' }
  | { kind: 'vae' }
  | { kind: 'upscale'; scale: number }
  | { kind: 'cond'; text: string }
  | { kind: 'latent'; width: number; height: number; batch: number; base?: FakeImage[]; mask?: FakeMask; pixels?: FakeImage[] }
  | { kind: 'images'; images: FakeImage[] }
  | { kind: 'mask'; mask: FakeMask };

export class FakeComfyUI {
  readonly #options: FakeComfyOptions;
  #server!: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Map<string, WebSocket>();
  readonly #connections = new Set<Socket>();
  #port = 0;
  readonly #models = new Map<string, string[]>();
  readonly #without: Set<string>;
  readonly #inputs = new Map<string, Buffer>();
  readonly #outputs = new Map<string, Buffer>();
  #queue: QueueItem[] = [];
  #running: QueueItem | undefined;
  #history = new Map<string, HistoryEntry>();
  #number = 0;
  #outputCounter = 0;
  #interrupt = false;
  #failNext = new Map<string, string>();
  #hangNext = false;
  #release: (() => void) | undefined;
  #alive = false;
  #worker: Promise<void> | undefined;
  #paused: { promise: Promise<void>; resume: () => void } | undefined;
  /** The node executing now (server.last_node_id). */
  #lastNode: string | undefined;
  stepMs: number;
  /** Every prompt POST /prompt accepted, in order. */
  readonly accepted: { promptId: string; clientId: string | undefined; prompt: QueueItem['prompt'] }[] = [];
  /** Prompt ids in the order they started executing. */
  readonly started: string[] = [];
  /** Each prompt's time in the executor (ms), from execution_start to its end: the server's own render time. */
  readonly executions: { promptId: string; ms: number }[] = [];
  /** Request counts by route, for tests that check what was asked. */
  readonly requests = new Map<string, number>();

  private constructor(options: FakeComfyOptions) {
    this.#options = options;
    this.stepMs = options.stepMs ?? 2;
    for (const [folder, files] of Object.entries(options.models ?? WORKFLOW_MODELS)) this.#models.set(folder, [...files]);
    this.#without = new Set(options.without ?? []);
  }

  static async start(options: FakeComfyOptions = {}): Promise<FakeComfyUI> {
    const fake = new FakeComfyUI(options);
    await fake.#listen(options.port ?? 0);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /** The prompt executing now, if any. */
  get runningPrompt(): string | undefined {
    return this.#running?.promptId;
  }

  get pendingPrompts(): string[] {
    return this.#queue.map((item) => item.promptId);
  }

  /** Files uploaded into the input folder, by annotated name. */
  get inputFiles(): string[] {
    return [...this.#inputs.keys()];
  }

  /** The next execution of a node of this class raises this message (as a node's exception does). */
  failNext(classType: string, message: string): void {
    this.#failNext.set(classType, message);
  }

  /** The next prompt stops after its first sampler step and never goes on (until interrupted or the server dies). */
  hangNext(): void {
    this.#hangNext = true;
  }

  /** Accepts prompts but starts none (a GPU busy with someone else's work) until resume(). */
  pause(): void {
    if (this.#paused) return;
    let resume!: () => void;
    const promise = new Promise<void>((resolve) => {
      resume = resolve;
    });
    this.#paused = { promise, resume };
  }

  resume(): void {
    this.#paused?.resume();
    this.#paused = undefined;
  }

  setModels(folder: string, files: readonly string[]): void {
    this.#models.set(folder, [...files]);
  }

  /** Closes every WebSocket, as a proxy or a network blip would; the server runs on. */
  dropSockets(): void {
    for (const socket of this.#sockets.values()) socket.terminate();
    this.#sockets.clear();
  }

  /** The process dies: the running prompt is gone, sockets and HTTP stop answering. */
  async die(): Promise<void> {
    this.#alive = false;
    this.#release?.();
    this.resume();
    for (const socket of this.#sockets.values()) socket.terminate();
    this.#sockets.clear();
    for (const connection of this.#connections) connection.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#queue = [];
  }

  /** A restarted ComfyUI on the same port: an empty queue and history, the same disk. */
  async revive(): Promise<void> {
    await this.#worker?.catch(() => undefined);
    this.#history = new Map();
    this.#queue = [];
    this.#running = undefined;
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#alive) await this.die();
    this.#wss.close();
  }

  async #listen(port: number): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String((error as Error).stack ?? error));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#connections.add(socket);
      socket.on('close', () => this.#connections.delete(socket));
    });
    this.#server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws' || !this.#authorized(req)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws, url.searchParams.get('clientId') || randomUUID().replace(/-/g, '')));
    });
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#alive = true;
  }

  #authorized(req: IncomingMessage): boolean {
    const need = this.#options.requireHeader;
    return !need || req.headers[need.name.toLowerCase()] === need.value;
  }

  #onSocket(ws: WebSocket, sid: string): void {
    this.#sockets.get(sid)?.terminate();
    this.#sockets.set(sid, ws);
    ws.on('close', () => {
      if (this.#sockets.get(sid) === ws) this.#sockets.delete(sid);
    });
    ws.on('error', () => undefined);
    this.#sendJson('status', { status: this.#queueInfo(), sid }, sid);
    // "On reconnect if we are the currently executing client send the current node" (server.py), without a prompt id.
    if (this.#running?.extra.client_id === sid && this.#lastNode !== undefined) this.#sendJson('executing', { node: this.#lastNode }, sid);
  }

  #queueInfo(): { exec_info: { queue_remaining: number } } {
    return { exec_info: { queue_remaining: this.#queue.length + (this.#running ? 1 : 0) } };
  }

  #defs(): Record<string, NodeDef> {
    const disk: FakeDisk = { models: this.#models, inputs: this.#inputs };
    const defs = nodeDefs(disk);
    for (const name of this.#without) delete defs[name];
    return defs;
  }

  /** JSON to one client (sid) or, with none, to every socket — as PromptServer.send_json. */
  #sendJson(type: string, data: Record<string, unknown>, sid?: string): void {
    const message = JSON.stringify({ type, data });
    const targets = sid === undefined ? [...this.#sockets.values()] : [this.#sockets.get(sid)].filter((s): s is WebSocket => s !== undefined);
    for (const socket of targets) if (socket.readyState === socket.OPEN) socket.send(message);
  }

  /** A binary event: a 4-byte big-endian event type, then the payload (PromptServer.encode_bytes). */
  #sendBytes(event: number, payload: Buffer, sid?: string): void {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(event, 0);
    const frame = Buffer.concat([header, payload]);
    const targets = sid === undefined ? [...this.#sockets.values()] : [this.#sockets.get(sid)].filter((s): s is WebSocket => s !== undefined);
    for (const socket of targets) if (socket.readyState === socket.OPEN) socket.send(frame, { binary: true });
  }

  #sendImage(kind: 'JPEG' | 'PNG', bytes: Buffer, sid?: string): void {
    const type = Buffer.alloc(4);
    type.writeUInt32BE(kind === 'JPEG' ? 1 : 2, 0);
    this.#sendBytes(1, Buffer.concat([type, bytes]), sid);
  }

  #queueUpdated(): void {
    this.#sendJson('status', { status: this.#queueInfo() });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${url.pathname.replace(/^\/(history|models|object_info)\/.+$/, '/$1/*')}`;
    this.requests.set(route, (this.requests.get(route) ?? 0) + 1);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!this.#authorized(req)) return json(401, { error: 'unauthorized' });
    const body = async (): Promise<Buffer> => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    };
    const readJson = async (): Promise<Record<string, unknown>> => {
      try {
        return JSON.parse((await body()).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        return {};
      }
    };
    const path = url.pathname;
    if (req.method === 'GET' && path === '/system_stats') {
      return json(200, {
        system: { os: 'linux', ram_total: 0, ram_free: 0, comfyui_version: '0.3.75-fake', python_version: '3.12', pytorch_version: '2.9', embedded_python: false, argv: ['main.py'] },
        devices: [{ name: 'cuda:0 Fake GPU', type: 'cuda', index: 0, vram_total: 0, vram_free: 0, torch_vram_total: 0, torch_vram_free: 0 }],
      });
    }
    if (req.method === 'GET' && path === '/object_info') {
      return json(200, Object.fromEntries(Object.entries(this.#defs()).map(([name, def]) => [name, objectInfoOf(name, def)])));
    }
    if (req.method === 'GET' && path.startsWith('/object_info/')) {
      const name = decodeURIComponent(path.slice('/object_info/'.length));
      const def = this.#defs()[name];
      return json(200, def ? { [name]: objectInfoOf(name, def) } : {});
    }
    if (req.method === 'GET' && path === '/models') return json(200, [...this.#models.keys()]);
    if (req.method === 'GET' && path.startsWith('/models/')) {
      const files = this.#models.get(decodeURIComponent(path.slice('/models/'.length)));
      if (!files) {
        res.writeHead(404);
        return void res.end();
      }
      return json(200, files);
    }
    if (req.method === 'GET' && path === '/prompt') return json(200, this.#queueInfo());
    if (req.method === 'POST' && path === '/prompt') return this.#postPrompt(await readJson(), json);
    if (req.method === 'GET' && path === '/queue') {
      const item = (q: QueueItem): unknown[] => [q.number, q.promptId, q.prompt, q.extra, q.outputs];
      return json(200, { queue_running: this.#running ? [item(this.#running)] : [], queue_pending: this.#queue.map(item) });
    }
    if (req.method === 'POST' && path === '/queue') {
      const data = await readJson();
      if (data.clear === true) this.#queue = [];
      for (const id of (data.delete as unknown[] | undefined) ?? []) {
        const index = this.#queue.findIndex((q) => q.promptId === id);
        if (index >= 0) this.#queue.splice(index, 1);
      }
      this.#queueUpdated();
      res.writeHead(200);
      return void res.end();
    }
    if (req.method === 'POST' && path === '/interrupt') {
      const data = await readJson();
      const id = data.prompt_id;
      if (typeof id !== 'string' || this.#running?.promptId === id) this.#interruptRunning();
      res.writeHead(200);
      return void res.end();
    }
    if (req.method === 'GET' && path === '/history') return json(200, Object.fromEntries(this.#history));
    if (req.method === 'GET' && path.startsWith('/history/')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      const entry = this.#history.get(id);
      return json(200, entry ? { [id]: entry } : {});
    }
    if (req.method === 'POST' && path === '/history') {
      const data = await readJson();
      if (data.clear === true) this.#history.clear();
      for (const id of (data.delete as unknown[] | undefined) ?? []) this.#history.delete(String(id));
      res.writeHead(200);
      return void res.end();
    }
    if (req.method === 'POST' && (path === '/upload/image' || path === '/upload/mask')) return this.#upload(req, await body(), path === '/upload/mask', json, res);
    if (req.method === 'GET' && path === '/view') {
      const filename = url.searchParams.get('filename') ?? '';
      if (!filename || filename.startsWith('/') || filename.includes('..')) {
        res.writeHead(400);
        return void res.end();
      }
      const type = url.searchParams.get('type') ?? 'output';
      const subfolder = url.searchParams.get('subfolder') ?? '';
      const key = `${type}:${subfolder ? `${subfolder}/` : ''}${filename}`;
      const file = type === 'input' ? this.#inputs.get(key.slice('input:'.length)) : this.#outputs.get(key);
      if (!file) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(file);
    }
    res.writeHead(404);
    res.end();
  }

  #postPrompt(data: Record<string, unknown>, json: (status: number, body: unknown) => void): void {
    const number = typeof data.number === 'number' ? data.number : this.#number++;
    if (!('prompt' in data)) return json(400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
    let promptId: string = randomUUID();
    if (data.prompt_id !== undefined && data.prompt_id !== null) {
      if (typeof data.prompt_id !== 'string' || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(data.prompt_id)) {
        return json(400, { error: { type: 'invalid_prompt_id', message: 'prompt_id must be a valid UUID', details: 'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one', extra_info: {} }, node_errors: {} });
      }
      promptId = data.prompt_id;
    }
    const prompt = data.prompt as QueueItem['prompt'];
    const valid = validatePrompt(prompt as never, this.#defs());
    if (!valid.ok) return json(400, { error: valid.error, node_errors: valid.nodeErrors });
    const extra = { ...((data.extra_data as Record<string, unknown> | undefined) ?? {}), ...(typeof data.client_id === 'string' ? { client_id: data.client_id } : {}), create_time: Date.now() };
    this.#queue.push({ number, promptId, prompt, extra, outputs: valid.outputs });
    this.accepted.push({ promptId, clientId: data.client_id as string | undefined, prompt });
    this.#queueUpdated();
    json(200, { prompt_id: promptId, number, node_errors: valid.nodeErrors });
    this.#worker ??= this.#work().finally(() => {
      this.#worker = undefined;
    });
  }

  async #upload(req: IncomingMessage, raw: Buffer, mask: boolean, json: (status: number, body: unknown) => void, res: ServerResponse): Promise<void> {
    const form = await new Response(new Uint8Array(raw), { headers: { 'content-type': String(req.headers['content-type'] ?? '') } }).formData();
    const image = form.get('image');
    if (!(image instanceof Blob) || !('name' in image) || !image.name) {
      res.writeHead(400);
      return void res.end();
    }
    const subfolder = String(form.get('subfolder') ?? '');
    const type = String(form.get('type') ?? 'input');
    if (type !== 'input' || subfolder.includes('..') || subfolder.startsWith('/') || image.name.includes('/') || image.name.includes('..')) {
      res.writeHead(400);
      return void res.end();
    }
    const overwrite = form.get('overwrite') === 'true' || form.get('overwrite') === '1';
    let bytes = Buffer.from(await image.arrayBuffer());
    const dot = image.name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [image.name.slice(0, dot), image.name.slice(dot)] : [image.name, ''];
    let name = image.name;
    const key = (n: string): string => (subfolder ? `${subfolder}/${n}` : n);
    if (!overwrite) {
      for (let i = 1; this.#inputs.has(key(name)) && !this.#inputs.get(key(name))!.equals(bytes); i++) name = `${stem} (${i})${ext}`;
    }
    if (mask) {
      // /upload/mask: the original's pixels with the uploaded image's alpha (the mask editor's path).
      const ref = JSON.parse(String(form.get('original_ref') ?? '{}')) as { filename?: string; subfolder?: string; type?: string };
      const original = this.#inputs.get(ref.subfolder ? `${ref.subfolder}/${ref.filename}` : String(ref.filename));
      if (!original) return json(400, { error: 'original not found' });
      const { image: pixels } = await decodeImage(original);
      const { alpha } = await decodeImage(bytes);
      const rgba = Buffer.alloc(pixels.width * pixels.height * 4);
      for (let p = 0; p < pixels.width * pixels.height; p++) {
        rgba[p * 4] = pixels.data[p * 3]!;
        rgba[p * 4 + 1] = pixels.data[p * 3 + 1]!;
        rgba[p * 4 + 2] = pixels.data[p * 3 + 2]!;
        rgba[p * 4 + 3] = alpha?.[p] ?? 255;
      }
      bytes = await sharp(rgba, { raw: { width: pixels.width, height: pixels.height, channels: 4 } }).png().toBuffer();
    }
    this.#inputs.set(key(name), bytes);
    json(200, { name, subfolder, type });
  }

  #interruptRunning(): void {
    if (!this.#running) return;
    this.#interrupt = true;
    this.#release?.();
  }

  /** main.py's prompt_worker: one prompt at a time, FIFO. */
  async #work(): Promise<void> {
    while (this.#alive && this.#queue.length > 0) {
      if (this.#paused) {
        await this.#paused.promise;
        continue;
      }
      const item = this.#queue.shift()!;
      this.#running = item;
      this.#interrupt = false;
      this.#queueUpdated();
      this.started.push(item.promptId);
      const began = performance.now();
      await this.#execute(item);
      this.executions.push({ promptId: item.promptId, ms: performance.now() - began });
      if (!this.#alive) return;
      this.#running = undefined;
      this.#queueUpdated();
      const sid = item.extra.client_id as string | undefined;
      if (sid !== undefined) this.#sendJson('executing', { node: null, prompt_id: item.promptId }, sid);
    }
  }

  /** execution.py's execute_async over the fake's node implementations. */
  async #execute(item: QueueItem): Promise<void> {
    const sid = item.extra.client_id as string | undefined;
    const messages: [string, Record<string, unknown>][] = [];
    const add = (event: string, data: Record<string, unknown>, broadcast = false): void => {
      const stamped = { ...data, timestamp: Date.now() };
      messages.push([event, stamped]);
      if (sid !== undefined || broadcast) this.#sendJson(event, stamped, sid);
    };
    add('execution_start', { prompt_id: item.promptId });
    add('execution_cached', { nodes: [], prompt_id: item.promptId });
    const values = new Map<string, Value[]>();
    const executed: string[] = [];
    const uiOutputs: HistoryEntry['outputs'] = {};
    const order = this.#order(item.prompt, item.outputs);
    let status: 'success' | 'error' = 'success';
    for (const id of order) {
      const node = item.prompt[id]!;
      try {
        this.#lastNode = id;
        if (sid !== undefined) this.#sendJson('executing', { node: id, display_node: id, prompt_id: item.promptId }, sid);
        const failure = this.#failNext.get(node.class_type);
        if (failure !== undefined) {
          this.#failNext.delete(node.class_type);
          throw new Error(failure);
        }
        const inputs = (name: string): Value | unknown => {
          const value = node.inputs[name];
          return Array.isArray(value) ? values.get(String(value[0]))?.[Number(value[1])] : value;
        };
        const out = await this.#run(item, id, node.class_type, inputs, sid, uiOutputs);
        values.set(id, out);
        executed.push(id);
        if (!this.#alive) return;
        if (uiOutputs[id] && sid !== undefined) this.#sendJson('executed', { node: id, display_node: id, output: uiOutputs[id], prompt_id: item.promptId }, sid);
      } catch (error) {
        if (!this.#alive) return;
        status = 'error';
        if (error instanceof Interrupted) {
          add('execution_interrupted', { prompt_id: item.promptId, node_id: id, node_type: node.class_type, executed }, true);
        } else {
          add('execution_error', {
            prompt_id: item.promptId,
            node_id: id,
            node_type: node.class_type,
            executed,
            exception_message: `${(error as Error).message}\n`,
            exception_type: 'RuntimeError',
            traceback: ['  File "execution.py", line 1, in execute\n'],
            current_inputs: {},
            current_outputs: [],
          });
        }
        break;
      }
    }
    this.#lastNode = undefined;
    if (status === 'success') add('execution_success', { prompt_id: item.promptId });
    this.#history.set(item.promptId, {
      prompt: [item.number, item.promptId, item.prompt, item.extra, item.outputs],
      outputs: uiOutputs,
      status: { status_str: status, completed: status === 'success', messages },
      meta: {},
    });
  }

  /** Dependencies first, from the outputs (the order ComfyUI's ExecutionList yields for these graphs). */
  #order(prompt: QueueItem['prompt'], outputs: readonly string[]): string[] {
    const order: string[] = [];
    const seen = new Set<string>();
    const visit = (id: string): void => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const value of Object.values(prompt[id]!.inputs)) if (Array.isArray(value)) visit(String(value[0]));
      order.push(id);
    };
    for (const output of outputs) visit(output);
    return order;
  }

  async #step(): Promise<void> {
    if (this.stepMs > 0) await sleep(this.stepMs);
    else await new Promise((resolve) => setImmediate(resolve));
    if (this.#interrupt || !this.#alive) throw new Interrupted('interrupted');
  }

  async #run(item: QueueItem, id: string, classType: string, input: (name: string) => unknown, sid: string | undefined, ui: HistoryEntry['outputs']): Promise<Value[]> {
    const images = (name: string): FakeImage[] => (input(name) as Extract<Value, { kind: 'images' }>).images;
    switch (classType) {
      case 'UNETLoader':
        return [{ kind: 'model' }];
      case 'CLIPLoader':
        return [{ kind: 'clip' }];
      case 'VAELoader':
        return [{ kind: 'vae' }];
      case 'UpscaleModelLoader':
        return [{ kind: 'upscale', scale: upscaleScaleOf(String(input('model_name'))) }];
      case 'LoraLoaderModelOnly':
      case 'CFGNorm':
        return [input('model') as Value];
      case 'ModelSamplingAuraFlow':
        return [{ kind: 'model', shift: Number(input('shift')) }];
      case 'CLIPTextEncode':
        return [{ kind: 'cond', text: String(input('text')) }];
      case 'TextEncodeQwenImageEdit':
        return [{ kind: 'cond', text: String(input('prompt')) }];
      case 'ConditioningZeroOut':
        return [{ kind: 'cond', text: '' }];
      case 'EmptySD3LatentImage':
        return [{ kind: 'latent', width: Number(input('width')), height: Number(input('height')), batch: Number(input('batch_size')) }];
      case 'LoadImage': {
        const file = this.#inputs.get(String(input('image')));
        if (!file) throw new Error(`Invalid image file: ${String(input('image'))}`);
        const { image, alpha } = await decodeImage(file);
        const mask = new Float32Array(image.width * image.height);
        if (alpha) for (let p = 0; p < mask.length; p++) mask[p] = 1 - alpha[p]! / 255;
        return [{ kind: 'images', images: [image] }, { kind: 'mask', mask: { width: image.width, height: image.height, data: mask } }];
      }
      case 'LoadImageMask': {
        const file = this.#inputs.get(String(input('image')));
        if (!file) throw new Error(`Invalid image file: ${String(input('image'))}`);
        const { image, alpha } = await decodeImage(file);
        const channel = String(input('channel'));
        const data = new Float32Array(image.width * image.height);
        for (let p = 0; p < data.length; p++) {
          data[p] = channel === 'alpha' ? 1 - (alpha?.[p] ?? 255) / 255 : image.data[p * 3 + ['red', 'green', 'blue'].indexOf(channel)]! / 255;
        }
        return [{ kind: 'mask', mask: { width: image.width, height: image.height, data } }];
      }
      case 'VAEEncode': {
        const pixels = images('pixels');
        return [{ kind: 'latent', width: pixels[0]!.width, height: pixels[0]!.height, batch: pixels.length, base: pixels }];
      }
      case 'SetLatentNoiseMask':
        return [{ ...(input('samples') as Extract<Value, { kind: 'latent' }>), mask: (input('mask') as Extract<Value, { kind: 'mask' }>).mask }];
      case 'KSampler':
        return [await this.#sample(item, id, input, sid)];
      case 'VAEDecode': {
        const latent = input('samples') as Extract<Value, { kind: 'latent' }>;
        const grey: FakeImage = { width: latent.width, height: latent.height, data: new Uint8Array(latent.width * latent.height * 3).fill(128) };
        return [{ kind: 'images', images: latent.pixels ?? Array.from({ length: latent.batch }, () => grey) }];
      }
      case 'ImageCompositeMasked': {
        const destination = images('destination');
        const source = images('source');
        const mask = (input('mask') as Extract<Value, { kind: 'mask' }> | undefined)?.mask;
        return [{ kind: 'images', images: source.map((s, i) => composite(destination[Math.min(i, destination.length - 1)]!, s, mask)) }];
      }
      case 'ImageUpscaleWithModel': {
        // Tile by tile, each one a `progress` event of this node (ProgressBar over get_tiled_scale_steps), then the
        // image at the model's scale (tiled_scale rounds each side of input × scale).
        const { scale } = input('upscale_model') as Extract<Value, { kind: 'upscale' }>;
        const all = images('image');
        const steps = all.reduce((sum, img) => sum + tiledScaleSteps(img.width, img.height), 0);
        for (let step = 1; step <= steps; step++) {
          await this.#step();
          if (sid !== undefined) this.#sendJson('progress', { value: step, max: steps, prompt_id: item.promptId, node: id }, sid);
        }
        return [{ kind: 'images', images: await Promise.all(all.map((img) => resize(img, Math.round(img.width * scale), Math.round(img.height * scale)))) }];
      }
      case 'ImageScaleBy': {
        const by = Number(input('scale_by'));
        return [{ kind: 'images', images: await Promise.all(images('image').map((img) => resize(img, Math.round(img.width * by), Math.round(img.height * by)))) }];
      }
      case 'SaveImageWebsocket': {
        const all = images('images');
        for (const [step, image] of all.entries()) {
          // ProgressBar.update_absolute(step, total, ("PNG", img, None)): a progress event, then the image frame.
          if (sid !== undefined) this.#sendJson('progress', { value: step, max: all.length, prompt_id: item.promptId, node: id }, sid);
          this.#sendImage('PNG', await encodePng(image), sid);
        }
        return [];
      }
      case 'SaveImage':
      case 'PreviewImage': {
        const type = classType === 'SaveImage' ? 'output' : 'temp';
        const prefix = classType === 'SaveImage' ? String(input('filename_prefix')) : 'ComfyUI_temp';
        ui[id] = { images: [] };
        for (const image of images('images')) {
          const filename = `${prefix}_${String(++this.#outputCounter).padStart(5, '0')}_.png`;
          this.#outputs.set(`${type}:${filename}`, await encodePng(image));
          ui[id].images.push({ filename, subfolder: '', type });
        }
        return [];
      }
      default:
        throw new Error(`the fake has no implementation of ${classType}`);
    }
  }

  async #sample(item: QueueItem, id: string, input: (name: string) => unknown, sid: string | undefined): Promise<Value> {
    const latent = input('latent_image') as Extract<Value, { kind: 'latent' }>;
    const steps = Number(input('steps'));
    const seed = Number(input('seed'));
    const denoise = Number(input('denoise'));
    const positive = (input('positive') as Extract<Value, { kind: 'cond' }>).text;
    const previews = !['none', undefined, 'default'].includes(item.extra.preview_method as string | undefined);
    const draw = (): FakeImage[] =>
      Array.from({ length: latent.batch }, (_, b) => blend(drawPattern(seed + b, positive, latent.width, latent.height), latent.base?.[Math.min(b, latent.base.length - 1)], latent.base ? denoise : 1, latent.mask));
    for (let step = 1; step <= steps; step++) {
      await this.#step();
      if (this.#hangNext) {
        this.#hangNext = false;
        await new Promise<void>((resolve) => {
          this.#release = resolve;
        });
        this.#release = undefined;
        throw new Interrupted('interrupted');
      }
      if (sid !== undefined) this.#sendJson('progress', { value: step, max: steps, prompt_id: item.promptId, node: id }, sid);
      if (previews && step < steps) this.#sendImage('JPEG', await encodePreview(draw()[0]!), sid);
    }
    return { ...latent, pixels: draw() };
  }
}
