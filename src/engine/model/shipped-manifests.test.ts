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
});
