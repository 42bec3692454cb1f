import type { AssistantConfig, Config } from '../config/schema.ts';
import { engineError, isEngineError, type EngineError } from '../engine/errors.ts';
import type { Logger } from '../logging.ts';
import type { InputCheck } from '../moderation/input-check.ts';
import type { PromptFilter } from '../moderation/prompt-filter.ts';
import { fail, ok, type Result } from '../result.ts';
import { chatCompletion, endpointUrl, type ChatEndpoint, type ChatMessage, type ChatReply } from './chat-client.ts';
import { ASSISTANT_SETUP_HINT, assistantError, notConfigured, type AssistantError } from './errors.ts';
import { imageForModel } from './image.ts';
import { CallAborted, KeyedLimiter } from './limiter.ts';
import { cleanPrompt, cutToSentence, neutraliseGrammar, quotedPassages, splitSuggestions } from './parse.ts';
import { describeMessages, enhanceMessages, MAX_SUGGESTIONS, type AssistantLocale } from './prompts.ts';

/** Who asks: the per-user cap counts by platform and user id (the core's Actor fits). */
export interface AssistantUser {
  readonly platform: string;
  readonly userId: string;
}

export type AssistantTask = 'enhance' | 'describe';

export interface EnhancedPrompt {
  /** The prompt as the user gave it (trimmed), to offer back. */
  readonly original: string;
  /** The rewrite: one paragraph, filtered, quoted passages kept, drafting-safe. */
  readonly prompt: string;
  /** The answer was longer than the output cap (or cut at max_tokens) and ends at an earlier sentence. */
  readonly cut: boolean;
}

export interface DescribedImage {
  /** One to four prompts, each filtered and drafting-safe; the first describes the image most faithfully. */
  readonly prompts: readonly string[];
  /** Suggestions the prompt filter refused, left out. */
  readonly withheld: number;
}

/**
 * Where the calls run when the model shares the image GPU: the runtime hands in a gate that waits for the engine's
 * fair queue (as a job of its own cost) around `run`. It must end the wait when `signal` aborts. A gate that will not
 * run the call (the engine is shutting down, no device here can hold it) rejects with an error whose `error` is the
 * EngineError to tell the asker.
 */
export type AssistantGate = <T>(call: { readonly user: AssistantUser; readonly task: AssistantTask; readonly signal: AbortSignal }, run: () => Promise<T>) => Promise<T>;

export interface AssistantOptions {
  readonly config: Readonly<Pick<Config, 'assistant' | 'limits'>>;
  /** Where the API key is read (the variable assistant.apiKeyEnv names); default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The prompt filter the draft path uses; every prompt in and out passes it. */
  readonly promptFilter: PromptFilter;
  /** The edit path's NSFW check for input images; absent → images are not judged (moderation.judgeInputs: false). */
  readonly inputCheck?: InputCheck;
  readonly log: Logger;
  /** Required with assistant.sharesGpu. */
  readonly gate?: AssistantGate;
}

/** A configuration the assistant cannot run with; start-up stops on it. */
export class AssistantSetupError extends Error {
  override readonly name = 'AssistantSetupError';
}

type Outcome<T> = Result<T, AssistantError>;

/** One request to the model: whose, for what, its deadline, where, what to send (built once it may run), how long. */
interface CallSpec {
  readonly task: AssistantTask;
  readonly user: AssistantUser;
  readonly timeoutMs: number;
  readonly endpoint: ChatEndpoint;
  readonly messages: () => Promise<Outcome<ChatMessage[]>>;
  readonly maxTokens: number;
}

/**
 * The prompt assistant: `enhance` rewrites a short prompt into a long, concrete Z-Image prompt; `describe` suggests
 * up to four prompts for an image. Both answer with a Result: the text(s), or one AssistantError whose code the chat
 * core turns into a sentence. Without assistant.url it is `configured: false` and every call is refused with
 * `assistant-not-configured`. Calls are capped per user and in all, time out as a whole (waiting included), and
 * everything the model writes passes the prompt filter before it is returned; the API key never reaches a message.
 * Over 300 lines on purpose: both tasks share one call path (caps, the GPU gate, the deadline, shutdown, logging).
 */
export class Assistant {
  readonly #config: AssistantConfig;
  readonly #limits: Config['limits'];
  readonly #options: AssistantOptions;
  readonly #apiKey: string | null;
  readonly #visionKey: string | null;
  readonly #limiter: KeyedLimiter;
  /** Aborted by close(): every call in flight ends on it, and none starts after it. */
  readonly #closing = new AbortController();
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(options: AssistantOptions) {
    this.#options = options;
    this.#config = options.config.assistant;
    this.#limits = options.config.limits;
    const env = options.env ?? process.env;
    const keyIn = (name: string | null): string | null => (name ? env[name]?.trim() || null : null);
    this.#apiKey = keyIn(this.#config.apiKeyEnv);
    // A vision model on a server of its own gets its own key, or none: the main key never travels to a second server.
    this.#visionKey = this.#config.vision.url === null ? this.#apiKey : keyIn(this.#config.vision.apiKeyEnv);
    this.#limiter = new KeyedLimiter(this.#config);
    if (this.configured && this.#config.sharesGpu && !options.gate) {
      throw new AssistantSetupError('assistant.sharesGpu is true, but this runtime gives the assistant no way into the GPU queue; set it to false');
    }
  }

  /** Whether the features exist: false → no buttons, and /describe and --enhance are refused with `setupHint`. */
  get configured(): boolean {
    return this.#config.url !== null;
  }

  /** The model runs on the image GPU (its calls go through the gate). */
  get sharesGpu(): boolean {
    return this.#config.sharesGpu;
  }

  /** One English line saying how to turn the assistant on (the CLI's refusal, logs). */
  get setupHint(): string {
    return ASSISTANT_SETUP_HINT;
  }

  /** Where enhance and describe are sent, for a start-up log line (no key in it). */
  get endpoints(): { readonly enhance: string; readonly describe: string } | null {
    const text = this.#endpoint('enhance');
    const vision = this.#endpoint('describe');
    return text && vision ? { enhance: `${endpointUrl(text.url)} (${text.model})`, describe: `${endpointUrl(vision.url)} (${vision.model})` } : null;
  }

  /** close() was called: every call is refused with `shutting-down`. */
  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /**
   * For shutdown: ends every call in flight at once (waiting for a slot, for the GPU or for the server), each answered
   * `shutting-down` so its asker is told the bot is restarting, and refuses every later call the same way. Resolves
   * once the calls in flight have answered.
   */
  async close(): Promise<void> {
    if (!this.closed) this.#closing.abort(new DOMException('the prompt assistant is shutting down', 'AbortError'));
    await Promise.allSettled([...this.#inFlight]);
  }

  /**
   * Rewrites `prompt` (the user's words, flags already taken off) into a detailed Z-Image prompt in the prompt's
   * language (`locale` when that is unclear). Refused before anything is sent: an empty or too long prompt, one the
   * prompt filter refuses. Refused after: a rewrite the filter refuses, one that lost a quoted passage.
   */
  async enhance(prompt: string, locale: AssistantLocale, user: AssistantUser): Promise<Outcome<EnhancedPrompt>> {
    const endpoint = this.#endpoint('enhance');
    if (!endpoint) return fail(notConfigured());
    const original = prompt.trim();
    if (original === '') return fail(engineError('empty-prompt', 'The prompt to enhance is empty'));
    const length = [...original].length;
    const max = this.#config.maxPromptChars;
    if (length > max) return fail(engineError('prompt-too-long', `The prompt to enhance is ${length} characters; the limit is ${max}`, { length, max }));
    const refusal = this.#options.promptFilter(original);
    if (refusal) return fail(refusal);

    const cap = this.#outputCap;
    const reply = await this.#call({ task: 'enhance', user, timeoutMs: this.#config.enhanceTimeoutMs, endpoint, messages: async () => ok(enhanceMessages(original, locale, cap)), maxTokens: cap });
    if (!reply.ok) return reply;

    let cleaned = cleanPrompt(reply.value.content, cap);
    if (reply.value.finishReason === 'length' && !cleaned.cut) cleaned = { ...cutToSentence(cleaned.text, Math.max(1, [...cleaned.text].length - 1)), cut: true };
    if (cleaned.text === '') return fail(this.#badReply('enhance', 'no prompt in the answer'));
    // Compared as the rewrite was made drafting-safe: one paragraph, braces and dash runs defused. A dash run opening
    // the passage is defused only where a space precedes it, not after its opening quote: either form counts.
    const kept = (passage: string): boolean => {
      const flat = passage.replace(/\s+/gu, ' ');
      return cleaned.text.includes(neutraliseGrammar(flat)) || cleaned.text.includes(neutraliseGrammar(`"${flat}`).slice(1));
    };
    const lost = quotedPassages(original).find((passage) => !kept(passage));
    if (lost !== undefined) {
      return fail(assistantError('assistant-changed-text', `The rewrite does not keep the quoted text "${lost}" word for word`, { text: lost }));
    }
    const blocked = this.#options.promptFilter(cleaned.text);
    if (blocked) return fail(outputBlocked(blocked.params?.category));
    return ok({ original, prompt: cleaned.text, cut: cleaned.cut });
  }

  /**
   * Up to four prompt suggestions for an image (any format an edit accepts; it is checked and re-encoded as an
   * edit's input is, then shrunk to assistant.imageMaxSide), written in `locale`. Suggestions the prompt filter
   * refuses are left out and counted; when every one is, the answer is `assistant-output-blocked`.
   */
  async describe(image: Uint8Array, locale: AssistantLocale, user: AssistantUser): Promise<Outcome<DescribedImage>> {
    const endpoint = this.#endpoint('describe');
    if (!endpoint) return fail(notConfigured());
    const cap = this.#outputCap;
    const reply = await this.#call({
      task: 'describe',
      user,
      timeoutMs: this.#config.describeTimeoutMs,
      endpoint,
      messages: async () => {
        const url = await imageForModel(image, this.#limits, this.#config.imageMaxSide, this.#options.inputCheck);
        return url.ok ? ok(describeMessages(url.value, locale, cap)) : url;
      },
      maxTokens: Math.min(4096, cap * MAX_SUGGESTIONS),
    });
    if (!reply.ok) return reply;

    const seen = new Set<string>();
    const candidates: string[] = [];
    for (const item of splitSuggestions(reply.value.content)) {
      const text = cleanPrompt(item, cap).text;
      const key = text.toLowerCase();
      if (text === '' || seen.has(key)) continue;
      seen.add(key);
      candidates.push(text);
      if (candidates.length === MAX_SUGGESTIONS) break;
    }
    if (candidates.length === 0) return fail(this.#badReply('describe', 'no prompts in the answer'));
    const refusals = candidates.map((text) => this.#options.promptFilter(text));
    const prompts = candidates.filter((_, i) => refusals[i] === undefined);
    if (prompts.length === 0) return fail(outputBlocked(refusals[0]?.params?.category));
    return ok({ prompts, withheld: candidates.length - prompts.length });
  }

  /** The effective output cap: a rewrite must also fit the draft path's prompt limit. */
  get #outputCap(): number {
    return Math.min(this.#config.maxOutputChars, this.#limits.maxPromptChars);
  }

  #endpoint(task: AssistantTask): ChatEndpoint | null {
    const { url, model, vision } = this.#config;
    if (url === null || model === null) return null;
    return task === 'describe' ? { url: vision.url ?? url, model: vision.model ?? model, apiKey: this.#visionKey } : { url, model, apiKey: this.#apiKey };
  }

  /** One call, refused once closed, and counted while in flight so close() can wait for its answer. */
  async #call(spec: CallSpec): Promise<Outcome<ChatReply>> {
    if (this.closed) return fail(shuttingDown());
    const call = this.#attempt(spec);
    this.#inFlight.add(call);
    try {
      return await call;
    } finally {
      this.#inFlight.delete(call);
    }
  }

  /**
   * One call under the caps, one deadline from the request to the answer (waiting for a slot included). `messages`
   * is built inside the slot, so an image is decoded and judged only once the call may run. close() ends it too.
   */
  async #attempt({ task, user, timeoutMs, endpoint, messages, maxTokens }: CallSpec): Promise<Outcome<ChatReply>> {
    const started = performance.now();
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#closing.signal]);
    const send = async (): Promise<Outcome<ChatReply>> => {
      const built = await messages();
      if (!built.ok) return built;
      return chatCompletion(endpoint, { messages: built.value, temperature: 0.7, maxTokens, signal, timeoutMs });
    };
    const gate = this.#config.sharesGpu ? this.#options.gate : undefined;
    let outcome: Outcome<ChatReply>;
    try {
      const admitted = await this.#limiter.run(`${user.platform}:${user.userId}`, () => (gate ? gate({ user, task, signal }, send) : send()), signal);
      outcome = admitted.ok
        ? admitted.value
        : fail(
            assistantError(
              'assistant-busy',
              admitted.error.scope === 'user'
                ? `${user.platform}:${user.userId} already has ${admitted.error.max} assistant request(s) in flight`
                : `${admitted.error.max} assistant requests are already waiting`,
              { scope: admitted.error.scope, max: admitted.error.max },
            ),
          );
    } catch (error) {
      const refused = gateRefusal(error);
      if (refused) return this.#logged(task, endpoint, started, fail(refused));
      if (!(error instanceof CallAborted)) throw error;
      const seconds = Math.round(timeoutMs / 100) / 10;
      outcome = this.closed
        ? fail(shuttingDown())
        : fail(assistantError('assistant-timeout', `The assistant at ${endpointUrl(endpoint.url)} did not answer within ${seconds} s`, { seconds }));
    }
    // The server's side of an aborted request (the connection it cut) is no failure of its own: the asker is told why.
    if (!outcome.ok && this.closed && /^assistant-(unreachable|timeout)$/.test(outcome.error.code)) outcome = fail(shuttingDown());
    return this.#logged(task, endpoint, started, outcome);
  }

  #logged(task: AssistantTask, endpoint: ChatEndpoint, started: number, outcome: Outcome<ChatReply>): Outcome<ChatReply> {
    const ms = Math.round(performance.now() - started);
    if (outcome.ok) {
      this.#options.log.debug({ assistant: task, model: endpoint.model, ms, finish: outcome.value.finishReason }, 'prompt assistant answered');
    } else {
      const serverSide = /^assistant-(unreachable|timeout|http-error|no-vision|bad-reply)$/.test(outcome.error.code);
      this.#options.log[serverSide ? 'warn' : 'debug']({ assistant: task, model: endpoint.model, ms, code: outcome.error.code, detail: outcome.error.message }, 'prompt assistant failed');
    }
    return outcome;
  }

  #badReply(task: AssistantTask, reason: string): AssistantError {
    const error = assistantError('assistant-bad-reply', `The assistant's answer to ${task} held nothing usable: ${reason}`, { reason });
    this.#options.log.warn({ assistant: task, code: error.code, detail: error.message }, 'prompt assistant failed');
    return error;
  }
}

const shuttingDown = (): AssistantError => engineError('shutting-down', 'The prompt assistant stopped: the bot is shutting down');

function outputBlocked(category: string | number | undefined): AssistantError {
  const message = `The prompt filter refused what the assistant wrote${category === undefined ? '' : ` (${category} term)`}`;
  return category === undefined ? assistantError('assistant-output-blocked', message) : assistantError('assistant-output-blocked', message, { category });
}

/** The EngineError a gate refused with (see AssistantGate), if that is what it threw. */
function gateRefusal(error: unknown): EngineError | undefined {
  const carried = typeof error === 'object' && error !== null && 'error' in error ? (error as { error: unknown }).error : undefined;
  return isEngineError(carried) ? carried : undefined;
}
