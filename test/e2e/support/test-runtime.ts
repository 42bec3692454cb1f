import { join } from 'node:path';
import type { Config } from '../../../src/config/schema.ts';
import type { DeepPartial } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/logging.ts';
import { startRuntime, type Runtime } from '../../../src/runtime.ts';
import { tempDir, testConfig } from '../../support/fakes.ts';
import { writeFixtureModel, type FixtureOptions } from '../../support/fixtures/models.ts';

/**
 * The real runtime (engine, Z-Image pipelines on onnxruntime-node, real nsfwjs, SQLite journal) for end-to-end
 * tests, on a fixture model so a job takes milliseconds: the oracle transformer draws flat colours from the prompt.
 */
export interface TestRuntimeOptions {
  readonly model?: FixtureOptions | 'mini';
  readonly config?: DeepPartial<Config>;
  readonly statusIntervalMs?: number;
  readonly logLevel?: string;
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<Runtime> {
  const dataDir = tempDir('zimage-e2e-');
  const modelDir =
    options.model === 'mini' ? null : writeFixtureModel(join(dataDir, 'model'), options.model ?? { kind: 'oracle', maxBatch: 4, textMask: true });
  const config = testConfig({
    dataDir,
    model: { dir: modelDir },
    devices: [{ name: 'cpu0', provider: 'cpu', threads: 1, deviceId: 0 }],
    ...options.config,
  } as DeepPartial<Config>);
  return startRuntime(config, createLogger(options.logLevel ?? 'silent'), { statusIntervalMs: options.statusIntervalMs ?? 0 });
}
