import type { Config } from '../config/schema.ts';
import { isComfyDevice, ROLES } from '../config/schema.ts';
import type { Logger } from '../logging.ts';
import { limitedToRoles, type Backend } from './backend.ts';
import { ComfyBackend } from './comfyui/comfy-backend.ts';
import type { OpenSocket } from './comfyui/client.ts';
import { comfyRoles } from './comfyui/setup.ts';
import type { Workflow, WorkflowKind } from './comfyui/workflow.ts';
import { WorkerHost } from './worker/worker-host.ts';

/** What starting the backends needs: the devices in the config, and how to run each kind. */
export interface BackendOptions {
  readonly config: Readonly<Config>;
  /** file: URL of the module whose createPipeline runs inside each inference worker. */
  readonly pipelineModule: URL;
  readonly pipelineOptions?: unknown;
  readonly logger: Logger;
  /** The ComfyUI workflows (comfyui/setup.ts loadWorkflows), for the configured ComfyUI servers. */
  readonly comfyWorkflows?: ReadonlyMap<WorkflowKind, Workflow>;
  /** Opens a ComfyUI server's WebSocket; required when one is configured (the engine names no WebSocket library). */
  readonly openSocket?: OpenSocket;
}

/**
 * Starts one inference worker per local device that has a role to serve and connects every ComfyUI server, waiting
 * for its first round of checks (a server that is down is reported, not fatal). `onChange` is called whenever a
 * backend may take work again. A failure stops whatever had started before it is thrown.
 */
export async function startBackends(options: BackendOptions, onChange: () => void): Promise<Backend[]> {
  const { config, logger } = options;
  const log = (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>): void => logger[level](detail ?? {}, message);
  // A role a ComfyUI server is configured for never runs on a local device, whatever that device's roles say.
  const remote = comfyRoles(config);
  const locals = config.devices.flatMap((device) => {
    if (isComfyDevice(device)) return [];
    const roles = new Set((device.roles ?? ROLES).filter((role) => !remote.has(role)));
    const dropped = (device.roles ?? []).filter((role) => remote.has(role));
    if (dropped.length > 0) log('warn', `device ${device.name} does not serve ${dropped.join(', ')}: a ComfyUI server is configured for it`, { device: device.name });
    return roles.size > 0 ? [{ device, roles }] : [];
  });
  const workers = locals.map(
    ({ device }) => new WorkerHost({ device, pipelineModule: options.pipelineModule, pipelineOptions: options.pipelineOptions, log, onReady: onChange }),
  );
  let servers: ComfyBackend[] = [];
  try {
    servers = config.devices.filter(isComfyDevice).map((device) => {
      if (!options.openSocket) throw new Error('A ComfyUI server is configured but the engine was given no WebSocket client');
      return new ComfyBackend({ device, settings: config.comfyui, workflows: options.comfyWorkflows ?? new Map(), log, onChange, openSocket: options.openSocket });
    });
    await Promise.all([...workers.map((w) => w.start()), ...servers.map((s) => s.start())]);
  } catch (error) {
    await Promise.all([...workers, ...servers].map((b) => b.stop({ graceful: false })));
    throw error;
  }
  return [...workers.map((w, i) => limitedToRoles(w, locals[i]!.roles)), ...servers];
}
