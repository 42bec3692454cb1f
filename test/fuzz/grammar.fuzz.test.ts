import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/config/schema.ts';
import { buttonId, commandFromButton, type ButtonAction } from '../../src/bots/core/buttons.ts';
import type { CommandRequest, ImageSource, JobCommand, Locale } from '../../src/bots/core/command.ts';
import { BotCore } from '../../src/bots/core/core.ts';
import type { UserError } from '../../src/bots/core/errors.ts';
import { parseCommandText } from '../../src/bots/core/grammar.ts';
import { OPTION_BY_NAME, OPTIONS, type CommandOptions } from '../../src/bots/core/options.ts';
import { errorText, text } from '../../src/bots/core/texts.ts';
import { handleEditForm } from '../../src/bots/discord/components/edit-form.ts';
import { EditForms } from '../../src/bots/discord/edit-forms.ts';
import { commandFromComposer } from '../../src/bots/studio/composer.ts';
import { MAX_COMMAND_TEXT, parseClientMessage } from '../../src/bots/studio/protocol.ts';
import type { Engine } from '../../src/engine/engine.ts';
import { expandPromptMatrix } from '../../src/engine/prompt/matrix.ts';
import { parseRegion } from '../../src/engine/region.ts';
import { parseAspectRatio } from '../../src/engine/sizes.ts';
import { createLogger } from '../../src/logging.ts';
import { createPromptFilter } from '../../src/moderation/prompt-filter.ts';
import { startFakeEngine, testConfig } from '../support/fakes.ts';

/**
 * Property-based fuzzing of everything that reads what a user types or a client sends: the chat grammar, the core's
 * parse step, the studio's composer and wire protocol, button ids, the Discord edit form, the prompt matrix, regions,
 * aspect ratios and the prompt filter. Properties: nothing throws; every refusal is one clear sentence in both
 * languages (never the internal-error sentence, never "undefined", "NaN" or "[object" unless the user typed it);
 * what is accepted is in range and reads back the same.
 *
 * Deterministic: one fixed seed (fast-check prints it, with the path to the failing case, when a property fails;
 * FUZZ_SEED overrides it to explore). 10,000 cases in all.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 15_2026);
const RUNS = {
  grammar: 2000,
  core: 900,
  prepare: 400,
  composer: 900,
  protocol: 1200,
  buttons: 600,
  editForm: 700,
  matrix: 900,
  region: 500,
  ratio: 500,
  filter: 1000,
  filterDisguised: 400,
} as const;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

const LOCALES: readonly Locale[] = ['en', 'zh-CN'];
const ROLES: readonly Role[] = ['draft', 'refine', 'edit'];
const SUSPECT = ['undefined', 'NaN', '[object'];

/** One clear refusal: non-empty, one line, trimmed, not the internal-error sentence, no leaked JS placeholders. */
function expectClearText(said: string, locale: Locale, input: string): void {
  expect(said.trim().length).toBeGreaterThan(0);
  expect(said).toBe(said.trim());
  expect(said).not.toBe(text(locale, 'error.internal'));
  if (!input.includes('\n')) expect(said).not.toContain('\n');
  for (const word of SUSPECT) if (said.includes(word)) expect(input.normalize('NFKC')).toContain(word);
}

function expectClearRefusal(error: UserError, input: string): void {
  for (const locale of LOCALES) expectClearText(errorText(locale, error), locale, input);
}

/** Accepted options are the role's, in range, whole where they must be, and never blank. */
function expectSaneOptions(options: CommandOptions, role: Role): void {
  for (const [name, value] of Object.entries(options)) {
    const spec = OPTION_BY_NAME.get(name)!;
    expect(spec.roles).toContain(role);
    if (spec.kind === 'integer' || spec.kind === 'number') {
      expect(typeof value).toBe('number');
      expect(Number.isFinite(value)).toBe(true);
      if (spec.kind === 'integer') expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(spec.min!);
      expect(value).toBeLessThanOrEqual(spec.max!);
    } else if (spec.kind === 'switch') {
      expect(value).toBe(true);
    } else {
      expect(typeof value).toBe('string');
      expect((value as string).trim()).not.toBe('');
    }
  }
}

// ---- input pieces ----------------------------------------------------------------------------------------------

const toFullWidth = (s: string): string => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

const FLAG_PREFIXES = ['--', '——', '－－', '—', '–', '-', '---', '−−', '--\u200b'];
const FLAG_NAMES = [...OPTIONS.flatMap((o) => [o.name, ...o.aliases]), 'SEED', 'Seed', 'ｓｅｅｄ', 'ＡＲ', 'bogus', 'x', 'seeds', 'no-', ''];
const NUMBERS = [
  '0', '1', '-1', '-0', '4', '5', '42', '0.5', '1.', '.5', '+1', '1e3', '1e309', '-1e309', '1e-400', '4294967295',
  '4294967296', '99999999999999999999999999999999', 'NaN', 'Infinity', '-Infinity', '0x10', '0b1', '0o7', '1_000',
  '１６', '４２', '٣', '²', '½', '三', '1,5', '١٢',
];
const RATIOS = ['16:9', '１６：９', '16x9', '16X9', '16×9', '16／9', '9:16', '1:1', '4:1', '1:4', '100:1', '1:100', '0:1', '1:0', '0:0', ':', '16:', ':9', '1.5', '4.0000001', '3:2:1', '1e3:1', '∞'];
const REGIONS = ['left', 'RIGHT', 'centre', 'middle', '左边', '右', '中间', '上方', 'ｌｅｆｔ', '10,20,50,40', '10，20，50，40', '0,0,100,100', '0 0 100 100', '50%,50%,60%,10%', '0,0,0,0', '1,2,3', '1,2,3,4,5', '0,0,100.0000000001,100', '99999999999999999999,0,1,1', '-1,0,10,10', '1e2,0,1,1', 'nan,0,1,1'];
const BRACES = ['{a|b}', '｛a｜b｝', '{a|｛b|c}}', '{a|{b|c}}', '{x {a|b} y|z}', '{|}', '{a|}', '{ | }', '{{}}', '{', '}', '｛', '｝', '|', '{a|b|c|d|e|f}', '{a}', '{"json": 1}', `${'{'.repeat(40)}a|b${'}'.repeat(40)}`, '{a|b}'.repeat(6)];
const ODD = ['', ' ', '\u3000', '\t', '\n', '\u200b', '\u00a0', '\uD800', '\uDFFF', '\u0000', '\u202e', '🦊', '👨‍👩‍👧', 'é', 'ﬁ', '¨', '𝐧𝐮𝐝𝐞', '/draft', '／ｅｄｉｔ', 'undefined', 'NaN', '[object Object]', '__proto__', 'constructor'];

const unicode = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((n) => String.fromCharCode(n)), maxLength: 3 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 10 }),
);
const number = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
);
const flag = fc.tuple(fc.constantFrom(...FLAG_PREFIXES), fc.constantFrom(...FLAG_NAMES)).map(([p, n]) => p + n);
const word = fc.oneof(
  { weight: 3, arbitrary: flag },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: fc.constantFrom(...RATIOS) },
  { weight: 1, arbitrary: fc.constantFrom(...REGIONS) },
  { weight: 1, arbitrary: fc.constantFrom(...BRACES) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD) },
  { weight: 2, arbitrary: fc.constantFrom('a', 'red', 'fox', 'cat', '一只猫', 'ネコ', 'style', 'photo') },
  { weight: 3, arbitrary: unicode },
);
const separator = fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', '\u3000', '', '\u00a0', ', ');
/** Words and flags in any order, any of them possibly full-width. */
const commandText = fc
  .array(fc.tuple(word, fc.boolean(), separator), { maxLength: 14 })
  .map((parts) => parts.map(([w, wide, sep]) => (wide ? toFullWidth(w) : w) + sep).join(''));
const role = fc.constantFrom(...ROLES);
const locale = fc.constantFrom(...LOCALES);

const JOB_IDS = ['abcd', 'job123', 'A1b2C3d4', 'x'.repeat(32)];
const imageSource: fc.Arbitrary<ImageSource> = fc.oneof(
  fc.constant({ bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) }),
  fc.record({ jobId: fc.oneof(fc.constantFrom(...JOB_IDS), unicode), index: fc.integer({ min: -2, max: 9 }) }),
  fc.record(
    {
      url: fc.oneof(
        fc.constantFrom('https://cdn.example.com/a.png', 'http://cdn.example.com/a.png', 'https://evil.example.net/a.png', 'not a url', '', 'https://[::1', 'file:///etc/passwd', 'https://cdn.example.com:99999/a'),
        fc.webUrl(),
        unicode,
      ),
      declaredBytes: fc.oneof(fc.nat(), fc.constantFrom(0, -1, 1e12, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER)),
    },
    { requiredKeys: ['url'] },
  ),
);
/** Slash-command options as a platform delivers them: already typed and within the platform's declared limits. */
const slashOptions: fc.Arbitrary<CommandOptions> = fc.record(
  { seed: fc.integer({ min: 0, max: 4294967295 }), count: fc.integer({ min: 1, max: 4 }), steps: fc.integer({ min: 1, max: 50 }), guidance: fc.double({ min: 0, max: 20, noNaN: true }) },
  { requiredKeys: [] },
);

/** Options written back as inline flags, `--no` last (its value runs to the next flag). */
function serialize(prompt: string, options: CommandOptions): string {
  const entries = Object.entries(options).sort(([a], [b]) => Number(a === 'no') - Number(b === 'no'));
  return [prompt, ...entries.map(([name, value]) => (value === true ? `--${name}` : `--${name} ${String(value)}`))].join(' ');
}

// ---- properties ------------------------------------------------------------------------------------------------

describe('fuzz: the chat grammar and the command parsers', () => {
  let engine: Engine;
  let core: BotCore;
  beforeAll(async () => {
    engine = await startFakeEngine();
    core = new BotCore({ engine, policyFor: () => 'block', log: createLogger('silent'), statusIntervalMs: 0 });
  });
  afterAll(async () => engine.shutdown());

  it('parseCommandText: never throws; refusals are clear; accepted options are in range and read back the same', () => {
    fc.assert(
      fc.property(commandText, role, (input, r) => {
        const parsed = parseCommandText(input, r);
        if (!parsed.ok) return expectClearRefusal(parsed.error, input);
        const { prompt, options } = parsed.value;
        expect(prompt).toBe(prompt.trim());
        expectSaneOptions(options, r);
        // Compared as JSON, keys sorted: `--seed -0` is the seed 0 (as the journal stores it).
        const canonical = (o: CommandOptions): string => JSON.stringify(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
        const again = parseCommandText(serialize(prompt, options), r);
        expect(again.ok && again.value.prompt).toBe(prompt);
        expect(again.ok && canonical(again.value.options)).toBe(canonical(options));
      }),
      runs(RUNS.grammar),
    );
  });

  it('BotCore.parse: never throws; refusals are clear; a parsed command keeps its kind and sane options', () => {
    const fetchPolicy = { allowedHosts: ['cdn.example.com'], maxBytes: 8 * 1024 * 1024 };
    const command: fc.Arbitrary<JobCommand> = fc.oneof(
      fc.record({ kind: fc.constant('draft' as const), text: commandText, options: slashOptions }, { requiredKeys: ['kind', 'text'] }),
      fc.record({ kind: fc.constant('refine' as const), text: commandText, options: slashOptions, image: imageSource }, { requiredKeys: ['kind'] }),
      fc.record({ kind: fc.constant('edit' as const), text: commandText, options: slashOptions, image: imageSource, mask: imageSource }, { requiredKeys: ['kind', 'text'] }),
      fc.record({ kind: fc.constant('vary' as const), jobId: fc.constantFrom(...JOB_IDS), index: fc.nat(9), strength: fc.constantFrom('subtle' as const, 'strong' as const) }),
      fc.record({ kind: fc.constant('reroll' as const), jobId: fc.constantFrom(...JOB_IDS) }),
    );
    fc.assert(
      fc.property(command, fc.boolean(), (cmd, withPolicy) => {
        const input = JSON.stringify(cmd);
        const parsed = core.parse(cmd, withPolicy ? fetchPolicy : undefined);
        if (!parsed.ok) return expectClearRefusal(parsed.error, input);
        expect(parsed.value.kind).toBe(cmd.kind);
        if (parsed.value.kind === 'draft' || parsed.value.kind === 'refine' || parsed.value.kind === 'edit') {
          expectSaneOptions(parsed.value.options, parsed.value.kind);
        }
      }),
      runs(RUNS.core),
    );
  });

  it('BotCore.prepare: a parsed command resolved and checked by the engine is refused clearly or admitted in range', async () => {
    const who = (l: Locale) => ({ actor: { platform: 'test', userId: 'fuzzer', locale: l }, place: { platform: 'test', channelId: 'c1', channelIsNsfw: false } });
    const command: fc.Arbitrary<JobCommand> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('draft' as const), text: commandText }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('refine' as const), text: commandText, image: imageSource }, { requiredKeys: ['kind'] }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('edit' as const), text: commandText, image: imageSource }, { requiredKeys: ['kind', 'text'] }) },
    );
    await fc.assert(
      fc.asyncProperty(command, locale, async (cmd, l) => {
        const input = JSON.stringify(cmd);
        const parsed = core.parse(cmd);
        if (!parsed.ok) return expectClearRefusal(parsed.error, input);
        const prepared = await core.prepare(parsed.value, who(l));
        if (!prepared.ok) return expectClearRefusal(prepared.error, input);
        const { spec } = prepared.value.job;
        expect(spec.candidates.length).toBeGreaterThanOrEqual(1);
        expect(spec.candidates.length).toBeLessThanOrEqual(testConfig().limits.maxCount);
        expect(Number.isInteger(spec.seed) && spec.seed >= 0 && spec.seed <= 4294967295).toBe(true);
      }),
      runs(RUNS.prepare),
    );
  });

  it('commandFromComposer: never throws; refusals are clear; a named command is the one typed', () => {
    const composerText = fc.oneof(
      commandText,
      fc
        .tuple(fc.constantFrom('/', '／', '//', '/ '), fc.constantFrom('draft', 'refine', 'edit', 'DRAFT', 'ｅｄｉｔ', 'Refine', 'bogus', '', 'draft\u200b', 'x'.repeat(80)), separator, commandText)
        .map(([slash, name, sep, rest]) => slash + name + sep + rest),
    );
    fc.assert(
      fc.property(composerText, fc.option(imageSource, { nil: undefined }), fc.option(imageSource, { nil: undefined }), (input, image, mask) => {
        const result = commandFromComposer({ text: input, ...(image ? { image } : {}), ...(mask ? { mask } : {}) });
        if (!result.ok) return expectClearRefusal(result.error, input);
        expect(['draft', 'refine', 'edit']).toContain(result.value.kind);
        const typed = /^[/／](\S*)/u.exec(input.trim())?.[1];
        if (typed !== undefined) expect(result.value.kind).toBe(typed.normalize('NFKC').toLowerCase());
        if (result.value.kind === 'draft') expect(image).toBeUndefined();
        if (result.value.kind === 'edit') expect(result.value.image).toBe(image);
      }),
      runs(RUNS.composer),
    );
  });

  it('parseClientMessage: never throws; what it accepts has the closed shapes and bounded sizes', () => {
    const field = fc.oneof(unicode, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 40 }));
    const message = fc.oneof(
      fc.record(
        { t: fc.constant('hello'), userId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/), unicode), name: fc.oneof(unicode, fc.constantFrom('Ann', '  ', '\u202eevil', 'x'.repeat(33))), locale: fc.oneof(fc.constantFrom('en', 'zh-CN'), unicode), extra: field },
        { requiredKeys: ['t'] },
      ),
      fc.record({ t: fc.constant('name'), name: fc.oneof(unicode, fc.constant('Bob')) }, { requiredKeys: ['t'] }),
      fc.record(
        {
          t: fc.constant('command'),
          ref: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER + 2)),
          text: fc.oneof(commandText, fc.constant('x'.repeat(MAX_COMMAND_TEXT + 1))),
          replyTo: fc.oneof(fc.record({ jobId: fc.constantFrom(...JOB_IDS, ''), index: fc.integer({ min: -1, max: 5 }) }), field),
          upload: fc.oneof(fc.stringMatching(/^[a-f0-9]{32}$/), unicode),
          mask: fc.oneof(fc.stringMatching(/^[a-f0-9]{32}$/), unicode),
        },
        { requiredKeys: ['t'] },
      ),
      fc.record({ t: fc.constant('button'), ref: fc.oneof(fc.nat(), fc.double()), id: fc.oneof(unicode, fc.constant('z:reroll:abcd')) }, { requiredKeys: ['t'] }),
      fc.dictionary(fc.oneof(fc.constantFrom('t', '__proto__', 'constructor'), unicode), field),
    );
    const frame = fc.oneof(
      message.map((m) => JSON.stringify(m)),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      unicode,
      fc.constantFrom('', '{', 'null', '[]', '"hello"', '{"t":"hello"}', '{"__proto__":{"t":"hello"}}', '{"t":"command","ref":1,"text":"a","text":"b"}'),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    );
    fc.assert(
      fc.property(frame, fc.boolean(), (data, isBinary) => {
        const parsed = parseClientMessage(data, isBinary);
        if (!parsed.ok) {
          expect(parsed.error).toBe('unreadable');
          return;
        }
        expect(isBinary).toBe(false);
        const m = parsed.value;
        expect(['hello', 'name', 'command', 'button']).toContain(m.t);
        if (m.t === 'command') {
          expect(m.text.length).toBeLessThanOrEqual(MAX_COMMAND_TEXT);
          expect(Number.isSafeInteger(m.ref) && m.ref >= 0).toBe(true);
          expect(m.replyTo !== undefined && m.upload !== undefined).toBe(false);
        }
      }),
      runs(RUNS.protocol),
    );
    for (const l of LOCALES) expectClearText(text(l, 'studio.bad-message'), l, '');
  });

  it('commandFromButton: never throws; accepts only its own ids, which read back the same', () => {
    const actions: readonly ButtonAction[] = ['refine', 'vary-subtle', 'vary-strong', 'reroll', 'cancel', 'delete'];
    const id = fc.oneof(
      unicode,
      fc
        .tuple(fc.constantFrom('z', 'Z', 'zf', ''), fc.constantFrom(...actions, 'bogus', ''), fc.oneof(fc.constantFrom(...JOB_IDS), unicode), fc.option(fc.oneof(fc.integer({ min: -1, max: 12 }).map(String), unicode), { nil: undefined }))
        .map(([z, a, j, i]) => [z, a, j, ...(i === undefined ? [] : [i])].join(':')),
    );
    fc.assert(
      fc.property(id, (input) => {
        const command = commandFromButton(input);
        if (command === undefined) return;
        expect(input.startsWith('z:')).toBe(true);
        const jobId = 'jobId' in command ? command.jobId : command.kind === 'refine' && command.image && 'jobId' in command.image ? command.image.jobId : undefined;
        expect(jobId).toMatch(/^[A-Za-z0-9]{4,32}$/);
        const index = command.kind === 'vary' ? command.index : command.kind === 'refine' && command.image && 'index' in command.image ? command.image.index : undefined;
        if (index !== undefined) expect(Number.isInteger(index) && index >= 0 && index <= 9).toBe(true);
        // Reroll, Cancel and Delete take no candidate: a trailing index on their ids is ignored.
        const action = input.split(':')[1] as ButtonAction;
        const canonical = buttonId(action, jobId!, index);
        expect(input === canonical || (index === undefined && new RegExp(`^${canonical}:\\d$`).test(input))).toBe(true);
      }),
      runs(RUNS.buttons),
    );
  });

  it('handleEditForm: never throws; refusals are clear; an accepted form names a delivered candidate', () => {
    const forms = new EditForms();
    const key = forms.add({ url: 'https://cdn.discordapp.com/a.png', size: 1000, name: 'a.png', contentType: 'image/png' });
    const config = testConfig();
    const formId = fc.oneof(
      unicode,
      fc.tuple(fc.constantFrom(...JOB_IDS, 'a', 'x'.repeat(33)), fc.oneof(fc.stringMatching(/^\d{1,9}$/), unicode)).map(([j, d]) => `zf:j:${j}:${d}`),
      fc.oneof(fc.constant(key), fc.stringMatching(/^[A-Za-z0-9_-]{6,32}$/), unicode).map((k) => `zf:u:${k}`),
    );
    const fieldValue = fc.option(fc.oneof(commandText, fc.constantFrom(...REGIONS, ...NUMBERS), number), { nil: undefined });
    fc.assert(
      fc.property(formId, fieldValue, fieldValue, fieldValue, locale, (id, instruction, region, candidateField, l) => {
        const fields = new Map(Object.entries({ instruction, region, candidate: candidateField }).filter((e): e is [string, string] => e[1] !== undefined));
        const input = `${id} ${[...fields.values()].join(' ')}`;
        const intent = handleEditForm({ locale: l, config, botUserId: 'bot', forms }, id, fields);
        if (intent.kind === 'refuse') return expectClearText(intent.text, l, input);
        if (intent.kind !== 'job' || intent.command.kind !== 'edit') throw new Error(`not an edit job: ${intent.kind}`);
        // A candidate named by index (of the image, or 1-based on the command) is one the form's id delivered.
        const { image, candidate } = intent.command as { image?: ImageSource; candidate?: number };
        expect(image).toBeDefined();
        const delivered = [...(id.split(':')[3] ?? '')].map(Number);
        const index = image && 'jobId' in image ? (image as { index?: number }).index : undefined;
        if (index !== undefined) expect(delivered).toContain(index);
        if (candidate !== undefined) expect(delivered).toContain(candidate - 1);
        // The region is read like the grammar's --region (the engine checks it against the image, as parseRegion).
        const parsedRegion = intent.command.options?.region;
        if (parsedRegion !== undefined) expect(parsedRegion.trim()).not.toBe('');
      }),
      runs(RUNS.editForm),
    );
  });

  it('expandPromptMatrix: never throws; refusals are clear; the expansion is every combination, in reading order', () => {
    const GROUP = /[{｛]([^{}｛｝]*[|｜][^{}｛｝]*)[}｝]/u;
    /** The meaning of a matrix, spelled out: the innermost first group, each alternative expanded on its own. */
    const reference = (prompt: string): string[] => {
      const m = GROUP.exec(prompt);
      if (!m) return [prompt];
      const options = m[1]!.split(/[|｜]/u).map((o) => o.trim());
      return options.flatMap((o) => reference(prompt.slice(0, m.index) + o + prompt.slice(m.index + m[0].length)));
    };
    const matrixPiece = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...BRACES, 'a', 'b', ' ', '|', '｜', '{', '}', '｛', '｝', 'red', 'fox') }, { weight: 1, arbitrary: unicode });
    const prompt = fc.array(matrixPiece, { maxLength: 10 }).map((pieces) => pieces.join(''));
    fc.assert(
      fc.property(prompt, fc.integer({ min: 1, max: 64 }), (input, max) => {
        const expanded = expandPromptMatrix(input, max);
        if (!expanded.ok) return expectClearRefusal(expanded.error, input);
        expect(expanded.value.length).toBeGreaterThanOrEqual(1);
        expect(expanded.value.length).toBeLessThanOrEqual(max);
        for (const p of expanded.value) expect(GROUP.test(p)).toBe(false);
        expect(expanded.value).toEqual(reference(input));
      }),
      runs(RUNS.matrix),
    );
  });

  it('parseRegion: never throws; refusals are clear; an accepted region lies inside the image', () => {
    const regionText = fc.oneof(
      fc.constantFrom(...REGIONS),
      fc.array(fc.oneof(number, fc.nat(200).map(String), fc.double({ min: 0, max: 150, noNaN: true }).map((n) => n.toFixed(3))), { minLength: 1, maxLength: 5 }).chain((parts) =>
        fc.constantFrom(',', '，', ' ', ', ', '%,', ';').map((sep) => parts.join(sep)),
      ),
      commandText,
    );
    fc.assert(
      fc.property(regionText, fc.boolean(), (raw, wide) => {
        const input = wide ? toFullWidth(raw) : raw;
        const region = parseRegion(input);
        if (!region.ok) return expectClearRefusal(region.error, input);
        const { x, y, w, h } = region.value;
        for (const v of [x, y, w, h]) expect(Number.isFinite(v) && v >= 0).toBe(true);
        expect(w > 0 && h > 0).toBe(true);
        expect(x + w).toBeLessThanOrEqual(1 + 1e-9);
        expect(y + h).toBeLessThanOrEqual(1 + 1e-9);
      }),
      runs(RUNS.region),
    );
  });

  it('parseAspectRatio: never throws; refusals are clear; an accepted ratio is between 1:4 and 4:1', () => {
    const ratioText = fc.oneof(
      fc.constantFrom(...RATIOS),
      fc.tuple(number, fc.constantFrom(':', 'x', '×', '/', '：', ' : ', ''), number).map(([a, sep, b]) => a + sep + b),
      commandText,
    );
    fc.assert(
      fc.property(ratioText, fc.boolean(), (raw, wide) => {
        const input = wide ? toFullWidth(raw) : raw;
        const ratio = parseAspectRatio(input);
        if (!ratio.ok) return expectClearRefusal(ratio.error, input);
        expect(Number.isFinite(ratio.value)).toBe(true);
        expect(ratio.value).toBeGreaterThanOrEqual(1 / 4);
        expect(ratio.value).toBeLessThanOrEqual(4);
      }),
      runs(RUNS.ratio),
    );
  });

  describe('the prompt filter', () => {
    const filter = createPromptFilter(testConfig().moderation);

    it('never throws, and refuses only with prompt-blocked and a category', () => {
      const prompt = fc.oneof(commandText, fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.constantFrom('n u d e '.repeat(2000), '—'.repeat(5000), 'ヌ－'.repeat(3000), '裸'.repeat(8000)));
      fc.assert(
        fc.property(prompt, (input) => {
          const refused = filter(input);
          if (refused === undefined) return;
          expect(refused.code).toBe('prompt-blocked');
          expect(['minors', 'sexual', 'custom']).toContain(refused.params?.category);
          expectClearRefusal(refused, input);
        }),
        runs(RUNS.filter),
      );
    });

    it('refuses a term however it is disguised, wherever it stands', () => {
      const SMALL_CAPS: Record<string, string> = { a: 'ᴀ', b: 'ʙ', c: 'ᴄ', d: 'ᴅ', e: 'ᴇ', f: 'ꜰ', g: 'ɢ', h: 'ʜ', i: 'ɪ', j: 'ᴊ', k: 'ᴋ', l: 'ʟ', m: 'ᴍ', n: 'ɴ', o: 'ᴏ', p: 'ᴘ', r: 'ʀ', s: 'ꜱ', t: 'ᴛ', u: 'ᴜ', v: 'ᴠ', w: 'ᴡ', y: 'ʏ', z: 'ᴢ' };
      const CYRILLIC: Record<string, string> = { a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', x: 'х', y: 'у', s: 'ѕ', i: 'і' };
      const TRADITIONAL: Record<string, string> = { 裸体: '裸體', 做爱: '做愛', 强奸: '強姦', 阴茎: '陰莖', 萝莉: '蘿莉' };
      const latin = ['porn', 'nude', 'hentai', 'pussy', 'loli', 'luoti', 'seqing', 'xxx'];
      const cjk = Object.keys(TRADITIONAL).concat(['色情', 'ヌード', 'セックス', 'ロリ']);
      const disguise = fc.constantFrom('plain', 'upper', 'wide', 'small-caps', 'cyrillic', 'zero-width', 'spaced', 'traditional');
      const apply = (term: string, how: string): string => {
        const chars = [...term];
        switch (how) {
          case 'upper':
            return term.toUpperCase();
          case 'wide':
            return toFullWidth(term);
          case 'small-caps':
            return chars.map((c) => SMALL_CAPS[c] ?? c).join('');
          case 'cyrillic':
            // One look-alike is enough to hide a word from a plain matcher.
            return chars.map((c, i) => (i === chars.findIndex((d) => d in CYRILLIC) ? CYRILLIC[c]! : c)).join('');
          case 'zero-width':
            return chars.join('\u200b');
          case 'spaced':
            return chars.join(' ');
          case 'traditional':
            return TRADITIONAL[term] ?? term;
          default:
            return term;
        }
      };
      // Context that cannot form an allowed phrase with the term: digits, punctuation, emoji, a space between.
      const context = fc.string({ unit: fc.constantFrom('1', '7', ',', '.', '!', '?', '#', '🦊', '(', ')', '-'), maxLength: 12 });
      fc.assert(
        fc.property(fc.constantFrom(...latin, ...cjk), disguise, context, context, (term, how, before, after) => {
          const input = `${before} ${apply(term, how)} ${after}`;
          expect([input, filter(input)?.code]).toEqual([input, 'prompt-blocked']);
        }),
        runs(RUNS.filterDisguised),
      );
    });
  });
});
