// npm run bench:queue — the fair queue: fairness, overhead, main-thread responsiveness, memory. Prints one JSON object.
// It uses the engine with a test-double pipeline (no model: the queue is what is measured), never wired into npm start.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../src/engine/engine.ts';
import type { JobHandle } from '../src/engine/job-handle.ts';
import type { FakeModerator } from '../test/support/fakes.ts';
import { fakeModels, FAKE_MODEL, owner, startFakeEngine, testConfig } from '../test/support/fakes.ts';

const TINY = { ...FAKE_MODEL, size: { nativeWidth: 16, nativeHeight: 16, multiple: 16, minSide: 16, maxSide: 256 } };

async function engineWith(stepMs: number, extra: Parameters<typeof testConfig>[0] = {}, moderator?: FakeModerator): Promise<Engine> {
  const config = testConfig({ queue: { maxWaitingPerUser: 100_000, maxWaitingTotal: 100_000, updateIntervalMs: 1000 }, ...extra });
  return startFakeEngine({ config, stepMs, models: fakeModels(TINY), ...(moderator ? { moderator } : {}) });
}

async function submit(engine: Engine, user: string, steps = 8, onStart?: () => void): Promise<JobHandle> {
  const result = await engine.submit(
    { role: 'draft', owner: owner(user), prompt: 'x', count: 1, steps },
    onStart ? { onEvent: (e) => e.type === 'started' && onStart() } : {},
  );
  if (!result.ok) throw new Error(result.error.message);
  return result.value;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const jain = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) ** 2 / (xs.length * xs.reduce((a, b) => a + b * b, 0));

/** One user floods 50 jobs, then 9 users submit 2 each. */
async function fairnessFlood(): Promise<Record<string, unknown>> {
  const engine = await engineWith(2, { profiles: { draft: { maxSteps: 16 } } } as never);
  const starts: string[] = [];
  const jobs: JobHandle[] = [];
  for (let i = 0; i < 50; i++) jobs.push(await submit(engine, 'flood', 8, () => starts.push('flood')));
  while (starts.length === 0) await sleep(1);
  for (let u = 0; u < 9; u++) for (let k = 0; k < 2; k++) jobs.push(await submit(engine, `light${u}`, 8, () => starts.push(`light${u}`)));
  await Promise.all(jobs.map((j) => j.settled));
  await engine.shutdown();
  const floodStartsBefore = (user: string): number => {
    const at = starts.indexOf(user);
    return starts.slice(0, at).filter((s) => s === 'flood').length;
  };
  const worst = Math.max(...Array.from({ length: 9 }, (_, u) => floodStartsBefore(`light${u}`)));
  const floodAtArrival = starts.slice(0, starts.findIndex((s) => s !== 'flood')).length;
  return {
    floodJobsStartedWhenLightUsersArrived: floodAtArrival,
    maxFloodJobsStartedBeforeALightUsersFirstJob: worst,
    floodStartedFewerThan2MoreBeforeEveryLightUser: worst - floodAtArrival < 2,
  };
}

/** Backlogged users with equal or mixed costs: service by cost while everyone is still backlogged. */
async function fairnessShares(mixed: boolean): Promise<Record<string, unknown>> {
  const engine = await engineWith(1, { profiles: { draft: { maxSteps: 32 } } } as never);
  const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
  const served = new Map(users.map((u) => [u, 0]));
  const steps = (u: string): number => (mixed && Number(u.slice(1)) >= 5 ? 32 : 8); // refine-like = 4 × draft
  const jobs: JobHandle[] = [];
  let done = 0;
  const window = 200;
  for (let round = 0; round < 40; round++) {
    for (const u of users) {
      const h = await submit(engine, u, steps(u));
      jobs.push(h);
      void h.settled.then(() => {
        done += 1;
        if (done <= window) served.set(u, served.get(u)! + steps(u));
      });
    }
  }
  while (done < window) await sleep(5);
  for (const j of jobs) j.cancel();
  await Promise.all(jobs.map((j) => j.settled));
  await engine.shutdown();
  const service = users.map((u) => served.get(u)!);
  const total = service.reduce((a, b) => a + b, 0);
  const cheapShare = service.slice(0, 5).reduce((a, b) => a + b, 0) / total;
  return mixed
    ? { costShareOfDraftUsers: Number(cheapShare.toFixed(4)), costShareOfRefineUsers: Number((1 - cheapShare).toFixed(4)), withinFivePercent: Math.abs(cheapShare - 0.5) <= 0.05, jainIndex: Number(jain(service).toFixed(4)) }
    : { jainIndex: Number(jain(service).toFixed(4)), jainAtLeast099: jain(service) >= 0.99 };
}

/** Scheduling + worker round trip with a zero-work pipeline. */
async function overhead(): Promise<Record<string, unknown>> {
  const engine = await engineWith(0);
  const samples: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const h = await submit(engine, 'solo', 1);
    const end = await h.settled;
    if (end.type !== 'done') throw new Error(end.type);
    const timings = end.result.meta.timings;
    samples.push(performance.now() - t0 - timings.totalMs - timings.postprocessMs);
  }
  await engine.shutdown();
  const steady = samples.slice(20);
  return { medianMs: Number(median(steady).toFixed(3)), p90Ms: Number([...steady].sort((a, b) => a - b)[Math.floor(steady.length * 0.9)]!.toFixed(3)), under2ms: median(steady) < 2 };
}

/** Event-loop lag of the main thread while a 1-second inference blocks the worker. */
async function responsiveness(): Promise<Record<string, unknown>> {
  const engine = await engineWith(125);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const h = await submit(engine, 'solo', 8);
  await new Promise<void>((r) => h.subscribe((e) => e.type === 'started' && r()));
  histogram.enable();
  const end = await h.settled;
  histogram.disable();
  await engine.shutdown();
  const p99 = histogram.percentile(99) / 1e6;
  return {
    inferenceMs: end.type === 'done' ? Math.round(end.result.meta.timings.totalMs) : null,
    eventLoopLagP99Ms: Number(p99.toFixed(2)),
    eventLoopLagMaxMs: Number((histogram.max / 1e6).toFixed(2)),
    under20ms: p99 < 20,
  };
}

/** 10,000 jobs submitted and drained; RSS before and after. */
async function memory(): Promise<Record<string, unknown>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const engine = await engineWith(0);
  // Warm up the worker, sharp and SQLite before the baseline.
  for (let i = 0; i < 200; i++) await (await submit(engine, 'warm', 1)).settled;
  gc?.();
  await sleep(200);
  const before = process.memoryUsage().rss;
  let peak = before;
  for (let wave = 0; wave < 20; wave++) {
    const jobs: JobHandle[] = [];
    for (let i = 0; i < 500; i++) jobs.push(await submit(engine, `m${i % 50}`, 1));
    await Promise.all(jobs.map((j) => j.settled));
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  gc?.();
  await sleep(500);
  gc?.();
  const after = process.memoryUsage().rss;
  await engine.shutdown();
  const mb = (b: number): number => Number((b / 2 ** 20).toFixed(1));
  return { jobs: 10_000, rssBeforeMb: mb(before), rssPeakMb: mb(peak), rssAfterMb: mb(after), growthMb: mb(after - before), within50Mb: after - before < 50 * 2 ** 20, gcExposed: gc !== undefined };
}

const result = {
  benchmark: 'queue',
  node: process.version,
  fairness: { flood: await fairnessFlood(), equalCosts: await fairnessShares(false), mixedCosts: await fairnessShares(true) },
  overhead: await overhead(),
  responsiveness: await responsiveness(),
  memory: await memory(),
};
console.log(JSON.stringify(result, null, 2));
