// npm run bench:comfyui — the ComfyUI backend against fake ComfyUI servers, each in a process of its own on loopback:
// the backend's own time per job beyond the server's render time, throughput with 1, 2 and 4 servers of a fixed
// render time, memory over 1,000 jobs, and fairness across 10 users on 2 servers. Prints one JSON object.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { ComfyBackend } from '../src/engine/comfyui/comfy-backend.ts';
import { loadWorkflows } from '../src/engine/comfyui/setup.ts';
import { comfyModels, comfyRoles } from '../src/engine/comfyui/setup.ts';
import { Engine } from '../src/engine/engine.ts';
import type { JobHandle } from '../src/engine/job-handle.ts';
import { StyleCatalog } from '../src/engine/prompt/styles.ts';
import type { JobSpec, ModelInfo } from '../src/engine/request.ts';
import { createLogger } from '../src/logging.ts';
import { openWebSocket } from '../src/websocket.ts';
import { FakeModerator, ROOT, tempDir, testConfig } from '../test/support/fakes.ts';
import { jobSpec } from '../test/support/specs.ts';

interface Server {
  readonly url: string;
  readonly child: ChildProcess;
  setStepMs(ms: number): void;
  pause(held: boolean): void;
  executions(): Promise<{ promptId: string; ms: number }[]>;
  close(): void;
}

/** A fake ComfyUI in its own process. */
async function server(stepMs: number): Promise<Server> {
  const child = fork(join(ROOT, 'test/support/fake-comfyui-child.ts'), [JSON.stringify({ stepMs })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`fake ComfyUI exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    setStepMs: (ms) => child.send({ stepMs: ms }),
    pause: (held) => child.send({ pause: held }),
    executions: () =>
      new Promise((resolve) => {
        child.once('message', (m: { executions: { promptId: string; ms: number }[] }) => resolve(m.executions));
        child.send({ executions: true });
      }),
    close: () => child.disconnect(),
  };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: readonly number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const jain = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) ** 2 / (xs.length * xs.reduce((a, b) => a + b * b, 0));
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

const baseConfig = testConfig({ devices: [{ name: 'probe', provider: 'comfyui', url: 'http://127.0.0.1:1' }] } as never);
const workflows = loadWorkflows(baseConfig, ROOT);
const silent = createLogger('silent');

/**
 * The backend's own time per job: from run() to its outcome, less the server's time executing the job's prompt (its
 * render time). What remains is the backend's work and the loopback trips: fitting and uploading the input,
 * queueing, following the socket, decoding and checking the PNG.
 */
async function overhead(): Promise<Record<string, unknown>> {
  const fake = await server(5);
  const backend = new ComfyBackend({
    device: { name: 'bench', provider: 'comfyui', url: fake.url, concurrency: 1, authHeader: 'Authorization', authEnv: null },
    settings: baseConfig.comfyui,
    workflows,
    log: () => undefined,
    onChange: () => undefined,
    openSocket: openWebSocket,
  });
  await backend.start();
  const dir = tempDir('bench-comfy-');
  mkdirSync(dir, { recursive: true });
  const source = join(dir, 'source.png');
  writeFileSync(source, await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#4a7' } }).png().toBuffer());
  const measure = async (make: (i: number) => JobSpec, runs: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < runs + 10; i++) {
      const t0 = performance.now();
      const result = await backend.run(make(i), () => undefined).outcome;
      const wall = performance.now() - t0;
      if (result.kind !== 'done') throw new Error(`bench job ended ${result.kind}`);
      const render = (await fake.executions()).reduce((sum, e) => sum + e.ms, 0);
      if (i >= 10) samples.push(wall - render);
    }
    return samples;
  };
  const draft = await measure((i) => jobSpec('ComfyUI', { width: 1024, height: 1024, steps: 8, seeds: [i] }), 100);
  const refine = await measure((i) => jobSpec('ComfyUI', { role: 'refine', width: 1024, height: 1024, steps: 8, guidance: 3, strength: 0.6, image: source, seeds: [i] }), 100);
  await backend.stop({ graceful: true });
  fake.close();
  const stats = (xs: number[]) => ({ p50Ms: round(median(xs)), p90Ms: round(pct(xs, 0.9)) });
  return { size: '1024x1024', jobs: 100, draft: stats(draft), refineWithUpload: stats(refine), p50Under50ms: median(draft) < 50 && median(refine) < 50 };
}

async function engineOn(servers: readonly Server[], extra: Record<string, unknown> = {}): Promise<Engine> {
  const config = testConfig({
    devices: servers.map((s, i) => ({ name: `gpu${i + 1}`, provider: 'comfyui', url: s.url })),
    queue: { maxWaitingPerUser: 100_000, maxWaitingTotal: 100_000, updateIntervalMs: 1000 },
    ...extra,
  } as never);
  const models = comfyModels(comfyRoles(config), workflows) as Record<'draft' | 'refine' | 'edit', ModelInfo>;
  return Engine.start({
    config,
    models,
    styles: StyleCatalog.fromFile(join(ROOT, 'config/styles.yaml')),
    moderator: new FakeModerator(),
    pipelineModule: new URL('../test/support/fake-pipeline.ts', import.meta.url),
    logger: silent,
    comfyWorkflows: workflows,
    openSocket: openWebSocket,
  });
}

async function submit(engine: Engine, user: string, prompt: string): Promise<JobHandle> {
  const result = await engine.submit({ role: 'draft', owner: { platform: 'bench', userId: user }, prompt, count: 1, width: 512, height: 512 });
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

/** Jobs per second with N servers whose render time is fixed (8 steps of 125 ms: a second, a Turbo draft on a GPU), 2 users per server. */
async function throughput(): Promise<Record<string, unknown>> {
  const rates: Record<number, number> = {};
  for (const n of [1, 2, 4]) {
    const servers = await Promise.all(Array.from({ length: n }, () => server(125)));
    const engine = await engineOn(servers);
    // Warm each server's connection and the engine's first jobs.
    await Promise.all(Array.from({ length: n }, (_, i) => submit(engine, `warm${i}`, 'warm').then((h) => h.settled)));
    const jobs = 8 * n;
    const t0 = performance.now();
    const handles: JobHandle[] = [];
    for (let j = 0; j < jobs; j++) handles.push(await submit(engine, `u${j % (2 * n)}`, `job ${j}`));
    const ends = await Promise.all(handles.map((h) => h.settled));
    const seconds = (performance.now() - t0) / 1000;
    if (ends.some((e) => e.type !== 'done')) throw new Error('a throughput job did not finish');
    rates[n] = jobs / seconds;
    await engine.shutdown();
    for (const s of servers) s.close();
  }
  const one = rates[1]!;
  return {
    renderMsPerJob: 1000,
    jobsPerSecond: Object.fromEntries(Object.entries(rates).map(([n, r]) => [`${n}`, round(r, 2)])),
    scaling: { '2': round(rates[2]! / one, 2), '4': round(rates[4]! / one, 2) },
    eachAtLeast090TimesN: rates[2]! >= 0.9 * 2 * one && rates[4]! >= 0.9 * 4 * one,
  };
}

/** RSS of this process before and after 1,000 jobs on one server (the server's memory is its own process's). */
async function memory(): Promise<Record<string, unknown>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const fake = await server(0);
  const engine = await engineOn([fake]);
  const run = async (count: number): Promise<void> => {
    for (let wave = 0; wave < count / 50; wave++) {
      const handles: JobHandle[] = [];
      for (let i = 0; i < 50; i++) handles.push(await submit(engine, `m${i % 10}`, `memory ${wave} ${i}`));
      await Promise.all(handles.map((h) => h.settled));
    }
  };
  await run(100);
  gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  await run(1000);
  gc?.();
  await sleep(500);
  gc?.();
  const after = process.memoryUsage().rss;
  await engine.shutdown();
  fake.close();
  const mb = (b: number): number => round(b / 2 ** 20);
  return { jobs: 1000, size: '512x512', rssBeforeMb: mb(before), rssAfterMb: mb(after), growthMb: mb(after - before), under50Mb: after - before < 50 * 2 ** 20, gcExposed: gc !== undefined };
}

/**
 * Ten users, each with a backlog of equal jobs, on two servers: how many jobs each user had started when the first
 * 100 had (every user still backlogged), and Jain's index of those counts. The servers hold their queues until every
 * job is submitted, so all ten are backlogged from the first pick.
 */
async function fairnessWith(maxRunningPerUser: number): Promise<Record<string, unknown>> {
  const servers = await Promise.all([server(5), server(5)]);
  const engine = await engineOn(servers, { queue: { maxWaitingPerUser: 100_000, maxWaitingTotal: 100_000, updateIntervalMs: 1000, maxRunningPerUser } });
  for (const s of servers) s.pause(true);
  const users = Array.from({ length: 10 }, (_, i) => `f${i}`);
  const served = new Map(users.map((u) => [u, 0]));
  const handles: JobHandle[] = [];
  let starts = 0;
  const window = 100;
  for (let round = 0; round < 14; round++) {
    for (const user of users) {
      const result = await engine.submit(
        { role: 'draft', owner: { platform: 'bench', userId: user }, prompt: `fair ${round}`, count: 1, width: 512, height: 512 },
        {
          onEvent: (event) => {
            if (event.type !== 'started') return;
            starts += 1;
            if (starts <= window) served.set(user, served.get(user)! + 1);
          },
        },
      );
      if (!result.ok) throw new Error(result.error.message);
      handles.push(result.value);
    }
  }
  for (const s of servers) s.pause(false);
  while (starts < window) await sleep(5);
  for (const handle of handles) handle.cancel();
  await Promise.all(handles.map((h) => h.settled));
  await engine.shutdown();
  for (const s of servers) s.close();
  const service = users.map((u) => served.get(u)!);
  return { maxRunningPerUser, startedPerUser: service, jainIndex: round(jain(service), 4), jainAtLeast099: jain(service) >= 0.99 };
}

/** With the default cap of one running job per user, and with two (so either server may take anyone's next job). */
async function fairness(): Promise<Record<string, unknown>> {
  return { users: 10, servers: 2, jobsStartedCounted: 100, runs: [await fairnessWith(1), await fairnessWith(2)] };
}

// `npm run bench:comfyui -- fairness` (or overhead, throughput, memory) runs one part alone.
const parts = { overhead, throughput, memory, fairness } as const;
const only = process.argv.slice(2).filter((a): a is keyof typeof parts => a in parts);
const result: Record<string, unknown> = { benchmark: 'comfyui' };
for (const name of only.length > 0 ? only : (Object.keys(parts) as (keyof typeof parts)[])) result[name] = await parts[name]();
process.stdout.write(`${JSON.stringify(result)}\n`);
