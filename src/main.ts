import { fileURLToPath } from 'node:url';
import type { Adapter } from './bots/adapter.ts';
import { startDiscordAdapter } from './bots/discord/index.ts';
import { startSlackAdapter } from './bots/slack/index.ts';
import { startStudio } from './bots/studio/index.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger, type Logger } from './logging.ts';
import { startRuntime, type Runtime } from './runtime.ts';
import { stopOnSignals } from './shutdown.ts';

/**
 * zimage-bot: load the configuration, start the one engine (queue, workers, moderation), start every platform whose
 * token is set — the local studio when none is — recover the jobs a previous process left unfinished, and drain on
 * SIGTERM.
 */
interface PlatformEntry {
  readonly name: string;
  readonly enabled: (config: Readonly<Config>) => boolean;
  readonly start: (runtime: Runtime) => Promise<Adapter & { readonly url?: string }>;
}

/** The platforms, as an explicit list (no folder scanning). */
const PLATFORMS: readonly PlatformEntry[] = [
  { name: 'discord', enabled: (c) => c.discord.token !== null, start: startDiscordAdapter },
  { name: 'slack', enabled: (c) => c.slack.botToken !== null, start: startSlackAdapter },
  { name: 'studio', enabled: (c) => c.discord.token === null && c.slack.botToken === null, start: startStudio },
];

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    config = loadConfig({ root: fileURLToPath(new URL('..', import.meta.url)) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = createLogger(config.log.level, undefined, process.stdout.isTTY === true);
  const runtime = await startOrExit(() => startRuntime(config, log), log, 'the engine');
  const adapters = new Map<string, Adapter>();
  for (const platform of PLATFORMS.filter((p) => p.enabled(config))) {
    const adapter = await startOrExit(() => platform.start(runtime), log, platform.name, runtime);
    adapters.set(adapter.platform, adapter);
    log.info({ platform: adapter.platform, ...(adapter.url ? { url: adapter.url } : {}) }, adapter.url ? `studio open at ${adapter.url}` : 'platform connected');
  }

  const { failed } = runtime.engine.recover(
    (record) => adapters.get(record.owner.platform)?.resume(record) ?? { resume: false, reason: `the ${record.owner.platform} adapter is not running` },
  );
  for (const record of failed) {
    await adapters
      .get(record.owner.platform)
      ?.reportLost(record)
      .catch((error: unknown) => log.warn({ job: record.id, err: error }, 'could not report a lost job'));
  }

  stopOnSignals(async () => {
    runtime.core.pause();
    // Its first step ends the prompt assistant's requests and waits until their askers are told, through the
    // adapters: so these stop last.
    await runtime.close();
    for (const adapter of adapters.values()) await adapter.stop();
  }, log);
}

/** A start-up failure is one clear line and exit 1, not a stack trace. */
async function startOrExit<T>(start: () => Promise<T>, log: Logger, what: string, runtime?: Runtime): Promise<T> {
  try {
    return await start();
  } catch (error) {
    log.fatal({ err: error }, `could not start ${what}`);
    process.stderr.write(`Could not start ${what}: ${(error as Error).message}\n`);
    await runtime?.close().catch(() => undefined);
    process.exit(1);
  }
}

await main();
