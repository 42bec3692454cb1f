import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

/** A wrong setting: one message that names the key, where it came from, and what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

export interface LoadConfigOptions {
  /** Project root holding config/default.yaml. */
  readonly root: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Explicit override file (null: none); otherwise ZIMAGE_CONFIG, else config/local.yaml when present. */
  readonly overrideFile?: string | null;
  /** Extra overrides applied last (tests, the benchmark, the CLI's flags). */
  readonly overrides?: DeepPartial<Config>;
}

export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** The environment variables (README § Configuration) and the key each one sets. */
const ENV_KEYS: readonly (readonly [string, string, 'string' | 'port'])[] = [
  ['LOG_LEVEL', 'log.level', 'string'],
  ['DATA_DIR', 'dataDir', 'string'],
  ['MODEL_DIR', 'model.dir', 'string'],
  ['STUDIO_PORT', 'studio.port', 'port'],
  ['DISCORD_TOKEN', 'discord.token', 'string'],
  ['DISCORD_API_BASE', 'discord.apiBase', 'string'],
  ['DISCORD_GUILD_ID', 'discord.guildId', 'string'],
  ['SLACK_BOT_TOKEN', 'slack.botToken', 'string'],
  ['SLACK_SIGNING_SECRET', 'slack.signingSecret', 'string'],
  ['SLACK_APP_TOKEN', 'slack.appToken', 'string'],
  ['SLACK_API_URL', 'slack.apiUrl', 'string'],
  ['SLACK_PORT', 'slack.port', 'port'],
  ['ASSISTANT_URL', 'assistant.url', 'string'],
  ['ASSISTANT_MODEL', 'assistant.model', 'string'],
  ['ASSISTANT_VISION_MODEL', 'assistant.vision.model', 'string'],
];

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeInto(target: Tree, source: Tree, origin: string, origins: Map<string, string>, prefix = ''): void {
  for (const [key, value] of Object.entries(source)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const current = target[key];
    if (isTree(value) && isTree(current)) {
      mergeInto(current, value, origin, origins, path);
    } else {
      target[key] = structuredClone(value);
      origins.set(path, origin);
    }
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (!isTree(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

function getPath(tree: unknown, path: readonly PropertyKey[]): unknown {
  let node = tree;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function readYaml(file: string, key: string): Tree {
  let parsed: unknown;
  try {
    // Integers as BigInt first, so an unquoted Discord snowflake used as a key or value keeps every digit.
    parsed = exactIntegers(parseYaml(readFileSync(file, 'utf8'), { intAsBigInt: true }));
  } catch (error) {
    throw new ConfigError(`Cannot read configuration file ${file}: ${(error as Error).message}`, key);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError(`Configuration file ${file} must hold a mapping of settings`, key);
  return parsed;
}

/** BigInts back to numbers where that loses nothing; larger ones (snowflake ids) become their exact digits. */
function exactIntegers(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(exactIntegers);
  if (isTree(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, exactIntegers(v)]));
  return value;
}

function describeIssue(issue: z.core.$ZodIssue, defaults: Tree): string {
  switch (issue.code) {
    case 'invalid_value':
      return `allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown setting; allowed here: ${Object.keys((getPath(defaults, issue.path) as Tree | undefined) ?? {}).join(', ')}`;
    case 'too_small':
      return `must be ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `must be ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}${issue.origin === 'array' ? ' entries' : issue.origin === 'string' ? ' characters' : ''}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_format':
      return `expected a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return issue.message;
  }
}

/** Loads config/default.yaml, the local override file and the environment; validates; freezes. */
export function loadConfig(options: LoadConfigOptions): Readonly<Config> {
  const env = options.env ?? process.env;
  const origins = new Map<string, string>();
  const defaultFile = resolve(options.root, 'config/default.yaml');
  const tree: Tree = {};
  const defaultTree = readYaml(defaultFile, '(file)');
  mergeInto(tree, defaultTree, 'config/default.yaml', origins);

  const overrideFile =
    options.overrideFile === null
      ? undefined
      : options.overrideFile ??
    (env.ZIMAGE_CONFIG ? resolve(env.ZIMAGE_CONFIG) : undefined) ??
    (existsSync(resolve(options.root, 'config/local.yaml')) ? resolve(options.root, 'config/local.yaml') : undefined);
  if (overrideFile !== undefined) {
    if (!existsSync(overrideFile)) throw new ConfigError(`Configuration file ${overrideFile} does not exist`, '(file)');
    mergeInto(tree, readYaml(overrideFile, '(file)'), overrideFile, origins);
  }

  for (const [name, key, kind] of ENV_KEYS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = kind === 'port' && /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
    setPath(tree, key, value);
    origins.set(key, `environment variable ${name}`);
  }
  const comfyUrls = env.COMFYUI_URL?.trim();
  if (comfyUrls) {
    // Every role runs on these servers: they replace the configured devices, whatever those were.
    setPath(tree, 'devices', comfyDevicesFromUrls(comfyUrls));
    origins.set('devices', 'environment variable COMFYUI_URL');
  }
  if (options.overrides) mergeInto(tree, options.overrides as Tree, 'overrides', origins);

  const parsed = configSchema.safeParse(tree);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
    const key = path.map(String).join('.') || '(root)';
    const got = getPath(tree, issue.path);
    // The most specific recorded origin wins: a whole section from one file, one leaf from the environment.
    const origin = [...origins.entries()]
      .filter(([path]) => key === path || key.startsWith(`${path}.`))
      .sort(([a], [b]) => b.length - a.length)[0]?.[1];
    // A URL's user and password never reach the message (it goes to logs).
    const gotText = issue.code === 'unrecognized_keys' ? '' : `; got ${(JSON.stringify(got) ?? 'nothing').replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s"]*@/gi, '$1[redacted]@')}`;
    throw new ConfigError(
      `Invalid setting "${key}"${origin ? ` (from ${origin})` : ''}: ${describeIssue(issue, defaultTree)}${gotText}`,
      key,
    );
  }
  return deepFreeze(parsed.data);
}

/**
 * `COMFYUI_URL=http://a:8188,http://b:8188` → one ComfyUI device per URL, named by its host and port (the name the
 * journal and the result footer show). A malformed URL is left for the schema to refuse with the key and the value.
 */
export function comfyDevicesFromUrls(list: string): Tree[] {
  const urls = list.split(',').map((u) => u.trim()).filter((u) => u.length > 0);
  const names = new Map<string, number>();
  return urls.map((url) => {
    let base: string;
    try {
      base = new URL(url).host || url;
    } catch {
      base = url;
    }
    const seen = (names.get(base) ?? 0) + 1;
    names.set(base, seen);
    return { name: seen === 1 ? base : `${base}#${seen}`, provider: 'comfyui', url };
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
