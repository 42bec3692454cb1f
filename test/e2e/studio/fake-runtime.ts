import { moderationPlace } from '../../../src/bots/core/command.ts';
import { BotCore } from '../../../src/bots/core/core.ts';
import type { Config } from '../../../src/config/schema.ts';
import type { DeepPartial } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/logging.ts';
import type { NsfwClassifier } from '../../../src/moderation/nsfw-classifier.ts';
import { policyFor } from '../../../src/moderation/policy.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { FakeModerator, startFakeEngine, testConfig } from '../../support/fakes.ts';

/**
 * A Runtime over the real engine and core with the fake pipeline and a fake moderator: for the studio's server
 * tests, which exercise HTTP, WebSocket and message handling rather than images, and start in a fraction of a
 * second. (The browser tests use the real runtime: test/e2e/support/test-runtime.ts.)
 */
export async function startFakeRuntime(overrides: DeepPartial<Config> = {}): Promise<Runtime> {
  const config = testConfig({ studio: { port: 0 }, ...overrides } as DeepPartial<Config>);
  const engine = await startFakeEngine({ config });
  const log = createLogger('silent');
  const core = new BotCore({ engine, policyFor: (place) => policyFor(config.moderation, moderationPlace(place)), log, statusIntervalMs: 0 });
  return {
    config,
    log,
    engine,
    core,
    classifier: new FakeModerator() as unknown as NsfwClassifier,
    close: () => engine.shutdown(),
  };
}
