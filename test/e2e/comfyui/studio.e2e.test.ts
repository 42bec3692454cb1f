import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorText } from '../../../src/bots/core/texts.ts';
import { startStudio, type StudioAdapter } from '../../../src/bots/studio/index.ts';
import { cardIds, ephemeralTexts, imagesLoaded, launchChromium, nextFinishedCard, openTab, send, WAIT, type StudioBrowser } from '../studio/browser.ts';
import { startComfyRuntime, START_TIMEOUT_MS, TEST_TIMEOUT_MS, type ComfyRuntime } from './comfy-runtime.ts';

/**
 * The studio in a real browser, every role on two fake ComfyUI servers running the shipped workflow files: a draft
 * on Z-Image-Turbo, /refine on Z-Image, an edit inside a region (inpainting) and an edit by instruction
 * (Qwen-Image-Edit); what ComfyUI cannot express is refused with the backend named.
 */
let comfy: ComfyRuntime;
let studio: StudioAdapter;
let chromium: StudioBrowser;

beforeAll(async () => {
  comfy = await startComfyRuntime({ servers: [{}, {}], config: { studio: { port: 0 } } });
  studio = await startStudio(comfy.runtime);
  chromium = await launchChromium();
}, START_TIMEOUT_MS);

afterAll(async () => {
  await chromium?.close();
  await studio?.stop();
  await comfy?.close();
}, START_TIMEOUT_MS);

const journal = () => comfy.runtime.core.history;
/** Every prompt the servers accepted, oldest first per server. */
const accepted = () => comfy.servers.flatMap((s) => s.accepted);

describe('studio on ComfyUI', () => {
  it('drafts, refines, inpaints a region and edits by instruction on the real workflow files', async () => {
    const { page, context } = await openTab(chromium.browser, studio.url, 'Ada');
    try {
      await send(page, '/draft a red fox in the snow --seed 42 --count 2 --ar 1:1');
      const draft = await nextFinishedCard(page, [], 'draft');
      expect(await page.locator(`#job-${draft}`).getAttribute('data-state')).toBe('result');
      expect((await imagesLoaded(page, draft, 'img.tile')).every((w) => w > 0)).toBe(true);
      const draftRecord = journal().get(draft)!;
      expect(draftRecord.spec).toMatchObject({ modelName: 'Z-Image-Turbo', steps: 8, guidance: 0, width: 1024, height: 1024, seed: 42 });
      expect(['gpu1', 'gpu2']).toContain(draftRecord.backend);
      expect(draftRecord.result!.meta).toMatchObject({ device: draftRecord.backend, provider: 'comfyui', model: 'Z-Image-Turbo' });
      expect(await page.locator(`#job-${draft} .footer`).textContent()).toContain('Z-Image-Turbo · seed 42 · 8 steps');
      // One prompt per candidate, each with its own seed, on the Turbo template.
      const draftPrompts = accepted().filter((a) => a.prompt['8']?.class_type === 'KSampler' && a.prompt['6']?.class_type === 'EmptySD3LatentImage');
      expect(draftPrompts.map((a) => a.prompt['8']!.inputs.seed)).toEqual([42, 43]);

      let before = await cardIds(page);
      await send(page, '/refine');
      const refine = await nextFinishedCard(page, before, 'refine');
      expect(await page.locator(`#job-${refine}`).getAttribute('data-state')).toBe('result');
      expect(journal().get(refine)).toMatchObject({ role: 'refine', status: 'done', spec: { modelName: 'Z-Image', strength: 0.6 } });
      const refinePrompt = accepted().at(-1)!.prompt;
      expect(refinePrompt['1']!.inputs.unet_name).toBe('z_image.safetensors');
      expect(refinePrompt['9']!.inputs).toMatchObject({ denoise: 0.6, cfg: 4 });
      expect(String(refinePrompt['6']!.inputs.image)).toMatch(/^zimage-bot\/in-\d+\.png$/);

      // Reply to candidate 2 with a region: the inpaint workflow, the source kept outside the region.
      before = await cardIds(page);
      await page.locator(`#job-${draft} figure[data-index="1"] button.reply`).click();
      await send(page, 'a blue bird --region left');
      const inpaint = await nextFinishedCard(page, before, 'edit');
      expect(await page.locator(`#job-${inpaint}`).getAttribute('data-state')).toBe('result');
      expect(journal().get(inpaint)).toMatchObject({ status: 'done', parentId: draft, spec: { modelName: 'Z-Image', mask: { kind: 'region' } } });
      const inpaintPrompt = accepted().at(-1)!.prompt;
      expect(inpaintPrompt['7']!.class_type).toBe('LoadImageMask');
      expect(inpaintPrompt['13']!.class_type).toBe('ImageCompositeMasked');

      // Reply to candidate 1 with an instruction alone: Qwen-Image-Edit.
      before = await cardIds(page);
      await page.locator(`#job-${draft} figure[data-index="0"] button.reply`).click();
      await send(page, 'make it snow harder');
      const edit = await nextFinishedCard(page, before, 'edit');
      expect(await page.locator(`#job-${edit}`).getAttribute('data-state')).toBe('result');
      expect(journal().get(edit)).toMatchObject({ status: 'done', spec: { modelName: 'Qwen-Image-Edit', strength: 1, guidance: 1.5, mask: null } });
      const editPrompt = accepted().at(-1)!.prompt;
      expect(editPrompt['5']!.class_type).toBe('TextEncodeQwenImageEdit');
      expect(String(editPrompt['5']!.inputs.prompt)).toContain('make it snow harder');
      expect(editPrompt['10']!.inputs).toMatchObject({ cfg: 2.5, denoise: 1 });

      // What a workflow cannot express is refused, naming the backend, and nothing is queued.
      before = await cardIds(page);
      const count = accepted().length;
      await send(page, '/draft a lighthouse --chaos 20');
      await expect.poll(() => ephemeralTexts(page), WAIT).toContain(errorText('en', { code: 'backend-unsupported', message: '', params: { knob: 'chaos', backend: 'ComfyUI' } }));
      expect(await cardIds(page)).toEqual(before);
      expect(accepted()).toHaveLength(count);
    } finally {
      await context.close();
    }
  }, TEST_TIMEOUT_MS);
});
