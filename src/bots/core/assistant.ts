import { randomBytes } from 'node:crypto';
import type { Assistant, EnhancedPrompt } from '../../assistant/assistant.ts';
import { ASSISTANT_SETUP_HINT, notConfigured } from '../../assistant/errors.ts';
import type { Engine } from '../../engine/engine.ts';
import type { JobRecord, JobScope } from '../../engine/history.ts';
import { expandPromptMatrix } from '../../engine/prompt/matrix.ts';
import { fail, ok, type Result } from '../../result.ts';
import { ownsOrAdministers, scopeOf, type Who } from './command.ts';
import type { UserError } from './errors.ts';
import { readSettings } from './settings.ts';

type Resolved<T> = Result<T, UserError>;

/** Describe's answer, stored: the Draft buttons name the set, so they work after a restart. */
export interface SuggestionSet {
  readonly id: string;
  readonly prompts: readonly string[];
  /** Suggestions the prompt filter refused, left out. */
  readonly withheld: number;
}

/** What the journal keeps of a set (the core's value; the engine stores it as it is). */
interface StoredSet {
  readonly v: 1;
  readonly prompts: readonly string[];
  readonly owner: { readonly platform: string; readonly userId: string };
  readonly scope: JobScope;
}

export interface ChatAssistantDeps {
  /** Absent: no assistant was built (as when it is not configured). */
  readonly assistant: Assistant | undefined;
  readonly engine: Engine;
}

/**
 * A prompt that would expand into several (a prompt matrix, or a malformed one the engine will refuse). Asked to stop
 * past one prompt, the expansion answers after the first group with two alternatives: never the 2^n prompts of n
 * groups, which a short prompt can make more than memory holds.
 */
export function isPromptMatrix(prompt: string): boolean {
  return !expandPromptMatrix(prompt, 1).ok;
}

/** How long close() waits, by default, for the flows the assistant held up to tell their askers (a platform call each). */
const CLOSE_GRACE_MS = 10_000;

const newSetId = (): string => randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').slice(0, 10);

/**
 * The prompt assistant as the chat core uses it: whether it is there, a prompt rewritten for someone, an image turned
 * into stored suggestions, and a stored suggestion read back for its Draft button. Every refusal is a UserError, so a
 * platform says it like any other; without an assistant every call is refused with `assistant-not-configured`.
 */
export class ChatAssistant {
  readonly #deps: ChatAssistantDeps;
  /** Flows (a command's rewrite, a describe) between working() and its done(). */
  #working = 0;
  #whenIdle: (() => void)[] = [];

  constructor(deps: ChatAssistantDeps) {
    this.#deps = deps;
  }

  /** The features exist: --enhance, Enhance, /describe. False: none is offered, and each is refused with the setup line. */
  get configured(): boolean {
    return this.#deps.assistant?.configured === true;
  }

  /** One English line on how to turn the assistant on (the terminal's refusal). */
  get setupHint(): string {
    return this.#deps.assistant?.setupHint ?? ASSISTANT_SETUP_HINT;
  }

  /** Whether a result offers Enhance: the assistant is there, and the job drew one prompt from words (not an upscale). */
  canEnhance(record: Pick<JobRecord, 'spec'>): boolean {
    return this.configured && record.spec.upscale === undefined && !isPromptMatrix(record.spec.userPrompt);
  }

  /** `prompt` rewritten by the assistant in the asker's language, or why not. */
  async enhance(prompt: string, who: Who): Promise<Resolved<EnhancedPrompt>> {
    const assistant = this.#deps.assistant;
    if (!assistant?.configured) return fail(notConfigured());
    return assistant.enhance(prompt, who.actor.locale, { platform: who.actor.platform, userId: who.actor.userId });
  }

  /**
   * A flow that waits on the assistant says so from before its card opens until its asker has the answer (the job
   * queued, the suggestions shown, the card taken back): close() waits for it. Call the returned function once done.
   */
  working(): () => void {
    this.#working += 1;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#working -= 1;
      if (this.#working === 0) for (const wake of this.#whenIdle.splice(0)) wake();
    };
  }

  /**
   * For shutdown, before the platforms stop: ends every assistant call in flight (each flow then takes its card back
   * and tells its asker the bot is restarting), refuses later ones the same way, and waits up to `graceMs` for the
   * flows to be done. Resolves with how many were still not done (0: every asker was told).
   */
  async close(graceMs = CLOSE_GRACE_MS): Promise<number> {
    const idle = this.#working === 0 ? Promise.resolve() : new Promise<void>((wake) => this.#whenIdle.push(wake));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
      timer.unref();
    });
    try {
      await Promise.race([Promise.all([this.#deps.assistant?.close(), idle]), late]);
    } finally {
      clearTimeout(timer);
    }
    return this.#working;
  }

  /** Suggestions for an image, stored under a new set id for their Draft buttons. */
  async describe(image: Uint8Array, who: Who): Promise<Resolved<SuggestionSet>> {
    const assistant = this.#deps.assistant;
    if (!assistant?.configured) return fail(notConfigured());
    const described = await assistant.describe(image, who.actor.locale, { platform: who.actor.platform, userId: who.actor.userId });
    if (!described.ok) return described;
    const id = newSetId();
    const value: StoredSet = { v: 1, prompts: described.value.prompts, owner: { platform: who.actor.platform, userId: who.actor.userId }, scope: scopeOf(who.place) };
    const saved = this.#deps.engine.saveSuggestions(id, value);
    if (!saved.ok) return saved;
    return ok({ id, prompts: described.value.prompts, withheld: described.value.withheld });
  }

  /**
   * Suggestion `index` of a stored set, for a Draft press by `who`: refused where the set's channel keeps presses to
   * whoever asked (admins excepted), as a result's Refine is.
   */
  suggestion(setId: string, index: number, who: Who): Resolved<string> {
    const stored = readSet(this.#deps.engine.team.suggestions(setId));
    const prompt = stored?.prompts[index];
    if (!stored || prompt === undefined) return fail({ code: 'expired-suggestion' });
    if (!ownsOrAdministers(stored, who)) {
      const channel = readSettings(this.#deps.engine.team.settings({ kind: 'channel', scope: stored.scope }));
      if (channel.othersMayPress === false) return fail({ code: 'others-may-not-press' });
    }
    return ok(prompt);
  }
}

/** A stored set, if it is one this release wrote. */
function readSet(value: unknown): StoredSet | undefined {
  const set = value as Partial<StoredSet> | null | undefined;
  if (!set || set.v !== 1 || !Array.isArray(set.prompts) || !set.prompts.every((p) => typeof p === 'string')) return undefined;
  if (typeof set.owner?.platform !== 'string' || typeof set.owner.userId !== 'string' || typeof set.scope?.platform !== 'string' || typeof set.scope.channel !== 'string') return undefined;
  return set as StoredSet;
}
