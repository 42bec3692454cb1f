import type { Logger } from '../../logging.ts';
import type { FetchPolicy } from './attachments.ts';
import type { CommandRequest, ImageSource, JobCommand, Locale, Who } from './command.ts';
import type { BotCore, ShownJob, SubmittedJob } from './core.ts';
import { INTERNAL_ERROR, type UserError } from './errors.ts';
import { renderAssisting } from './render.ts';
import type { Reply, ReplySink } from './reply.ts';
import { errorText } from './texts.ts';

/**
 * What an adapter implements so the core can run a command on its platform: the few things only the platform can
 * do. `D` is the adapter's delivery data (where the job's messages are), kept in the journal so a restart can go on.
 */
export interface ChatPort<D> {
  /** Where attachment URLs may be downloaded from; none → URL sources are refused. */
  readonly fetchPolicy?: FetchPolicy;
  /**
   * Says no to the asker alone (ephemeral where the platform allows), before anything was shown publicly. `error` is
   * what `text` says, for a port that words some refusals its own way (the terminal's English for the operator).
   */
  refuse(text: string, error?: UserError): Promise<void>;
  /**
   * Called once the command parsed, before the slow part (downloads, checks): a platform with a reply deadline
   * acknowledges here. After it, refusals go through `retract`.
   */
  acknowledge?(): Promise<void>;
  /**
   * Shows the job publicly, just before it is queued (or before the prompt assistant rewrites its prompt, or before a
   * describe answers: `shown.task`); its delivery data, or undefined when that failed (the port told the user).
   */
  open(shown: ShownJob): Promise<D | undefined>;
  /** Takes back whatever `acknowledge`/`open` showed (the delivery, once opened) and says why to the asker alone. */
  retract(text: string, delivery: D | undefined, error?: UserError): Promise<void>;
  /**
   * Renders one job's replies where `open` said: first an `assisting` reply while the prompt assistant works, when it
   * does, then the job's statuses and result (or describe's `suggestions`). Called once per opened card.
   */
  sink(delivery: D): ReplySink;
}

type Refused = { readonly kind: 'refused'; readonly error: UserError };

export type CommandOutcome = Refused | ({ readonly kind: 'queued' } & SubmittedJob);

export type DescribeOutcome = Refused | { readonly kind: 'described'; readonly reply: Extract<Reply, { kind: 'suggestions' }> };

/**
 * One job command from a platform, start to queue: parse → refuse, or acknowledge → prepare (downloads, checks) →
 * open (the public card) → [the prompt assistant's rewrite, shown on the card as "Enhancing the prompt…"] → submit.
 * Every refusal is one sentence in the asker's language, shown the way the moment allows (a failed rewrite takes the
 * card back, as does shutdown, which ends the rewrite and waits for the card to go); anything unexpected is logged and
 * told as such, never left unanswered.
 */
export async function runCommand<D>(
  core: BotCore,
  port: ChatPort<D>,
  command: JobCommand,
  who: Who,
  log: Logger,
): Promise<CommandOutcome> {
  const answer = new Answer(port, who.actor.locale);
  // Set while the prompt assistant holds the command up: shutdown waits for it to queue or take its card back.
  let assisted: (() => void) | undefined;
  try {
    const parsed = core.parse(command, port.fetchPolicy);
    if (!parsed.ok) return await answer.refuse(parsed.error);
    await answer.acknowledge();
    const prepared = await core.prepare(parsed.value, who, port.fetchPolicy);
    if (!prepared.ok) return await answer.refuse(prepared.error);
    if (prepared.value.enhance) assisted = core.assistant.working();
    const card = await answer.open(prepared.value.shown);
    if (!card) return { kind: 'refused', error: INTERNAL_ERROR };
    const { delivery, sink } = card;
    let ready = prepared.value;
    if (ready.enhance) {
      await showAssisting(sink, renderAssisting(answer.locale, 'enhance', ready.enhance.original), log);
      const enhanced = await core.enhance(ready);
      if (!enhanced.ok) return await answer.refuse(enhanced.error);
      ready = enhanced.value;
    }
    const submitted = await core.submit(ready, delivery, sink);
    if (!submitted.ok) return await answer.refuse(submitted.error);
    return { kind: 'queued', ...submitted.value };
  } catch (error) {
    return await answer.failed(error, log, 'command', { command: command.kind });
  } finally {
    assisted?.();
  }
}

/**
 * Describe, start to answer: refuse (no assistant, the attachment's host or size), or acknowledge → open (a card) →
 * "Describing the image…" → the suggestions with their Draft buttons on that card. A failure takes the card back and
 * says why to the asker alone, as a refused command does; shutdown ends the describe and waits for that.
 */
export async function runDescribe<D>(core: BotCore, port: ChatPort<D>, image: ImageSource, who: Who, log: Logger): Promise<DescribeOutcome> {
  const answer = new Answer(port, who.actor.locale);
  let assisted: (() => void) | undefined;
  try {
    const refusal = core.describeRefusal(image, port.fetchPolicy);
    if (refusal) return await answer.refuse(refusal);
    assisted = core.assistant.working();
    await answer.acknowledge();
    const card = await answer.open({ role: 'draft', prompt: '', locale: answer.locale, task: 'describe' });
    if (!card) return { kind: 'refused', error: INTERNAL_ERROR };
    const { sink } = card;
    await showAssisting(sink, renderAssisting(answer.locale, 'describe', ''), log);
    const described = await core.describe(image, who, port.fetchPolicy);
    if (!described.ok) return await answer.refuse(described.error);
    await sink(described.value);
    return { kind: 'described', reply: described.value };
  } catch (error) {
    return await answer.failed(error, log, 'describe', {});
  } finally {
    assisted?.();
  }
}

/**
 * One request's answer on a port: a refusal goes to the asker alone before anything was acknowledged or shown, and
 * takes back what was shown after; `open` shows the card and gives its sink.
 */
class Answer<D> {
  #acknowledged = false;
  #delivery: D | undefined;

  constructor(
    readonly port: ChatPort<D>,
    readonly locale: Locale,
  ) {}

  async acknowledge(): Promise<void> {
    if (!this.port.acknowledge) return;
    await this.port.acknowledge();
    this.#acknowledged = true;
  }

  /** The card shown and its sink, or undefined when the port could not show it (the port told the user). */
  async open(shown: ShownJob): Promise<{ readonly delivery: D; readonly sink: ReplySink } | undefined> {
    const delivery = await this.port.open(shown);
    this.#delivery = delivery;
    return delivery === undefined ? undefined : { delivery, sink: this.port.sink(delivery) };
  }

  async refuse(error: UserError): Promise<Refused> {
    const text = errorText(this.locale, error);
    await (this.#acknowledged || this.#delivery !== undefined ? this.port.retract(text, this.#delivery, error) : this.port.refuse(text, error));
    return { kind: 'refused', error };
  }

  /** Anything unexpected: logged, and the asker told as far as that still works. */
  async failed(error: unknown, log: Logger, what: 'command' | 'describe', detail: Record<string, unknown>): Promise<Refused> {
    log.error({ err: error, ...detail }, `${what} failed`);
    await this.refuse(INTERNAL_ERROR).catch((failure: unknown) => log.warn({ err: failure }, `could not tell the user about a failed ${what}`));
    return { kind: 'refused', error: INTERNAL_ERROR };
  }
}

/** The assistant's status is only words on the card: a platform that cannot show them now still gets the answer. */
async function showAssisting(sink: ReplySink, reply: Reply, log: Logger): Promise<void> {
  try {
    await sink(reply);
  } catch (error) {
    log.warn({ err: error, kind: reply.kind }, 'could not show the prompt assistant at work');
  }
}
