import { Events, RESTEvents, type Client } from 'discord.js';
import type { Adapter } from '../adapter.ts';
import { errorText } from '../core/texts.ts';
import type { JobRecord } from '../../engine/history.ts';
import type { ResumeDecision } from '../../engine/recovery.ts';
import { scrubSecrets } from '../../logging.ts';
import type { Runtime } from '../../runtime.ts';
import { createDiscordClient } from './client.ts';
import { COMMANDS } from './commands/index.ts';
import { deliveryOf, withoutToken } from './delivery.ts';
import { DiscordBot } from './discord-bot.ts';
import { EditForms } from './edit-forms.ts';
import { JobMessage } from './job-message.ts';
import { jobMessageSink, portDeps } from './ports.ts';
import { commandDefinitions, registerCommands } from './register.ts';
import { failureOf, restTransport, type DiscordTransport } from './transport.ts';

/**
 * The Discord adapter as main.ts sees it: logged in, commands registered once, interactions and mentions routed to
 * the bot; jobs found unfinished at start-up continue their status card; stop closes the gateway.
 */
export class DiscordAdapter implements Adapter {
  readonly platform = 'discord';
  readonly #runtime: Runtime;
  readonly #client: Client;
  readonly #transport: DiscordTransport;
  readonly #forms = new EditForms();
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
    // Tokens left in the journal by jobs of an earlier process, long expired: no file should keep them.
    const dropped = runtime.core.rewriteDeliveries('discord', (data) => withoutToken(data, Date.now()));
    if (dropped > 0) log.info({ jobs: dropped }, 'dropped expired interaction tokens from the journal');
    if (config.discord.registerCommands) await adapter.#register();
    return adapter;
  }

  #listen(): void {
    const { log } = this.#runtime;
    const bot = new DiscordBot({
      runtime: this.#runtime,
      transport: this.#transport,
      commands: COMMANDS,
      forms: this.#forms,
      botUserId: () => this.#client.user?.id ?? '',
    });
    this.#client.on(Events.InteractionCreate, (interaction) => void bot.onInteraction(interaction));
    this.#client.on(Events.MessageCreate, (message) => void bot.onMessage(message));
    this.#client.on(Events.MessageReactionAdd, (reaction, user) => void bot.onReaction(reaction, user, true));
    this.#client.on(Events.MessageReactionRemove, (reaction, user) => void bot.onReaction(reaction, user, false));
    this.#client.on(Events.Error, (error) => log.error({ err: failureOf(error) }, 'discord client error'));
    this.#client.on(Events.Warn, (message) => log.warn({ detail: scrubSecrets(message) }, 'discord client warning'));
    this.#client.rest.on(RESTEvents.RateLimited, (info) =>
      log.warn({ route: scrubSecrets(info.route), method: info.method, retryAfterMs: info.retryAfter, global: info.global, scope: info.scope }, 'discord rate limit: waiting'),
    );
  }

  async #register(): Promise<void> {
    const { config, core, log } = this.#runtime;
    const applicationId = this.#client.application?.id;
    if (!applicationId) {
      log.error('discord: no application id after login; commands not registered');
      return;
    }
    try {
      const registration = await registerCommands(this.#client.rest, applicationId, config.discord.guildId, commandDefinitions({ config, styles: core.styles, sampling: (role) => core.sampling(role) }));
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
    const sink = jobMessageSink(portDeps(this.#runtime, this.#transport), found.delivery, found.locale);
    return { resume: true, attach: (handle) => void this.#runtime.core.follow(handle, sink) };
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

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#forms.clear();
    await this.#client.destroy();
  }
}
