import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { moderationPlace } from './bots/core/command.ts';
import { BotCore } from './bots/core/core.ts';
import type { Config, Role } from './config/schema.ts';
import { ROLES } from './config/schema.ts';
import { comfyModels, comfyRoles, loadWorkflows } from './engine/comfyui/setup.ts';
import { Engine } from './engine/engine.ts';
import { modelDirs, modelInfo } from './engine/model/model-info.ts';
import { StyleCatalog } from './engine/prompt/styles.ts';
import type { ModelInfo } from './engine/request.ts';
import type { Logger } from './logging.ts';
import { createInputCheck } from './moderation/input-check.ts';
import { NsfwClassifier } from './moderation/nsfw-classifier.ts';
import { policyFor } from './moderation/policy.ts';
import { createPromptFilter } from './moderation/prompt-filter.ts';
import { openWebSocket } from './websocket.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ZIMAGE_PIPELINE = new URL('./engine/pipelines/z-image/index.ts', import.meta.url);

/** Everything the adapters share: one engine (one queue), one moderation, one core. */
export interface Runtime {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly engine: Engine;
  readonly core: BotCore;
  readonly classifier: NsfwClassifier;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Status edits at most this often (ms). */
  readonly statusIntervalMs?: number;
}

/**
 * Loads the models' manifests and the ComfyUI workflows (a role a ComfyUI server runs takes its model from its
 * workflow's bindings), starts the classifier and the engine's backends, and builds the core.
 */
export async function startRuntime(config: Readonly<Config>, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const dirs = modelDirs(config);
  const remote = comfyRoles(config);
  const workflows = loadWorkflows(config, ROOT);
  const remoteModels = comfyModels(remote, workflows);
  const models = Object.fromEntries(ROLES.map((role) => [role, remoteModels[role] ?? modelInfo(dirs[role])])) as Record<Role, ModelInfo>;
  const localDirs = [...new Set(ROLES.filter((role) => !remote.has(role)).map((role) => dirs[role]))];
  const classifier = await NsfwClassifier.start(config.moderation, (level, message, detail) => log[level](detail ?? {}, message));
  let engine: Engine;
  try {
    engine = await Engine.start({
      config,
      models,
      styles: StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml')),
      moderator: classifier,
      pipelineModule: ZIMAGE_PIPELINE,
      pipelineOptions: { preload: localDirs, maxLoaded: 2 },
      comfyWorkflows: workflows,
      openSocket: openWebSocket,
      logger: log,
      promptCheck: createPromptFilter(config.moderation),
      ...(config.moderation.judgeInputs ? { inputCheck: createInputCheck(classifier, config.moderation) } : {}),
    });
  } catch (error) {
    await classifier.close();
    throw error;
  }
  const core = new BotCore({
    engine,
    policyFor: (place) => policyFor(config.moderation, moderationPlace(place)),
    log,
    statusIntervalMs: options.statusIntervalMs ?? 2000,
    settings: { maxCount: config.limits.maxCount, channelPolicies: config.moderation.channelPolicies },
  });
  log.info(
    { models: Object.fromEntries(ROLES.map((r) => [r, models[r].name])), devices: engine.stats().workers },
    'engine ready',
  );
  return {
    config,
    log,
    engine,
    core,
    classifier,
    async close() {
      await core.team.flush();
      await engine.shutdown();
      await classifier.close();
    },
  };
}
