import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Assistant } from './assistant/assistant.ts';
import { moderationPlace } from './bots/core/command.ts';
import { BotCore } from './bots/core/core.ts';
import type { Config, Role } from './config/schema.ts';
import { ROLES } from './config/schema.ts';
import { comfyModels, comfyRoles, loadWorkflows } from './engine/comfyui/setup.ts';
import { Engine, type SharedCallRequest } from './engine/engine.ts';
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
 * workflow's bindings), starts the classifier and the engine's backends, builds the prompt assistant (with the same
 * prompt filter and input check as the engine) and the core.
 */
export async function startRuntime(config: Readonly<Config>, log: Logger, options: RuntimeOptions = {}): Promise<Runtime> {
  const dirs = modelDirs(config);
  const remote = comfyRoles(config);
  const workflows = loadWorkflows(config, ROOT);
  const remoteModels = comfyModels(remote, workflows);
  const models = Object.fromEntries(ROLES.map((role) => [role, remoteModels[role] ?? modelInfo(dirs[role])])) as Record<Role, ModelInfo>;
  const localDirs = [...new Set(ROLES.filter((role) => !remote.has(role)).map((role) => dirs[role]))];
  const classifier = await NsfwClassifier.start(config.moderation, (level, message, detail) => log[level](detail ?? {}, message));
  const promptFilter = createPromptFilter(config.moderation);
  const inputCheck = config.moderation.judgeInputs ? createInputCheck(classifier, config.moderation) : undefined;
  let engine: Engine;
  let assistant: Assistant;
  try {
    // Before the engine: a setting the assistant cannot run with stops start-up with nothing else started.
    // A model on the image GPU waits in the engine's fair queue (called only once the engine below has started). Where
    // every device is a ComfyUI server there is no GPU here to share: no gate, so sharesGpu stops start-up.
    const local = config.devices.some((device) => device.provider !== 'comfyui');
    const gate = local ? { gate: <T>(call: SharedCallRequest, run: () => Promise<T>): Promise<T> => engine.runShared(call, run) } : {};
    assistant = new Assistant({ config, promptFilter, ...(inputCheck ? { inputCheck } : {}), log, ...gate });
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
      promptCheck: promptFilter,
      ...(inputCheck ? { inputCheck } : {}),
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
    assistant,
  });
  log.info(
    { models: Object.fromEntries(ROLES.map((r) => [r, models[r].name])), devices: engine.stats().workers },
    'engine ready',
  );
  // Where prompts and images go (never the key); without a URL the features are absent.
  if (assistant.endpoints) log.info({ enhance: assistant.endpoints.enhance, describe: assistant.endpoints.describe }, 'prompt assistant configured');
  else log.info('prompt assistant off (no assistant.url): --enhance, Enhance and describe are not offered');
  return {
    config,
    log,
    engine,
    core,
    classifier,
    async close() {
      // First, while the journal and the platforms still work: every request the prompt assistant holds up ends, and
      // its asker is told the bot is restarting.
      const untold = await core.assistant.close();
      if (untold > 0) log.warn({ requests: untold }, 'stopping before every prompt assistant request was answered');
      await core.team.flush();
      await engine.shutdown();
      await classifier.close();
    },
  };
}
