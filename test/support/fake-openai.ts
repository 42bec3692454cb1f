import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import sharp from 'sharp';

/**
 * An OpenAI-compatible chat-completions server for tests, on 127.0.0.1, answering as llama.cpp's llama-server,
 * Ollama's /v1 and vLLM do: POST /v1/chat/completions (and /chat/completions, as llama-server also serves it) with
 * string or content-part messages (`text`, `image_url` with a data: URL), checked as those servers check them, and a
 * `chat.completion` object back; GET /v1/models. Errors have OpenAI's shape, `{"error": {"message", "type", "param",
 * "code"}}`. Its answers are derived from the request (the user's words, the image's size and colour), or come from
 * `answer`. Modes: an error status, a slow answer, a body that is not JSON, a completion without choices, a dropped
 * connection; and a text-only model, which refuses image parts with the status and body of the server it plays.
 * It does not stream (a `stream: true` request is refused): the bot never asks for a stream.
 */

/** How a text-only model's server refuses an image part. */
export type NoVisionFlavor = 'llama.cpp' | 'ollama' | 'vllm';

export type FakeMode =
  | { readonly kind: 'normal' }
  | { readonly kind: 'error'; readonly status: number; readonly message?: string; readonly type?: string; readonly code?: string | number | null }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'no-choices' }
  | { readonly kind: 'drop' };

export interface RecordedImage {
  readonly mime: string;
  readonly bytes: Buffer;
}

export interface RecordedRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly model: string;
  readonly system: string;
  /** The user messages' text, in order. */
  readonly texts: readonly string[];
  readonly images: readonly RecordedImage[];
  readonly maxTokens: number | null;
}

export interface FakeOpenAIOptions {
  /** Requests must carry `Authorization: Bearer <apiKey>`; 401 otherwise. */
  readonly apiKey?: string;
  /** A text-only model: image parts are refused as this server refuses them. */
  readonly noVision?: NoVisionFlavor;
  /** The answer's text, instead of one derived from the request. */
  readonly answer?: (request: RecordedRequest) => string;
  readonly mode?: FakeMode;
  readonly port?: number;
}

/** The body llama-server sends for an image part when it was started without a projector (--mmproj). */
export const LLAMA_CPP_NO_VISION = {
  error: { code: 500, message: 'image input is not supported - hint: if this is unexpected, you may need to provide the mmproj', type: 'server_error' },
};

class BadRequest extends Error {}

const COLOURS: readonly (readonly [string, number, number, number])[] = [
  ['red', 220, 40, 40],
  ['orange', 240, 140, 30],
  ['yellow', 235, 215, 50],
  ['green', 50, 170, 70],
  ['blue', 40, 80, 220],
  ['purple', 140, 60, 180],
  ['white', 245, 245, 245],
  ['grey', 128, 128, 128],
  ['black', 15, 15, 15],
];

export class FakeOpenAI {
  readonly #options: FakeOpenAIOptions;
  #server!: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;
  #held: (() => void)[] | null = null;
  #inFlightWaiters: { count: number; resolve: () => void }[] = [];
  mode: FakeMode;
  answer: ((request: RecordedRequest) => string) | undefined;
  readonly requests: RecordedRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;

  private constructor(options: FakeOpenAIOptions) {
    this.#options = options;
    this.mode = options.mode ?? { kind: 'normal' };
    this.answer = options.answer;
  }

  static async start(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI(options);
    fake.#server = createServer((req, res) => {
      fake.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) fake.#json(res, 500, { error: { message: String(error), type: 'server_error', param: null, code: null } });
        else res.destroy();
      });
    });
    fake.#server.on('connection', (socket) => {
      fake.#sockets.add(socket);
      socket.on('close', () => fake.#sockets.delete(socket));
    });
    await new Promise<void>((resolve) => fake.#server.listen(options.port ?? 0, '127.0.0.1', resolve));
    fake.#port = (fake.#server.address() as AddressInfo).port;
    return fake;
  }

  /** The API's base URL, as a user configures it (…/v1). */
  get url(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  /** Requests that arrive from now on wait, counted in `inFlight`, until release(). */
  hold(): void {
    this.#held ??= [];
  }

  release(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const go of held) go();
  }

  /** Resolves once `count` requests are in flight (held or being answered). */
  whenInFlight(count: number): Promise<void> {
    if (this.inFlight >= count) return Promise.resolve();
    return new Promise((resolve) => this.#inFlightWaiters.push({ count, resolve }));
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
      if (!this.#authorized(req, res)) return;
      this.#json(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
      return;
    }
    if (path !== '/v1/chat/completions' && path !== '/chat/completions') {
      this.#json(res, 404, { error: { message: 'File Not Found', type: 'not_found_error', param: null, code: 404 } });
      return;
    }
    if (req.method !== 'POST') {
      this.#json(res, 405, { error: { message: 'Method Not Allowed', type: 'invalid_request_error', param: null, code: 405 } });
      return;
    }
    const raw = await readBody(req);
    if (!this.#authorized(req, res)) return;
    let request: RecordedRequest;
    try {
      request = await parseRequest(req.headers, raw);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      this.#json(res, 400, { error: { message: error.message, type: 'invalid_request_error', param: null, code: null } });
      return;
    }
    this.requests.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.#inFlightWaiters = this.#inFlightWaiters.filter((w) => (this.inFlight >= w.count ? (w.resolve(), false) : true));
    try {
      if (this.#held) await new Promise<void>((resolve) => this.#held!.push(resolve));
      await this.#answer(request, req, res);
    } finally {
      this.inFlight -= 1;
    }
  }

  #authorized(req: IncomingMessage, res: ServerResponse): boolean {
    const key = this.#options.apiKey;
    if (key === undefined || req.headers.authorization === `Bearer ${key}`) return true;
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const message = given
      ? `Incorrect API key provided: ${given.slice(0, 3)}${'*'.repeat(Math.max(0, given.length - 7))}${given.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
    this.#json(res, 401, { error: { message, type: 'invalid_request_error', param: null, code: given ? 'invalid_api_key' : null } });
    return false;
  }

  async #answer(request: RecordedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mode = this.mode;
    if (request.images.length > 0 && this.#options.noVision) {
      this.#noVision(this.#options.noVision, request, res);
      return;
    }
    switch (mode.kind) {
      case 'error':
        this.#json(res, mode.status, {
          error: {
            message: mode.message ?? 'The server had an error while processing your request. Sorry about that!',
            type: mode.type ?? (mode.status < 500 ? 'invalid_request_error' : 'server_error'),
            param: null,
            code: mode.code ?? null,
          },
        });
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"A red fo');
        return;
      case 'no-choices':
        this.#json(res, 200, { id: `chatcmpl-${randomUUID()}`, object: 'chat.completion', created: nowSeconds(), model: request.model, choices: [] });
        return;
      case 'drop':
        req.socket.destroy();
        return;
      case 'slow': {
        const gone = await waitOrClose(mode.ms, res);
        if (gone) return;
        break;
      }
      case 'normal':
        break;
    }
    const text = this.answer ? this.answer(request) : await derivedAnswer(request);
    const { content, cut } = limitTokens(text, request.maxTokens);
    const completionTokens = tokens(content).length;
    const promptTokens = tokens([request.system, ...request.texts].join(' ')).length + 256 * request.images.length;
    this.#json(res, 200, {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: nowSeconds(),
      model: request.model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: cut ? 'length' : 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    });
  }

  /** llama-server without a projector (500), Ollama passing that body on as its message (500), vLLM (400). */
  #noVision(flavor: NoVisionFlavor, request: RecordedRequest, res: ServerResponse): void {
    switch (flavor) {
      case 'llama.cpp':
        this.#json(res, 500, LLAMA_CPP_NO_VISION);
        return;
      case 'ollama':
        this.#json(res, 500, { error: { message: JSON.stringify(LLAMA_CPP_NO_VISION), type: 'api_error', param: null, code: null } });
        return;
      case 'vllm':
        this.#json(res, 400, { error: { message: `${request.model} is not a multimodal model`, type: 'BadRequestError', param: null, code: 400 } });
        return;
    }
  }

  #json(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves true when the client went away before `ms` passed. */
function waitOrClose(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(false);
    }, ms);
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    res.once('close', onClose);
  });
}

/** The request checked as the servers check it: a model, a non-empty messages array, known roles and part types, decodable images. */
async function parseRequest(headers: IncomingHttpHeaders, raw: string): Promise<RecordedRequest> {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    throw new BadRequest(`We could not parse the JSON body of your request. (${(error as Error).message})`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('The request body must be a JSON object');
  const record = body as Record<string, unknown>;
  if (typeof record.model !== 'string' || record.model === '') throw new BadRequest('you must provide a model parameter');
  if (record.stream === true) throw new BadRequest('this fake server does not stream');
  const messages = record.messages;
  if (!Array.isArray(messages) || messages.length === 0) throw new BadRequest("'messages' must be a non-empty array");
  const texts: string[] = [];
  const images: RecordedImage[] = [];
  let system = '';
  for (const [i, message] of messages.entries()) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer') throw new BadRequest(`Invalid value for 'messages[${i}].role'`);
    const parts = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
    if (!Array.isArray(parts)) throw new BadRequest(`Invalid type for 'messages[${i}].content': expected a string or an array of content parts`);
    for (const [j, part] of parts.entries()) {
      const { type, text, image_url: imageUrl } = (part ?? {}) as { type?: unknown; text?: unknown; image_url?: unknown };
      if (type === 'text' && typeof text === 'string') {
        if (role === 'system' || role === 'developer') system += text;
        else if (role === 'user') texts.push(text);
      } else if (type === 'image_url') {
        if (role !== 'user') throw new BadRequest(`Image parts are only allowed in user messages (messages[${i}])`);
        images.push(await decodeImageUrl((imageUrl as { url?: unknown } | undefined)?.url, `messages[${i}].content[${j}]`));
      } else {
        throw new BadRequest(`Invalid content part at 'messages[${i}].content[${j}]': expected type text or image_url`);
      }
    }
  }
  const maxTokens = typeof record.max_tokens === 'number' ? record.max_tokens : typeof record.max_completion_tokens === 'number' ? record.max_completion_tokens : null;
  return { headers, body: record, model: record.model, system, texts, images, maxTokens };
}

async function decodeImageUrl(url: unknown, where: string): Promise<RecordedImage> {
  const match = typeof url === 'string' ? /^data:(image\/(?:png|jpeg|webp|gif));base64,([A-Za-z0-9+/=]+)$/.exec(url) : null;
  if (!match) throw new BadRequest(`Invalid image_url at '${where}': expected a data:image/(png|jpeg|webp|gif);base64 URL`);
  const bytes = Buffer.from(match[2]!, 'base64');
  try {
    await sharp(bytes).metadata();
  } catch {
    throw new BadRequest(`Failed to load image at '${where}'`);
  }
  return { mime: match[1]!, bytes };
}

/** Rough tokens: a Han character each, else a word. */
function tokens(text: string): string[] {
  return text.match(/\p{Script=Han}|[^\s\p{Script=Han}]+\s*/gu) ?? [];
}

function limitTokens(text: string, maxTokens: number | null): { content: string; cut: boolean } {
  const all = tokens(text);
  if (maxTokens === null || all.length <= maxTokens) return { content: text, cut: false };
  return { content: all.slice(0, maxTokens).join('').trimEnd(), cut: true };
}

/** Text: the user's words in a sentence of detail. An image: four prompts naming its size and main colour, as a JSON array. */
async function derivedAnswer(request: RecordedRequest): Promise<string> {
  const image = request.images[0];
  if (!image) {
    const idea = request.texts.at(-1) ?? '';
    return `${idea}, shown in rich detail: the subject in the centre of the frame, soft morning light from the left, a shallow depth of field and a calm, muted palette.`;
  }
  const { data, info } = await sharp(image.bytes).removeAlpha().resize(16, 16, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
  const meta = await sharp(image.bytes).metadata();
  const mean = [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c; i < data.length; i += info.channels) sum += data[i]!;
    return sum / (data.length / info.channels);
  });
  const colour = COLOURS.reduce((best, candidate) => {
    const d = (k: readonly [string, number, number, number]): number => (k[1] - mean[0]!) ** 2 + (k[2] - mean[1]!) ** 2 + (k[3] - mean[2]!) ** 2;
    return d(candidate) < d(best) ? candidate : best;
  })[0];
  const size = `${meta.width}×${meta.height}`;
  return JSON.stringify([
    `A ${size} picture filled with a flat ${colour} colour, seen straight on in even light.`,
    `A watercolour painting of a ${colour} field, soft edges and visible paper grain.`,
    `A ${colour} wall at sunset, warm low light raking across its surface.`,
    `A close-up photograph of a ${colour} surface from a low angle, shallow depth of field.`,
  ]);
}
