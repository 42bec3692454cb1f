import { scrubSecrets } from '../logging.ts';
import { fail, ok, type Result } from '../result.ts';
import { assistantError, type AssistantError } from './errors.ts';

/**
 * A client of the OpenAI-compatible chat-completions protocol (POST {url}/chat/completions) on the global fetch, as
 * llama.cpp's llama-server, Ollama, vLLM, LM Studio and hosted APIs speak it. It knows the protocol and its failure
 * shapes, nothing of prompts: each way a call can fail becomes one AssistantError, its message scrubbed of the key.
 */

export type ContentPart = { readonly type: 'text'; readonly text: string } | { readonly type: 'image_url'; readonly image_url: { readonly url: string } };

export interface ChatMessage {
  readonly role: 'system' | 'user';
  readonly content: string | readonly ContentPart[];
}

export interface ChatEndpoint {
  /** The API's base URL (…/v1); /chat/completions is appended. */
  readonly url: string;
  readonly model: string;
  /** Sent as a Bearer token; null sends no Authorization header. */
  readonly apiKey: string | null;
}

export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  readonly temperature: number;
  readonly maxTokens: number;
  /** Ends the call; a TimeoutError reason (AbortSignal.timeout) is reported as a timeout of `timeoutMs`. */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

export interface ChatReply {
  readonly content: string;
  /** `stop`, `length` (cut at max_tokens)…; null when the server gives none. */
  readonly finishReason: string | null;
}

/** Larger answers are refused unread: a prompt or four is a few kilobytes. */
const MAX_REPLY_BYTES = 1 << 20;
/** How much of a server's error text is kept for the message. */
const MAX_REASON_CHARS = 300;

/**
 * How servers say a model takes no images: llama-server without --mmproj (500, passed on by Ollama, which runs it),
 * vLLM serving a text-only model (400), LM Studio, OpenAI's text models, and generic wordings of gateways.
 */
const NO_VISION = [
  /image input is not supported/i,
  /is not a multimodal model/i,
  /does not support (?:image|images|vision|multi-?modal)/i,
  /image_url is only supported by certain models/i,
  /only 'text' content type is supported/i,
  /(?:vision|multi-?modal|image input)[^.]{0,40}\bnot (?:supported|enabled)/i,
];

export function endpointUrl(base: string): string {
  return `${base.replace(/\/+$/, '').replace(/\/chat\/completions$/i, '')}/chat/completions`;
}

export async function chatCompletion(endpoint: ChatEndpoint, request: ChatRequest): Promise<Result<ChatReply, AssistantError>> {
  const url = endpointUrl(endpoint.url);
  const scrub = (text: string): string => scrubSecrets(text, [endpoint.apiKey]);
  const hasImage = request.messages.some((m) => typeof m.content !== 'string' && m.content.some((p) => p.type === 'image_url'));
  const body = JSON.stringify({
    model: endpoint.model,
    messages: request.messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    stream: false,
  });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (endpoint.apiKey) headers.authorization = `Bearer ${endpoint.apiKey}`;

  let response: Response;
  let text: string;
  try {
    response = await fetch(url, { method: 'POST', headers, body, signal: request.signal });
    text = await readCapped(response, MAX_REPLY_BYTES);
  } catch (error) {
    return fail(transportError(error, request, url, scrub));
  }

  if (!response.ok) {
    const reason = shorten(scrub(serverMessage(text) || response.statusText || 'no reason given'));
    if (hasImage && NO_VISION.some((pattern) => pattern.test(reason) || pattern.test(text))) {
      return fail(
        assistantError('assistant-no-vision', `The model ${endpoint.model} at ${url} takes no image input (HTTP ${response.status}: ${reason})`, {
          model: endpoint.model,
        }),
      );
    }
    return fail(assistantError('assistant-http-error', `The assistant at ${url} answered HTTP ${response.status}: ${reason}`, { status: response.status, reason }));
  }
  return parseCompletion(text, url, scrub);
}

class ReplyTooLarge extends Error {}

/** The body as text, refused past `max` bytes without reading the rest. */
async function readCapped(response: Response, max: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new ReplyTooLarge(`the answer is larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function transportError(error: unknown, request: ChatRequest, url: string, scrub: (text: string) => string): AssistantError {
  if (error instanceof ReplyTooLarge) return assistantError('assistant-bad-reply', `The assistant at ${url} sent an answer too large to read: ${error.message}`, { reason: error.message });
  if (request.signal.aborted && (request.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError') {
    const seconds = Math.round(request.timeoutMs / 100) / 10;
    return assistantError('assistant-timeout', `The assistant at ${url} did not answer within ${seconds} s`, { seconds });
  }
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const reason = scrub(String(typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : (error as Error).message));
  return assistantError('assistant-unreachable', `The assistant at ${url} cannot be reached (${reason})`, { reason });
}

/** An error body's own words, whatever its shape; one nested level unwrapped (Ollama passes llama-server's body on as its message). */
function serverMessage(text: string, depth = 0): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return text.trim();
  }
  const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const error = record.error;
  const candidates = [
    // OpenAI, llama-server, Ollama's /v1, vLLM: {"error": {"message": …}}; Ollama's own API: {"error": "…"}.
    typeof error === 'object' && error !== null ? (error as Record<string, unknown>).message : error,
    // vLLM before its errors took OpenAI's shape: {"object": "error", "message": …}; FastAPI: {"detail": …}.
    record.message,
    record.detail,
  ];
  const message = candidates.find((c): c is string => typeof c === 'string' && c.trim() !== '');
  if (message === undefined) return text.trim();
  return depth === 0 && message.trim().startsWith('{') ? serverMessage(message, 1) : message.trim();
}

const shorten = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_REASON_CHARS ? `${flat.slice(0, MAX_REASON_CHARS - 1)}…` : flat;
};

function parseCompletion(text: string, url: string, scrub: (text: string) => string): Result<ChatReply, AssistantError> {
  const bad = (reason: string): Result<never, AssistantError> =>
    fail(assistantError('assistant-bad-reply', `The assistant at ${url} sent an answer that is not a chat completion: ${reason}`, { reason }));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return bad(`not JSON (${shorten(scrub(text)) || 'an empty body'})`);
  }
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return bad('no choices');
  const choice = choices[0] as { message?: { content?: unknown }; finish_reason?: unknown } | null;
  const content = choice?.message?.content;
  const finishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : null;
  // Some servers answer with content parts, as requests may send them.
  const joined = Array.isArray(content)
    ? content.map((part: unknown) => ((part as { type?: unknown }).type === 'text' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('')
    : content;
  if (typeof joined !== 'string') return bad('no message content');
  if (joined.trim() === '') return bad(finishReason === 'length' ? 'cut off before any text (max_tokens)' : 'an empty message');
  return ok({ content: joined, finishReason });
}
