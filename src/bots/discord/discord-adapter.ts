import { Events, RESTEvents, type Client } from 'discord.js';
import type { Adapter } from '../adapter.ts';
import { errorText } from '../core/texts.ts';
import type { ResumeDecision } from '../../engine/engine.ts';
import type { JobRecord } from '../../engine/journal.ts';
import type { Runtime } from '../../runtime.ts';
import { createDiscordClient } from './client.ts';
import { COMMANDS } from './commands/index.ts';
import { deliveryOf } from './delivery.ts';
import { Dispatcher } from './dispatcher.ts';
import { EditForms } from './edit-forms.ts';
import { JobMessage } from './job-message.ts';
import { commandDefinitions, registerCommands } from './register.ts';
import { failureOf, restTransport, scrubRoute, type DiscordTransport } from './transport.ts';

/**
 * The Discord adapter as main.ts sees it: logged in, commands registered once, interactions and mentions routed to
 * the dispatcher; jobs found unfinished at start-up continue their status card; stop closes the gateway.
 */
export class DiscordAdapter implements Adapter {
  readonly platform = 'discord';
  readonly #runtime: Runtime;
  readonly #client: Client;
  readonly #transport: DiscordTransport;
  readonly #forms = new EditForms();
  #paused = false;
  #stopped = false;

  private constructor(runtime: Runtime, client: Client) {
    this.#runtime = runtime;
    this.#client = client;
    this.#transport = restTransport(client.rest);
  }

  /** Logs in, waits for the gateway to be ready, registers the commands (once, here, not on every reconnect). */
  static async start(runtime: Runtime): Promise<DiscordAdapter> {
    const { config, log } = runtime;
    const token = config.discord.token;
    if (!token) throw new Error('DISCORD_TOKEN is not set: the Discord adapter needs the bot token');
    const client = createDiscordClient(config);
    const adapter = new DiscordAdapter(runtime, client);
    adapter.#listen();
    // Subscribed before login: ClientReady can fire before login() resolves.
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    try {
      await client.login(token);
      await ready;
    } catch (error) {
      await client.destroy();
      throw new Error(`Discord login failed: ${failureOf(error).message}`);
    }
    log.info({ user: client.user?.tag, guilds: client.guilds.cache.size }, 'discord connected');
    if (config.discord.registerCommands) await adapter.#register();
    return adapter;
  }

  #listen(): void {
    const { log } = this.#runtime;
    const dispatcher = new Dispatcher({
      runtime: this.#runtime,
      transport: this.#transport,
      commands: COMMANDS,
      forms: this.#forms,
      botUserId: () => this.#client.user?.id ?? '',
      isPaused: () => this.#paused,
    });
    this.#client.on(Events.InteractionCreate, (interaction) => void dispatcher.onInteraction(interaction));
    this.#client.on(Events.MessageCreate, (message) => void dispatcher.onMessage(message));
    this.#client.on(Events.Error, (error) => log.error({ err: failureOf(error) }, 'discord client error'));
    this.#client.on(Events.Warn, (message) => log.warn({ detail: scrubRoute(message) }, 'discord client warning'));
    this.#client.rest.on(RESTEvents.RateLimited, (info) =>
      log.warn({ route: scrubRoute(info.route), method: info.method, retryAfterMs: info.retryAfter, global: info.global, scope: info.scope }, 'discord rate limit: waiting'),
    );
  }

  async #register(): Promise<void> {
    const { config, engine, log } = this.#runtime;
    const applicationId = this.#client.application?.id;
    if (!applicationId) {
      log.error('discord: no application id after login; commands not registered');
      return;
    }
    try {
      const registration = await registerCommands(this.#client.rest, applicationId, config.discord.guildId, commandDefinitions(config, engine.styles));
      log.info({ ...registration, guild: config.discord.guildId }, 'discord commands registered');
    } catch (error) {
      // The commands registered last time keep working; say so rather than refusing to start.
      log.error({ err: failureOf(error) }, 'discord command registration failed; the previous registration stays in effect');
    }
  }

  resume(record: JobRecord): ResumeDecision {
    if (this.#stopped) return { resume: false, reason: 'the Discord adapter is stopped' };
    const found = deliveryOf(record);
    if (!found) return { resume: false, reason: 'no Discord delivery data' };
    const message = new JobMessage({ transport: this.#transport, delivery: found.delivery, locale: found.locale, log: this.#runtime.log });
    return { resume: true, attach: (handle) => void this.#runtime.core.follow(handle, message.sink) };
  }

  async reportLost(record: JobRecord): Promise<void> {
    const found = deliveryOf(record);
    if (!found) {
      this.#runtime.log.warn({ job: record.id }, 'lost discord job has no delivery data; nobody can be told');
      return;
    }
    const error = record.error ?? { code: 'lost-on-restart' as const, message: 'lost', params: { reason: '-' } };
    const message = new JobMessage({ transport: this.#transport, delivery: found.delivery, locale: found.locale, log: this.#runtime.log });
    try {
      await message.show({ kind: 'final', jobId: record.id, outcome: 'failed', text: errorText(found.locale, error) });
    } catch (failure) {
      this.#runtime.log.warn({ job: record.id, err: failureOf(failure) }, 'could not tell the user about a lost job');
    }
  }

  async pause(): Promise<void> {
    this.#paused = true;
  }

  async stop(): Promise<void> {
    this.#paused = true;
    this.#stopped = true;
    this.#forms.clear();
    await this.#client.destroy();
  }
}
