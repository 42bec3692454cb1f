import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config, Role } from '../../config/schema.ts';
import { ROLES } from '../../config/schema.ts';
import type { ModelInfo } from '../request.ts';
import { loadModelDirectory } from './manifest.ts';

/** The model the project trains and ships: the default when neither MODEL_DIR nor a profile names one. */
export const MINI_MODEL_DIR = fileURLToPath(new URL('../../../models/mini', import.meta.url));

/** Which directory serves each role: the profile's own, else model.dir (MODEL_DIR), else the mini model. */
export function modelDirs(config: Readonly<Config>): Record<Role, string> {
  const entries = ROLES.map((role) => [role, resolve(config.profiles[role].model ?? config.model.dir ?? MINI_MODEL_DIR)] as const);
  return Object.fromEntries(entries) as Record<Role, string>;
}

/**
 * Reads a manifest into what the main thread needs (sizes, shift, whether it can encode, its recommended sampling
 * settings). Throws EngineFailure.
 */
export function modelInfo(dir: string): ModelInfo {
  const { manifest, files } = loadModelDirectory(dir);
  return {
    dir: resolve(dir),
    name: manifest.name,
    size: manifest.image,
    shift: manifest.scheduler.shift,
    canEncode: files.vaeEncoder !== undefined,
    defaults: manifest.defaults,
  };
}
