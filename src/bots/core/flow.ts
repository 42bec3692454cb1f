import type { Logger } from '../../logging.ts';
import type { FetchPolicy } from './attachments.ts';
import type { CommandRequest, ImageSource, JobCommand, Who } from './command.ts';
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

export type CommandOutcome = { readonly kind: 'refused'; readonly error: UserError } | ({ readonly kind: 'queued' } & SubmittedJob);

export type DescribeOutcome = { readonly kind: 'refused'; readonly error: UserError } | { readonly kind: 'described'; readonly reply: Extract<Reply, { kind: 'suggestions' }> };

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
  const locale = who.actor.locale;
  let acknowledged = false;
  let delivery: D | undefined;
  // Set while the prompt assistant holds the command up: shutdown waits for it to queue or take its card back.
  let assisted: (() => void) | undefined;
  const refuse = async (error: UserError): Promise<CommandOutcome> => {
    const text = errorText(locale, error);
    await (acknowledged || delivery !== undefined ? port.retract(text, delivery, error) : port.refuse(text, error));
    return { kind: 'refused', error };
  };
  try {
    const parsed = core.parse(command, port.fetchPolicy);
    if (!parsed.ok) return await refuse(parsed.error);
    if (port.acknowledge) {
      await port.acknowledge();
      acknowledged = true;
    }
    const prepared = await core.prepare(parsed.value, who, port.fetchPolicy);
    if (!prepared.ok) return await refuse(prepared.error);
    if (prepared.value.enhance) assisted = core.assistant.working();
    delivery = await port.open(prepared.value.shown);
    if (delivery === undefined) return { kind: 'refused', error: INTERNAL_ERROR };
    const sink = port.sink(delivery);
    let ready = prepared.value;
    if (ready.enhance) {
      await showAssisting(sink, renderAssisting(locale, 'enhance', ready.enhance.original), log);
      const enhanced = await core.enhance(ready);
      if (!enhanced.ok) return await refuse(enhanced.error);
      ready = enhanced.value;
    }
    const submitted = await core.submit(ready, delivery, sink);
    if (!submitted.ok) return await refuse(submitted.error);
    return { kind: 'queued', ...submitted.value };
  } catch (error) {
    log.error({ err: error, command: command.kind }, 'command failed');
    await refuse(INTERNAL_ERROR).catch((failure: unknown) => log.warn({ err: failure }, 'could not tell the user about a failed command'));
    return { kind: 'refused', error: INTERNAL_ERROR };
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
  const locale = who.actor.locale;
  let acknowledged = false;
  let delivery: D | undefined;
  let assisted: (() => void) | undefined;
  const refuse = async (error: UserError): Promise<DescribeOutcome> => {
    const text = errorText(locale, error);
    await (acknowledged || delivery !== undefined ? port.retract(text, delivery, error) : port.refuse(text, error));
    return { kind: 'refused', error };
  };
  try {
    const refusal = core.describeRefusal(image, port.fetchPolicy);
    if (refusal) return await refuse(refusal);
    assisted = core.assistant.working();
    if (port.acknowledge) {
      await port.acknowledge();
      acknowledged = true;
    }
    delivery = await port.open({ role: 'draft', prompt: '', locale, task: 'describe' });
    if (delivery === undefined) return { kind: 'refused', error: INTERNAL_ERROR };
    const sink = port.sink(delivery);
    await showAssisting(sink, renderAssisting(locale, 'describe', ''), log);
    const described = await core.describe(image, who, port.fetchPolicy);
    if (!described.ok) return await refuse(described.error);
    await sink(described.value);
    return { kind: 'described', reply: described.value };
  } catch (error) {
    log.error({ err: error }, 'describe failed');
    await refuse(INTERNAL_ERROR).catch((failure: unknown) => log.warn({ err: failure }, 'could not tell the user about a failed describe'));
    return { kind: 'refused', error: INTERNAL_ERROR };
  } finally {
    assisted?.();
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
