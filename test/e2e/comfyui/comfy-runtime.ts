import { Writable } from 'node:stream';
import type { Config } from '../../../src/config/schema.ts';
import type { DeepPartial } from '../../../src/config/load.ts';
import { createLogger } from '../../../src/logging.ts';
import { startRuntime, type Runtime } from '../../../src/runtime.ts';
import { FakeComfyUI, type FakeComfyOptions } from '../../support/fake-comfyui.ts';
import { tempDir, testConfig } from '../../support/fakes.ts';

/**
 * The real runtime (engine, moderation with the real classifier, SQLite journal) with its roles on fake ComfyUI
 * servers instead of local devices, and the log kept so a test can read the messages an operator would see.
 */
export interface ComfyRuntime {
  readonly runtime: Runtime;
  readonly servers: FakeComfyUI[];
  /** Every log line, parsed (pino JSON). */
  readonly log: { level: number; msg: string; [key: string]: unknown }[];
  close(): Promise<void>;
}

export const START_TIMEOUT_MS = 120_000;
export const TEST_TIMEOUT_MS = 180_000;

/** Starts `servers.length` fake servers (or reuses given ones) and a runtime whose devices are those servers. */
export async function startComfyRuntime(options: {
  readonly servers?: readonly FakeComfyOptions[];
  readonly reuse?: readonly FakeComfyUI[];
  readonly config?: DeepPartial<Config>;
  readonly dataDir?: string;
}): Promise<ComfyRuntime> {
  const servers = options.reuse ? [...options.reuse] : await Promise.all((options.servers ?? [{}]).map((s) => FakeComfyUI.start({ stepMs: 2, ...s })));
  const log: ComfyRuntime['log'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(JSON.parse(line) as ComfyRuntime['log'][number]);
      callback();
    },
  });
  const config = testConfig({
    dataDir: options.dataDir ?? tempDir('zimage-comfy-e2e-'),
    devices: servers.map((server, i) => ({ name: `gpu${i + 1}`, provider: 'comfyui', url: server.url })),
    ...options.config,
    comfyui: { reconnectMinMs: 20, reconnectMaxMs: 500, ...(options.config?.comfyui ?? {}) },
  } as DeepPartial<Config>);
  const runtime = await startRuntime(config, createLogger('info', sink), { statusIntervalMs: 0 });
  return {
    runtime,
    servers,
    log,
    async close() {
      await runtime.close();
      if (!options.reuse) for (const server of servers) await server.close();
    },
  };
}

export async function waitUntil<T>(probe: () => T | undefined | false, what: string, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
