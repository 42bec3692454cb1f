import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStudio } from '../../../src/bots/studio/index.ts';
import { ROOT } from '../../support/fakes.ts';
import { startTestRuntime } from '../support/test-runtime.ts';
import { launchChromium, nextFinishedCard, openTab, send } from './browser.ts';

/**
 * The README's screenshot of the studio (docs/studio.png), with real results on screen: a draft grid with its
 * buttons, and a refine of one candidate.
 *
 *   node --import tsx test/e2e/studio/screenshot.ts [--model auto|mini|fixture] [--out docs/studio.png]
 *
 * `auto` takes the shipped models/mini when it is there, else the fixture model (flat colours, one per prompt).
 */
const { values } = parseArgs({ options: { model: { type: 'string', default: 'auto' }, out: { type: 'string', default: join(ROOT, 'docs/studio.png') } } });
const useMini = values.model === 'mini' || (values.model === 'auto' && existsSync(join(ROOT, 'models/mini/model.json')));
// The mini model knows shapes, colours and positions; the fixture draws one flat colour per prompt alternative.
const prompt = useMini ? 'a yellow star in the center over a plain blue background --seed 7' : 'a lighthouse at dusk, {amber|teal|violet|coral} sky --seed 7';

const runtime = await startTestRuntime({ ...(useMini ? { model: 'mini' as const } : {}), config: { studio: { port: 0 } }, statusIntervalMs: 500 });
const studio = await startStudio(runtime);
const chromium = await launchChromium();
try {
  const { page } = await openTab(chromium.browser, studio.url, 'Ada');
  page.setDefaultTimeout(600_000);
  await page.setViewportSize({ width: 1280, height: 1720 });
  await send(page, `/draft ${prompt}`);
  const draft = await nextFinishedCard(page, [], 'draft');
  await page.locator(`#job-${draft} button[data-button-id="z:refine:${draft}:1"]`).click();
  const refine = await nextFinishedCard(page, [draft], 'refine');
  for (const image of await page.locator('#feed img').all()) await image.evaluate((img: HTMLImageElement) => img.decode());
  await page.evaluate(() => document.getElementById('feed')!.scrollTo(0, 0));
  await page.fill('#text', 'make the sky darker');
  await page.locator(`#job-${refine} figure[data-index="0"] button.reply`).click();
  mkdirSync(dirname(values.out), { recursive: true });
  await page.screenshot({ path: values.out });
  process.stdout.write(`wrote ${values.out} (${useMini ? 'models/mini' : 'fixture model'})\n`);
} finally {
  await chromium.close();
  await studio.stop();
  await runtime.close();
}
