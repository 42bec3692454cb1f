import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role } from './config/schema.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Actor, CommandRequest, ImageSource, Place } from './bots/core/command.ts';
import type { CoreOutcome } from './bots/core/core.ts';
import { describeNoise } from './engine/noise-spec.ts';
import { createLogger } from './logging.ts';
import { startRuntime, type Runtime } from './runtime.ts';

/**
 * `zimage` — the same engine, pipelines and moderation as the bots, from a terminal:
 *   zimage draft "<prompt>" [--seed N] [--count N] [inline flags…] --out DIR [--json]
 *   zimage refine --image FILE ["<prompt>"] [flags…] --out DIR [--json]
 *   zimage edit --image FILE [--mask FILE] "<instruction>" [--region R] [flags…] --out DIR [--json]
 *   zimage bench [--runs N] [--count N]
 * Inline flags are the chat grammar's (design.md §6), so `zimage draft "a fox --seed 4"` works too.
 */
const USAGE = `Usage:
  zimage draft "<prompt>" [--seed N] [--count 1-4] [--ar 16:9] [--style NAME] [--chaos 0-100] [--no TEXT] [--steps N] --out DIR [--json]
  zimage refine --image FILE ["<prompt>"] [--strength 0-1] [--guidance G] [--steps N] --out DIR [--json]
  zimage edit --image FILE [--mask FILE] "<instruction>" [--region left|right|top|bottom|center|x,y,w,h] --out DIR [--json]
  zimage bench [--runs N] [--count N]
Exit codes: 0 done, 2 refused (bad input), 3 failed, 4 every image withheld by the content filter.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface CliArgs {
  readonly command: string;
  readonly words: string[];
  readonly out: string | undefined;
  readonly json: boolean;
  readonly image: string | undefined;
  readonly mask: string | undefined;
  readonly runs: number;
}

/** Pulls the CLI's own flags out; every other word goes to the chat grammar untouched. */
function parseArgs(argv: readonly string[]): CliArgs {
  const words: string[] = [];
  let out: string | undefined;
  let image: string | undefined;
  let mask: string | undefined;
  let json = false;
  let runs = 5;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${arg} needs a value`);
      return next;
    };
    if (arg === '--out' || arg === '-o') out = value();
    else if (arg === '--image') image = value();
    else if (arg === '--mask') mask = value();
    else if (arg === '--runs') runs = Number(value());
    else if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else words.push(arg);
  }
  return { command: argv[0] ?? '', words, out, json, image, mask, runs };
}

class UsageError extends Error {}

const actor: Actor = { platform: 'cli', userId: process.env.USER ?? 'local', locale: 'en' };
const place: Place = { platform: 'cli', channelId: 'terminal', channelIsNsfw: false };

async function imageFrom(path: string | undefined, what: string): Promise<ImageSource | undefined> {
  if (path === undefined) return undefined;
  try {
    return { bytes: new Uint8Array(await readFile(path)) };
  } catch {
    throw new UsageError(`Cannot read the ${what} ${path}`);
  }
}

async function generate(runtime: Runtime, args: CliArgs, role: Role): Promise<number> {
  if (!args.out) throw new UsageError('--out DIR is required');
  const text = args.words.join(' ');
  const image = await imageFrom(args.image, 'image');
  const mask = await imageFrom(args.mask, 'mask');
  let command: CommandRequest;
  if (role === 'draft') command = { kind: 'draft', text };
  else if (role === 'refine') command = image ? { kind: 'refine', text, image } : { kind: 'refine', text };
  else {
    if (!image) throw new UsageError('edit needs --image FILE');
    command = mask ? { kind: 'edit', text, image, mask } : { kind: 'edit', text, image };
  }
  const outcome: CoreOutcome = await runtime.core.run(command, actor, place, async (reply) => {
    if (reply.kind === 'status' && !args.json) process.stderr.write(`${reply.text}\n`);
  });
  if (outcome.kind === 'refused') {
    process.stderr.write(`${outcome.reply.kind === 'error' ? outcome.reply.text : outcome.error.code}\n`);
    return 2;
  }
  if (outcome.kind !== 'queued') return 0;
  const end = await outcome.handle.settled;
  await outcome.finished;
  if (end.type === 'failed' || end.type === 'cancelled') {
    process.stderr.write(`${end.type === 'failed' ? end.error.message : 'cancelled'}\n`);
    return 3;
  }
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  const images = [];
  for (const image of end.result.images) {
    const path = image.png ? join(outDir, `${outcome.jobId}-${image.index + 1}.png`) : null;
    if (path && image.png) await writeFile(path, image.png);
    images.push({ index: image.index, path, seed: describeNoise(image.noise), prompt: image.prompt, withheld: image.withheld, spoiler: image.spoiler, verdict: image.verdict });
  }
  const { meta } = end.result;
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ job: outcome.jobId, role, status: end.type, model: meta.model, size: [meta.width, meta.height], steps: meta.steps, guidance: meta.guidance, seed: meta.seed, images, timings: meta.timings, truncated: meta.truncated, provider: meta.provider })}\n`,
    );
  } else {
    for (const image of images) process.stdout.write(image.path ? `${image.path}  seed ${image.seed}\n` : `(candidate ${image.index + 1} withheld by the content filter)\n`);
    process.stderr.write(`${meta.model} · ${meta.width}×${meta.height} · ${meta.steps} steps · ${(meta.timings.wallMs / 1000).toFixed(2)} s\n`);
  }
  return end.type === 'blocked' ? 4 : 0;
}

async function bench(runtime: Runtime, args: CliArgs): Promise<number> {
  const countFlag = args.words.indexOf('--count');
  const count = countFlag >= 0 ? Number(args.words[countFlag + 1]) : 4;
  const samples: { wallMs: number; totalMs: number; stepMs: number[] }[] = [];
  for (let run = 0; run <= args.runs; run++) {
    const outcome = await runtime.core.run({ kind: 'draft', text: `a red circle on a blue background --count ${count} --seed ${run}` }, actor, place, async () => {});
    if (outcome.kind !== 'queued') throw new Error(outcome.kind === 'refused' ? outcome.reply.kind : outcome.kind);
    const end = await outcome.handle.settled;
    if (end.type !== 'done' && end.type !== 'blocked') throw new Error(end.type);
    if (run > 0) samples.push({ wallMs: end.result.meta.timings.wallMs, totalMs: end.result.meta.timings.totalMs, stepMs: [...end.result.meta.timings.stepMs] });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'cli', model: runtime.engine.models.draft.name, count, runs: args.runs, medianWallMs: Math.round(median(samples.map((s) => s.wallMs))), medianPipelineMs: Math.round(median(samples.map((s) => s.totalMs))), medianStepMs: Number(median(samples.flatMap((s) => s.stepMs)).toFixed(1)) })}\n`,
  );
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
    if (!['draft', 'refine', 'edit', 'bench'].includes(args.command)) throw new UsageError(args.command ? `Unknown command "${args.command}"` : '');
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${USAGE}\n`);
      return error.message ? 2 : 0;
    }
    throw error;
  }
  let runtime: Runtime;
  try {
    // Quiet by default on a terminal; LOG_LEVEL still wins.
    const config = loadConfig({ root: ROOT, overrides: process.env.LOG_LEVEL ? {} : { log: { level: 'warn' } } });
    runtime = await startRuntime(config, createLogger(config.log.level, process.stderr));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `Cannot start: ${(error as Error).message}`}\n`);
    return 1;
  }
  try {
    return args.command === 'bench' ? await bench(runtime, args) : await generate(runtime, args, args.command as Role);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  } finally {
    await runtime.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
