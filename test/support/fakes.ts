import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config, Role } from '../../src/config/schema.ts';
import { loadConfig, type DeepPartial } from '../../src/config/load.ts';
import { Engine, type EngineOptions } from '../../src/engine/engine.ts';
import type { ModelInfo } from '../../src/engine/request.ts';
import { StyleCatalog } from '../../src/engine/prompt/styles.ts';
import { createLogger } from '../../src/logging.ts';
import type { ImageModerator, ModerationVerdict, NsfwScores, RgbImage } from '../../src/moderation/verdict.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FAKE_PIPELINE = new URL('./fake-pipeline.ts', import.meta.url);

export const SAFE_SCORES: NsfwScores = { Drawing: 0.1, Hentai: 0, Neutral: 0.9, Porn: 0, Sexy: 0 };

/** Moderator double: flags an image when `flag` says so (by its mean colour, which the fake pipeline derives from the seed). */
export class FakeModerator implements ImageModerator {
  judged = 0;
  constructor(
    private readonly flag: (image: RgbImage) => boolean = () => false,
    private readonly delayMs = 0,
  ) {}
  async judge(image: RgbImage): Promise<ModerationVerdict> {
    this.judged += 1;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    return this.flag(image)
      ? { flagged: true, reason: 'nsfw', rule: 'test rule', scores: { ...SAFE_SCORES, Porn: 0.9, Neutral: 0 } }
      : { flagged: false, scores: SAFE_SCORES };
  }
}

export function tempDir(prefix = 'zimage-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export const FAKE_MODEL: ModelInfo = {
  dir: '/fake/model',
  name: 'fake',
  size: { nativeWidth: 64, nativeHeight: 64, multiple: 16, minSide: 32, maxSide: 256 },
  shift: 3,
  canEncode: true,
  defaults: { steps: 8, minSteps: 1, maxSteps: 16, guidance: 0, distilled: false },
};

export function testConfig(overrides: DeepPartial<Config> = {}): Readonly<Config> {
  return loadConfig({
    root: ROOT,
    env: {},
    overrideFile: null,
    overrides: { log: { level: 'silent' }, dataDir: tempDir(), queue: { updateIntervalMs: 0 }, ...overrides } as DeepPartial<Config>,
  });
}

export function fakeModels(model: ModelInfo = FAKE_MODEL): Record<Role, ModelInfo> {
  return { draft: model, refine: model, edit: model };
}

export async function startFakeEngine(
  options: { config?: Readonly<Config>; moderator?: ImageModerator; stepMs?: number } & Partial<EngineOptions> = {},
): Promise<Engine> {
  const config = options.config ?? testConfig();
  return Engine.start({
    config,
    models: options.models ?? fakeModels(),
    styles: options.styles ?? StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml')),
    moderator: options.moderator ?? new FakeModerator(),
    pipelineModule: FAKE_PIPELINE,
    pipelineOptions: { stepMs: options.stepMs ?? 0 },
    logger: createLogger('silent'),
    ...(options.promptCheck ? { promptCheck: options.promptCheck } : {}),
  });
}

export const owner = (userId: string, platform = 'test') => ({ platform, userId });
