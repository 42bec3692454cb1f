import type { Logger } from '../../logging.ts';
import type { FetchPolicy } from './attachments.ts';
import type { CommandRequest, JobCommand, Who } from './command.ts';
import type { BotCore, ShownJob, SubmittedJob } from './core.ts';
import { INTERNAL_ERROR, type UserError } from './errors.ts';
import type { ReplySink } from './reply.ts';
import { errorText } from './texts.ts';

/**
 * What an adapter implements so the core can run a command on its platform: the few things only the platform can
 * do. `D` is the adapter's delivery data (where the job's messages are), kept in the journal so a restart can go on.
 */
export interface ChatPort<D> {
  /** Where attachment URLs may be downloaded from; none → URL sources are refused. */
  readonly fetchPolicy?: FetchPolicy;
  /** Says no to the asker alone (ephemeral where the platform allows), before anything was shown publicly. */
  refuse(text: string): Promise<void>;
  /**
   * Called once the command parsed, before the slow part (downloads, checks): a platform with a reply deadline
   * acknowledges here. After it, refusals go through `retract`.
   */
  acknowledge?(): Promise<void>;
  /** Shows the job publicly, just before it is queued; its delivery data, or undefined when that failed (the port told the user). */
  open(shown: ShownJob): Promise<D | undefined>;
  /** Takes back whatever `acknowledge`/`open` showed (the delivery, once opened) and says why to the asker alone. */
  retract(text: string, delivery: D | undefined): Promise<void>;
  /** Renders one job's replies where `open` said. */
  sink(delivery: D): ReplySink;
}

export type CommandOutcome = { readonly kind: 'refused'; readonly error: UserError } | ({ readonly kind: 'queued' } & SubmittedJob);

/**
 * One job command from a platform, start to queue: parse → refuse, or acknowledge → prepare (downloads, checks) →
 * open (the public card) → submit. Every refusal is one sentence in the asker's language, shown the way the moment
 * allows; anything unexpected is logged and told as such, never left unanswered.
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
  const refuse = async (error: UserError): Promise<CommandOutcome> => {
    const text = errorText(locale, error);
    await (acknowledged || delivery !== undefined ? port.retract(text, delivery) : port.refuse(text));
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
    delivery = await port.open(prepared.value.shown);
    if (delivery === undefined) return { kind: 'refused', error: INTERNAL_ERROR };
    const submitted = await core.submit(prepared.value, delivery, port.sink(delivery));
    if (!submitted.ok) return await refuse(submitted.error);
    return { kind: 'queued', ...submitted.value };
  } catch (error) {
    log.error({ err: error, command: command.kind }, 'command failed');
    await refuse(INTERNAL_ERROR).catch((failure: unknown) => log.warn({ err: failure }, 'could not tell the user about a failed command'));
    return { kind: 'refused', error: INTERNAL_ERROR };
  }
}
