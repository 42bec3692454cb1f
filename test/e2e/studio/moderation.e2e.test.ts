import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { startStudio, type StudioAdapter } from '../../../src/bots/studio/index.ts';
import { text } from '../../../src/bots/core/texts.ts';
import { withheldTile } from '../../../src/engine/image/grid.ts';
import type { NsfwScores } from '../../../src/moderation/verdict.ts';
import type { Runtime } from '../../../src/runtime.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { imagesLoaded, launchChromium, nextFinishedCard, openTab, send, START_TIMEOUT_MS, TEST_TIMEOUT_MS, type StudioBrowser } from './browser.ts';

/**
 * A candidate the real classifier flags shows the placeholder tile and gets no buttons; the others are delivered.
 *
 * The fixture model draws one flat colour per prompt, so the matrix `{red|blue|green|cat}` gives four candidates of
 * four colours. Flat colours are nowhere near NSFW, and nsfwjs scores them all low (about 0.03–0.05 for
 * porn + hentai + 0.5·sexy) but not equally. So the test first asks the real classifier for the scores of exactly
 * these images, then sets the threshold τ in the middle of the widest gap between them: the candidates above τ must
 * be withheld and those below delivered. By construction at least one of each exists, so the test cannot pass with
 * nothing flagged, nor with everything flagged (that would be a "blocked" job, not a grid). The sexy-only rule is
 * turned off (sexyThreshold 1) so τ alone decides.
 */
const MATRIX = '{red|blue|green|cat}';
const COMMAND = `/draft ${MATRIX} --seed 7 --steps 4`;

let chromium: StudioBrowser | undefined;
let runtime: Runtime | undefined;
let studio: StudioAdapter | undefined;

afterAll(async () => {
  await chromium?.close();
  await studio?.stop();
  await runtime?.close();
}, START_TIMEOUT_MS);

const combined = (s: NsfwScores): number => s.Porn + s.Hentai + 0.5 * s.Sexy;

async function rgb(png: Buffer): Promise<{ width: number; height: number; data: Uint8Array }> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

/** Runs the matrix once with the default threshold and returns each candidate's combined score from the classifier. */
async function probeScores(): Promise<number[]> {
  const probe = await startTestRuntime({ config: { moderation: { sexyThreshold: 1 } } });
  try {
    const submitted = await probe.engine.submit({ role: 'draft', owner: { platform: 'probe', userId: 'probe' }, prompt: MATRIX, seed: 7, steps: 4 });
    if (!submitted.ok) throw new Error(submitted.error.message);
    const outcome = await submitted.value.settled;
    if (outcome.type !== 'done') throw new Error(`probe job ended ${outcome.type}`);
    const images = [...outcome.result.images].sort((a, b) => a.index - b.index);
    expect(images.map((i) => i.prompt)).toEqual(['red', 'blue', 'green', 'cat']);
    const scores: number[] = [];
    for (const image of images) {
      const verdict = await probe.classifier.judge(await rgb(image.png!));
      if (!verdict.scores) throw new Error(`the classifier gave no scores: ${JSON.stringify(verdict)}`);
      // The engine's own verdict on the same pixels agrees: the classifier is deterministic on these images.
      expect(combined(verdict.scores)).toBeCloseTo(combined(image.verdict.scores!), 6);
      scores.push(combined(verdict.scores));
    }
    return scores;
  } finally {
    await probe.close();
  }
}

describe('studio moderation', () => {
  it('shows the placeholder tile, a note and no buttons for a candidate the real classifier flags', async () => {
    const scores = await probeScores();
    const sorted = [...scores].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((value, i) => ({ low: sorted[i]!, high: value }));
    const widest = gaps.reduce((best, gap) => (gap.high - gap.low > best.high - best.low ? gap : best));
    expect(widest.high - widest.low, `scores ${scores.join(', ')} are too close to separate`).toBeGreaterThan(1e-4);
    const threshold = (widest.low + widest.high) / 2;
    const flagged = scores.flatMap((s, i) => (s > threshold ? [i] : []));
    expect(flagged.length).toBeGreaterThan(0);
    expect(flagged.length).toBeLessThan(scores.length);

    runtime = await startTestRuntime({ config: { studio: { port: 0 }, moderation: { threshold, sexyThreshold: 1 } } });
    studio = await startStudio(runtime);
    chromium = await launchChromium();
    const { page } = await openTab(chromium.browser, studio.url, 'Mo');
    await send(page, COMMAND);
    const jobId = await nextFinishedCard(page, [], 'draft');
    const card = page.locator(`#job-${jobId}`);
    expect(await card.getAttribute('data-state')).toBe('result');

    const record = runtime.core.history.get(jobId)!;
    const withheld = record.result!.images.filter((i) => i.withheld).map((i) => i.index).sort();
    expect(withheld).toEqual(flagged);

    // The note, the placeholder tiles, and buttons only for the delivered candidates.
    expect(await card.locator('.notes li').allTextContents()).toContain(text('en', 'result.withheld', { count: flagged.length, total: 4 }));
    const { width, height } = record.result!.meta;
    const placeholder = await rgb(await withheldTile(width, height));
    for (let index = 0; index < 4; index++) {
      const figure = card.locator(`figure[data-index="${index}"]`);
      const isFlagged = flagged.includes(index);
      expect(await figure.getAttribute('data-withheld')).toBe(String(isFlagged));
      expect(await figure.locator('button.reply').count()).toBe(isFlagged ? 0 : 1);
      // A withheld candidate cannot be voted for: its tile has no vote control.
      expect(await figure.locator('button.vote').count()).toBe(isFlagged ? 0 : 1);
      expect(await card.locator(`button[data-button-id="z:refine:${jobId}:${index}"]`).count()).toBe(isFlagged ? 0 : 1);
      expect(await card.locator(`select.menu option[value="z:vary-subtle:${jobId}:${index}"]`).count()).toBe(isFlagged ? 0 : 1);
      const served = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), `/media/${jobId}/${index}.png`);
      const tile = await rgb(Buffer.from(served));
      expect(Buffer.from(tile.data).equals(Buffer.from(placeholder.data))).toBe(isFlagged);
    }
    expect((await imagesLoaded(page, jobId, 'img')).every((w) => w > 0)).toBe(true);

    // In the grid itself, each flagged candidate's cell is the placeholder.
    const gridBytes = await page.evaluate(async (url) => Array.from(new Uint8Array(await (await fetch(url)).arrayBuffer())), `/media/${jobId}/grid.png`);
    const grid = await rgb(Buffer.from(gridBytes));
    const gutter = grid.width - 2 * width;
    for (let index = 0; index < 4; index++) {
      const left = (index % 2) * (width + gutter);
      const top = Math.floor(index / 2) * (height + gutter);
      let same = true;
      for (let y = 0; y < height && same; y++) {
        const row = (top + y) * grid.width + left;
        const cell = Buffer.from(grid.data.subarray(row * 3, (row + width) * 3));
        same = cell.equals(Buffer.from(placeholder.data.subarray(y * width * 3, (y + 1) * width * 3)));
      }
      expect(same, `grid cell ${index}`).toBe(flagged.includes(index));
    }
  }, TEST_TIMEOUT_MS);
});
