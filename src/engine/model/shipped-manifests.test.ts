import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestSchema } from './manifest.ts';

// The manifests shipped for public exports must stay valid as the schema evolves.
const dir = join(import.meta.dirname, '../../../config/models');

describe('shipped model manifests', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(`${file} validates`, () => {
      const parsed = manifestSchema.safeParse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
      expect(parsed.success ? 'valid' : parsed.error.issues).toBe('valid');
    });
  }
  it('the webnn Z-Image-Turbo manifest uses the export’s tensor names and Z-Image’s constants', () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, 'webnn-z-image-turbo.model.json'), 'utf8')));
    expect([manifest.textEncoder.output, manifest.transformer.output, manifest.vaeDecoder.input, manifest.vaeDecoder.output]).toEqual([
      'encoder_hidden_state',
      'unified_results',
      'latent_sample',
      'sample',
    ]);
    expect([manifest.latent.scalingFactor, manifest.latent.shiftFactor, manifest.scheduler.shift]).toEqual([0.3611, 0.1159, 3]);
  });

  it('the webnn Z-Image-Turbo manifest recommends Turbo’s sampling and encodes prompts one by one', () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, 'webnn-z-image-turbo.model.json'), 'utf8')));
    expect(manifest.defaults).toEqual({ steps: 8, minSteps: 4, maxSteps: 16, guidance: 0, distilled: true });
    expect(manifest.textEncoder.maxBatch).toBe(1);
  });

  it('the shipped mini model states its recommended sampling', () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(dir, '../../models/mini/model.json'), 'utf8')));
    expect(manifest.defaults).toEqual({ steps: 8, minSteps: 1, maxSteps: 50, guidance: 1, distilled: false, refine: { strength: 0.2, shift: 1, guidance: 2, inversion: 0.95 } });
  });

  it('refuses recommended settings that contradict themselves', () => {
    const manifest = JSON.parse(readFileSync(join(dir, 'webnn-z-image-turbo.model.json'), 'utf8'));
    const check = (defaults: object) => manifestSchema.safeParse({ ...manifest, defaults: { ...manifest.defaults, ...defaults } }).success;
    expect(check({})).toBe(true);
    expect(check({ steps: 20 })).toBe(false);
    expect(check({ minSteps: 10 })).toBe(false);
    expect(check({ guidance: 3 })).toBe(false);
    expect(check({ guidance: 3, distilled: false })).toBe(true);
    expect(check({ refine: { strength: 0.4, steps: 12, guidance: 0, shift: 1 } })).toBe(true);
    expect(check({ refine: { shift: 0 } })).toBe(false);
    expect(check({ refine: { steps: 20 } })).toBe(false);
    expect(check({ refine: { guidance: 2 } })).toBe(false);
    expect(check({ refine: { strength: 0 } })).toBe(false);
    expect(check({ refine: { strength: 1.5 } })).toBe(false);
    expect(check({ refine: { denoise: 0.5 } })).toBe(false);
    expect(check({ refine: { inversion: 0 } }) && check({ refine: { inversion: 1 } })).toBe(true);
    expect(check({ refine: { inversion: 1.2 } })).toBe(false);
    expect(check({ refine: { inversion: -0.1 } })).toBe(false);
  });
});
