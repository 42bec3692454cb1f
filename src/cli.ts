import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Actor, CommandRequest, ImageSource, Place } from './bots/core/command.ts';
import { runCommand, type ChatPort } from './bots/core/flow.ts';
import type { Reply } from './bots/core/reply.ts';
import type { Role } from './config/schema.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { describeNoise } from './engine/noise-spec.ts';
import { createLogger } from './logging.ts';
import { startRuntime, type Runtime } from './runtime.ts';

/**
 * `zimage` — the same engine, pipelines and moderation as the bots, from a terminal. The CLI's own flags are read
 * here; every other word (inline flags included, in full-width or IME forms) goes to the chat grammar as typed, so
 * `zimage draft "a fox" --seed 4 --out d` and `zimage draft "a fox --seed 4" --out d` are the same.
 */
const USAGE = `Usage:
  zimage draft "<prompt>" [--seed N] [--count 1-4] [--ar 16:9] [--style NAME] [--chaos 0-100] [--no TEXT] [--steps N] --out DIR [--json]
  zimage refine --image FILE ["<prompt>"] [--strength 0-1] [--guidance G] [--steps N] --out DIR [--json]
  zimage edit --image FILE [--mask FILE] "<instruction>" [--region left|right|top|bottom|center|x,y,w,h] --out DIR [--json]
  zimage bench [--runs N] [--count N]
Exit codes: 0 done, 1 usage or cannot start, 2 refused (bad input), 3 failed, 4 every image withheld by the content filter.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMMANDS = ['draft', 'refine', 'edit', 'bench'] as const;
type CliCommand = (typeof COMMANDS)[number];

const EXIT = { done: 0, usage: 1, refused: 2, failed: 3, withheld: 4 } as const;

interface CliArgs {
  readonly command: CliCommand;
  /** Everything that is not the CLI's own: the prompt and the chat grammar's flags, in order. */
  readonly words: string[];
  readonly out: string | undefined;
  readonly json: boolean;
  readonly image: string | undefined;
  readonly mask: string | undefined;
  readonly runs: number;
}

class UsageError extends Error {}

const OWN_OPTIONS = {
  out: { type: 'string', short: 'o' },
  image: { type: 'string' },
  mask: { type: 'string' },
  runs: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseCli(argv: readonly string[]): CliArgs {
  const { tokens } = parseArgs({ args: [...argv], options: OWN_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const own = new Map<string, string | boolean>();
  const words: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option' && token.name in OWN_OPTIONS) {
      const type = OWN_OPTIONS[token.name as keyof typeof OWN_OPTIONS].type;
      if (type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      own.set(token.name, type === 'string' ? token.value! : true);
    } else if (token.kind === 'option') {
      words.push(token.inlineValue ? `${token.rawName}=${token.value}` : token.rawName);
    } else if (token.kind === 'positional') {
      words.push(token.value);
    }
  }
  if (own.get('help') === true) throw new UsageError('');
  const [command, ...rest] = words;
  if (!COMMANDS.includes(command as CliCommand)) throw new UsageError(command ? `Unknown command "${command}"` : '');
  const runs = Number(own.get('runs') ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs needs a whole number from 1');
  const string = (name: string): string | undefined => own.get(name) as string | undefined;
  return { command: command as CliCommand, words: rest, out: string('out'), json: own.get('json') === true, image: string('image'), mask: string('mask'), runs };
}

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

/**
 * Status on a terminal: one line redrawn in place; elsewhere (a pipe, a log) one line per change. Nothing with
 * --json, whose stdout is the one result object.
 */
function progressLine(json: boolean): { show: (reply: Reply) => void; end: () => void } {
  const tty = process.stderr.isTTY === true;
  let drawn = false;
  let last = '';
  return {
    show: (reply) => {
      if (json || reply.kind !== 'status' || reply.text === last) return;
      last = reply.text;
      if (tty) {
        process.stderr.write(`\r\x1b[2K${reply.text}`);
        drawn = true;
      } else {
        process.stderr.write(`${reply.text}\n`);
      }
    },
    end: () => {
      if (drawn) process.stderr.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** The terminal as a port: a refusal is one line on stderr; the job's life is the progress line. */
function terminalPort(progress: ReturnType<typeof progressLine>, refused: (text: string) => void): ChatPort<null> {
  const say = async (text: string): Promise<void> => {
    progress.end();
    refused(text);
  };
  return { refuse: say, retract: say, open: async () => null, sink: () => async (reply) => progress.show(reply) };
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
  const progress = progressLine(args.json);
  const port = terminalPort(progress, (line) => process.stderr.write(`${line}\n`));
  const outcome = await runCommand(runtime.core, port, command, { actor, place }, runtime.log);
  if (outcome.kind === 'refused') return EXIT.refused;
  const end = await outcome.handle.settled;
  await outcome.finished;
  progress.end();
  if (end.type === 'failed' || end.type === 'cancelled') {
    process.stderr.write(`${end.type === 'failed' ? end.error.message : 'cancelled'}\n`);
    return EXIT.failed;
  }
  const jobId = outcome.handle.id;
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  const images = [];
  for (const image of end.result.images) {
    const path = image.png ? join(outDir, `${jobId}-${image.index + 1}.png`) : null;
    if (path && image.png) await writeFile(path, image.png);
    images.push({ index: image.index, path, seed: describeNoise(image.noise), prompt: image.prompt, withheld: image.withheld, spoiler: image.spoiler, verdict: image.verdict });
  }
  const { meta } = end.result;
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ job: jobId, role, status: end.type, model: meta.model, size: [meta.width, meta.height], steps: meta.steps, guidance: meta.guidance, seed: meta.seed, images, timings: meta.timings, truncated: meta.truncated, provider: meta.provider, device: meta.device })}\n`,
    );
  } else {
    for (const image of images) process.stdout.write(image.path ? `${image.path}  seed ${image.seed}\n` : `(candidate ${image.index + 1} withheld by the content filter)\n`);
    process.stderr.write(`${meta.model} · ${meta.width}×${meta.height} · ${meta.steps} steps · ${(meta.timings.wallMs / 1000).toFixed(2)} s\n`);
  }
  return end.type === 'blocked' ? EXIT.withheld : EXIT.done;
}

async function bench(runtime: Runtime, args: CliArgs): Promise<number> {
  const countFlag = args.words.indexOf('--count');
  const count = countFlag >= 0 ? Number(args.words[countFlag + 1]) : 4;
  const samples: { wallMs: number; totalMs: number; stepMs: number[] }[] = [];
  const port = terminalPort(progressLine(true), (line) => process.stderr.write(`${line}\n`));
  for (let run = 0; run <= args.runs; run++) {
    const outcome = await runCommand(runtime.core, port, { kind: 'draft', text: `a red circle on a blue background --count ${count} --seed ${run}` }, { actor, place }, runtime.log);
    if (outcome.kind !== 'queued') return EXIT.refused;
    const end = await outcome.handle.settled;
    if (end.type !== 'done' && end.type !== 'blocked') throw new Error(end.type);
    if (run > 0) samples.push({ wallMs: end.result.meta.timings.wallMs, totalMs: end.result.meta.timings.totalMs, stepMs: [...end.result.meta.timings.stepMs] });
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  process.stdout.write(
    `${JSON.stringify({ benchmark: 'cli', model: runtime.engine.models.draft.name, count, runs: args.runs, medianWallMs: Math.round(median(samples.map((s) => s.wallMs))), medianPipelineMs: Math.round(median(samples.map((s) => s.totalMs))), medianStepMs: Number(median(samples.flatMap((s) => s.stepMs)).toFixed(1)) })}\n`,
  );
  return EXIT.done;
}

function usage(error: UsageError): number {
  process.stderr.write(`${error.message ? `${error.message}\n\n` : ''}${USAGE}\n`);
  return error.message ? EXIT.usage : EXIT.done;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCli(argv);
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    throw error;
  }
  let runtime: Runtime;
  try {
    // Quiet by default on a terminal; LOG_LEVEL still wins.
    const config = loadConfig({ root: ROOT, overrides: process.env.LOG_LEVEL ? {} : { log: { level: 'warn' } } });
    runtime = await startRuntime(config, createLogger(config.log.level, process.stderr));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `Cannot start: ${(error as Error).message}`}\n`);
    return EXIT.usage;
  }
  try {
    return args.command === 'bench' ? await bench(runtime, args) : await generate(runtime, args, args.command);
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    throw error;
  } finally {
    await runtime.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
