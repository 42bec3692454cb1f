import type { Actor, CommandRequest, Place } from '../core/command.ts';
import type { CoreError } from '../core/errors.ts';
import { errorText } from '../core/texts.ts';
import type { Runtime } from '../../runtime.ts';
import type { DiscordDelivery } from './delivery.ts';
import { fetchPolicy, precheckAttachment, resolveImage, type ImageRef } from './images.ts';
import { forPrecheck, imageRefsOf, type PendingCommand } from './intent.ts';
import { JobMessage } from './job-message.ts';
import { failureOf, type DiscordTransport } from './transport.ts';

/**
 * How one request is answered: privately before it is acknowledged, publicly after. An interaction defers and
 * can take its placeholder back; a mention can only reply in the channel.
 */
export interface Responder {
  /** Refuse before anything public happened (ephemeral where the platform allows). */
  refuse(text: string): Promise<void>;
  /** Acknowledge in time (defer) and say where the job's messages will go. */
  acknowledge(): Promise<DiscordDelivery>;
  /** Refuse after acknowledging: remove the public placeholder, say why privately. */
  retract(text: string): Promise<void>;
}

export interface JobRunnerDeps {
  readonly runtime: Runtime;
  readonly transport: DiscordTransport;
}

type Built = { readonly ok: true; readonly command: CommandRequest } | { readonly ok: false; readonly error: CoreError };

async function build(command: PendingCommand, resolve: (ref: ImageRef) => ReturnType<typeof resolveImage>): Promise<Built> {
  switch (command.kind) {
    case 'refine': {
      if (!command.image) return { ok: true, command: { kind: 'refine', text: command.text, options: command.options } };
      const image = await resolve(command.image);
      return image.ok ? { ok: true, command: { kind: 'refine', text: command.text, options: command.options, image: image.source } } : image;
    }
    case 'edit': {
      const image = await resolve(command.image);
      if (!image.ok) return image;
      const mask = command.mask ? await resolve(command.mask) : undefined;
      if (mask && !mask.ok) return mask;
      return { ok: true, command: { kind: 'edit', text: command.text, options: command.options, image: image.source, ...(mask ? { mask: mask.source } : {}) } };
    }
    default:
      return { ok: true, command };
  }
}

/**
 * One job from request to status card: the synchronous checks (grammar, attachment host and declared size) refuse
 * before acknowledging, so those refusals are private and immediate; then acknowledge, download, submit. The core
 * renders the job's life into a JobMessage from there on.
 */
export async function runJob(
  deps: JobRunnerDeps,
  command: PendingCommand,
  who: { readonly actor: Actor; readonly place: Place },
  responder: Responder,
  inputCap: number,
): Promise<void> {
  const { core, config, log } = deps.runtime;
  const locale = who.actor.locale;
  const early = core.precheck(forPrecheck(command), who.actor);
  if (early) return responder.refuse(early.text);
  const policy = fetchPolicy(config, Math.min(config.limits.maxInputBytes, inputCap));
  for (const ref of imageRefsOf(command)) {
    const problem = ref.kind === 'upload' ? precheckAttachment(ref.attachment, policy) : undefined;
    if (problem) return responder.refuse(errorText(locale, problem));
  }
  const delivery = await responder.acknowledge();
  try {
    const built = await build(command, (ref) => resolveImage(ref, policy));
    if (!built.ok) return await responder.retract(errorText(locale, built.error));
    const message = new JobMessage({ transport: deps.transport, delivery, locale, log });
    const outcome = await core.run(built.command, who.actor, who.place, message.sink, delivery);
    if (outcome.kind === 'refused') return await responder.retract(outcome.reply.text);
    if (outcome.kind === 'queued') log.debug({ job: outcome.jobId, kind: command.kind }, 'discord job queued');
  } catch (error) {
    // Never leave a public "thinking…" placeholder behind: take it back and say so.
    log.error({ err: failureOf(error), kind: command.kind }, 'discord job could not be started');
    await responder.retract(errorText(locale, { code: 'internal', message: 'internal' }));
  }
}
