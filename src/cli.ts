import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Actor, CommandRequest, ImageSource, Place } from './bots/core/command.ts';
import { readDelivery } from './bots/core/core.ts';
import type { UserError } from './bots/core/errors.ts';
import { runCommand, runDescribe, type ChatPort } from './bots/core/flow.ts';
import { renderChain } from './bots/core/lineage.ts';
import type { Reply } from './bots/core/reply.ts';
import { errorText, text } from './bots/core/texts.ts';
import type { Role } from './config/schema.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import { describeNoise } from './engine/noise-spec.ts';
import { createLogger } from './logging.ts';
import { startRuntime, type Runtime } from './runtime.ts';

/**
 * `zimage` — the same engine, pipelines and moderation as the bots, from a terminal. The CLI's own flags are read
 * here; every other word (inline flags included, in full-width or IME forms) goes to the chat grammar as typed, so
 * `zimage draft "a fox" --seed 4 --out d` and `zimage draft "a fox --seed 4" --out d` are the same. One file over
 * 300 lines: each subcommand is a short function over the same terminal port, progress line and exit codes.
 */
const USAGE = `Usage:
  zimage draft "<prompt>" [--seed N] [--count 1-4] [--ar 16:9] [--style NAME] [--chaos 0-100] [--no TEXT] [--steps N] [--enhance] --out DIR [--json]
  zimage describe --image FILE [--json]   up to four prompts for an image, from the prompt assistant
  zimage refine --image FILE ["<prompt>"] [--strength 0-1] [--guidance G] [--steps N] --out DIR [--json]
  zimage edit --image FILE [--mask FILE] "<instruction>" [--region left|right|top|bottom|center|x,y,w,h] --out DIR [--json]
  zimage vote JOB N [--off]          vote for candidate N of one of your results (--off takes the vote back)
  zimage board [--since 24h|2h|7d] [--out DIR] [--json]   your most voted candidates, as lines and a contact sheet
  zimage history JOB [--json]         where a job came from (draft → vary → refine …) and what was made from it
  zimage bench [--runs N] [--count N]
--enhance and describe need the prompt assistant (ASSISTANT_URL and ASSISTANT_MODEL; docs/assistant.md).
Exit codes: 0 done, 1 usage or cannot start, 2 refused (bad input; the prompt assistant is off), 3 failed (the prompt
assistant too: unreachable, timed out, an error), 4 every image withheld by the content filter.`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMMANDS = ['draft', 'refine', 'edit', 'describe', 'bench', 'vote', 'board', 'history'] as const;
type CliCommand = (typeof COMMANDS)[number];

const EXIT = { done: 0, usage: 1, refused: 2, failed: 3, withheld: 4 } as const;

/** The prompt assistant's failures on the server's side: the command failed, it was not refused. */
const ASSISTANT_FAILED = new Set(['assistant-unreachable', 'assistant-timeout', 'assistant-http-error', 'assistant-no-vision', 'assistant-bad-reply']);
const exitOf = (error: UserError): number => (ASSISTANT_FAILED.has(error.code) ? EXIT.failed : EXIT.refused);

/**
 * A refusal as the terminal says it: the chat's sentence, except the prompt assistant's, whose English message is
 * the operator's (the setup line, the server's address and answer; never the key).
 */
const terminalLine = (text: string, error: UserError | undefined): string => (error && error.code.startsWith('assistant-') && 'message' in error ? error.message : text);

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
      if (json || (reply.kind !== 'status' && reply.kind !== 'assisting') || reply.text === last) return;
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

/** The terminal as a port: a refusal is one line on stderr; the job's life (the assistant's work first) is the progress line. */
function terminalPort(progress: ReturnType<typeof progressLine>, refused: (text: string) => void): ChatPort<null> {
  const say = async (text: string, error?: UserError): Promise<void> => {
    progress.end();
    refused(terminalLine(text, error));
  };
  return { refuse: say, retract: (text, _delivery, error) => say(text, error), open: async () => null, sink: () => async (reply) => progress.show(reply) };
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
  if (outcome.kind === 'refused') return exitOf(outcome.error);
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
  const record = runtime.core.history.get(jobId);
  const enhancedFrom = record ? readDelivery(record).enhancedFrom : null;
  const enhanced = enhancedFrom !== null && record ? { original: enhancedFrom, prompt: record.spec.userPrompt } : null;
  if (args.json) {
    process.stdout.write(
      `${JSON.stringify({ job: jobId, role, status: end.type, model: meta.model, size: [meta.width, meta.height], steps: meta.steps, guidance: meta.guidance, seed: meta.seed, images, enhanced, timings: meta.timings, truncated: meta.truncated, provider: meta.provider, device: meta.device })}\n`,
    );
  } else {
    if (enhanced) process.stderr.write(`Enhanced prompt: ${enhanced.prompt}\n`);
    for (const image of images) process.stdout.write(image.path ? `${image.path}  seed ${image.seed}\n` : `(candidate ${image.index + 1} withheld by the content filter)\n`);
    process.stderr.write(`${meta.model} · ${meta.width}×${meta.height} · ${meta.steps} steps · ${(meta.timings.wallMs / 1000).toFixed(2)} s\n`);
  }
  return end.type === 'blocked' ? EXIT.withheld : EXIT.done;
}

/** `zimage describe --image FILE`: the prompt assistant's suggestions, one per line (or as JSON). */
async function describe(runtime: Runtime, args: CliArgs): Promise<number> {
  if (args.words.length > 0) throw new UsageError('zimage describe takes no prompt, only --image FILE');
  const image = await imageFrom(args.image, 'image');
  if (!image) throw new UsageError('describe needs --image FILE');
  const progress = progressLine(args.json);
  const port = terminalPort(progress, (line) => process.stderr.write(`${line}\n`));
  const outcome = await runDescribe(runtime.core, port, image, { actor, place }, runtime.log);
  progress.end();
  if (outcome.kind === 'refused') return exitOf(outcome.error);
  const { prompts, notes, withheld } = outcome.reply;
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ suggestions: prompts, withheld })}\n`);
  } else {
    prompts.forEach((prompt, i) => process.stdout.write(`${i + 1}. ${prompt}\n`));
    for (const note of notes) process.stderr.write(`${note}\n`);
  }
  return EXIT.done;
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

/** `zimage vote JOB N [--off]`: the terminal's own results, voted like anywhere else. */
function vote(runtime: Runtime, args: CliArgs): number {
  const [jobId, n, ...rest] = args.words;
  const off = rest.includes('--off');
  if (!jobId || !n || !/^[1-9]$/.test(n) || rest.some((w) => w !== '--off')) throw new UsageError('zimage vote needs a job id and a candidate number (1–4), and optionally --off');
  const voted = runtime.core.team.vote(jobId, Number(n) - 1, { actor, place }, { on: !off });
  if (!voted.ok) return refuse(errorText(actor.locale, voted.error));
  process.stdout.write(`${args.json ? JSON.stringify({ job: jobId, candidate: Number(n), on: voted.value.on, votes: voted.value.votes }) : text(actor.locale, voted.value.on ? 'vote.recorded' : 'vote.withdrawn', { n })}\n`);
  return EXIT.done;
}

/** `zimage board`: the terminal's most voted candidates; the contact sheet goes to --out. */
async function board(runtime: Runtime, args: CliArgs): Promise<number> {
  const since = args.words.join(' ');
  const shown = await runtime.core.team.board({ actor, place }, since, 'command');
  if (!shown.ok) return refuse(errorText(actor.locale, shown.error));
  const reply = shown.value;
  let sheet: string | null = null;
  if (reply.image && args.out) {
    await mkdir(args.out, { recursive: true });
    sheet = resolve(args.out, reply.image.name);
    await writeFile(sheet, reply.image.png);
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ title: reply.text, sheet, entries: reply.entries.map(({ rank, jobId, index, votes }) => ({ rank, job: jobId, candidate: index + 1, votes })) })}\n`);
  } else {
    const lines = [reply.text, ...reply.entries.map((e) => e.line), ...(sheet ? [sheet] : reply.image ? ['(--out DIR writes the contact sheet)'] : [])];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return EXIT.done;
}

/** `zimage history JOB`: the chain from the first job down to this one, and what was made from it. */
function history(runtime: Runtime, args: CliArgs): number {
  const [jobId, ...rest] = args.words;
  if (!jobId || rest.length > 0) throw new UsageError('zimage history needs one job id');
  const found = runtime.core.team.lineage(jobId);
  if (!found.ok) return refuse(errorText(actor.locale, found.error));
  const { chain, children } = found.value;
  if (args.json) {
    const step = (r: (typeof chain)[number]): object => ({ job: r.id, action: r.action, parent: r.parentId, parentCandidate: r.parentIndex === null ? null : r.parentIndex + 1, by: r.owner.name ?? r.owner.userId, status: r.status, prompt: r.spec.userPrompt });
    process.stdout.write(`${JSON.stringify({ chain: chain.map(step), children: children.map(step) })}\n`);
  } else {
    const lines = renderChain(actor.locale, chain);
    if (children.length > 0) lines.push(text(actor.locale, 'lineage.children', { jobs: children.map((c) => `${c.id} (${c.action ?? c.role})`).join(', ') }));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return EXIT.done;
}

function refuse(line: string): number {
  process.stderr.write(`${line}\n`);
  return EXIT.refused;
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
    // Quiet by default on a terminal: a refusal or a failure is already said in one line of its own, so the log adds
    // only errors (a failed job's cause); LOG_LEVEL still wins.
    const config = loadConfig({ root: ROOT, overrides: process.env.LOG_LEVEL ? {} : { log: { level: 'error' } } });
    runtime = await startRuntime(config, createLogger(config.log.level, process.stderr));
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `Cannot start: ${(error as Error).message}`}\n`);
    return EXIT.usage;
  }
  try {
    switch (args.command) {
      case 'bench':
        return await bench(runtime, args);
      case 'vote':
        return vote(runtime, args);
      case 'board':
        return await board(runtime, args);
      case 'history':
        return history(runtime, args);
      case 'describe':
        return await describe(runtime, args);
      default:
        return await generate(runtime, args, args.command);
    }
  } catch (error) {
    if (error instanceof UsageError) return usage(error);
    throw error;
  } finally {
    await runtime.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
