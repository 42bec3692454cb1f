import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerFromConfig } from '../src/bots/discord/register.ts';
import { ConfigError, loadConfig } from '../src/config/load.ts';
import { modelDirs, modelInfo } from '../src/engine/model/model-info.ts';
import { StyleCatalog } from '../src/engine/prompt/styles.ts';
import { samplingSettings } from '../src/engine/sampling-settings.ts';
import { createLogger } from '../src/logging.ts';

/**
 * `npm run register`: registers the Discord commands (globally, or to DISCORD_GUILD_ID) and exits. Start-up does
 * the same once; this is for deploying command changes without restarting the bot, or before its first start.
 */
const root = fileURLToPath(new URL('..', import.meta.url));

try {
  const config = loadConfig({ root });
  const log = createLogger(config.log.level === 'silent' ? 'info' : config.log.level);
  const dirs = modelDirs(config);
  const styles = StyleCatalog.fromFile(join(root, 'config/styles.yaml'));
  await registerFromConfig({ config, styles, sampling: (role) => samplingSettings(role, config.profiles[role], modelInfo(dirs[role])) }, log);
} catch (error) {
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}
