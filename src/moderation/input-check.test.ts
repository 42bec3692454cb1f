import { describe, expect, it } from 'vitest';
import { createInputCheck } from './input-check.ts';
import type { ImageModerator, ModerationVerdict, RgbImage } from './verdict.ts';

const image: RgbImage = { width: 2, height: 2, data: new Uint8Array(12) };
const scores = { Drawing: 0, Hentai: 0, Neutral: 1, Porn: 0, Sexy: 0 };

/** A moderator that answers with a fixed verdict, or throws. */
function moderator(answer: ModerationVerdict | Error): ImageModerator & { calls: number } {
  return {
    calls: 0,
    judge(): Promise<ModerationVerdict> {
      this.calls += 1;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
}

describe('createInputCheck', () => {
  it('lets a clean image through', async () => {
    expect(await createInputCheck(moderator({ flagged: false, scores }), { judgeInputs: true })(image)).toBeUndefined();
  });

  it('refuses a flagged image with input-blocked', async () => {
    const check = createInputCheck(moderator({ flagged: true, reason: 'nsfw', rule: 'sexy = 0.900 > 0.8', scores }), { judgeInputs: true });
    const error = await check(image);
    expect(error?.code).toBe('input-blocked');
    expect(error?.message).toContain('sexy = 0.900 > 0.8');
  });

  it('fails closed with moderation-unavailable when the classifier cannot answer or throws', async () => {
    const unavailable = createInputCheck(moderator({ flagged: true, reason: 'unavailable', rule: 'timeout' }), { judgeInputs: true });
    expect((await unavailable(image))?.code).toBe('moderation-unavailable');
    const throwing = createInputCheck(moderator(new Error('boom')), { judgeInputs: true });
    expect(await throwing(image)).toMatchObject({ code: 'moderation-unavailable', message: expect.stringContaining('boom') });
  });

  it('does not call the classifier when judgeInputs is off', async () => {
    const fake = moderator({ flagged: true, reason: 'nsfw', rule: 'x', scores });
    expect(await createInputCheck(fake, { judgeInputs: false })(image)).toBeUndefined();
    expect(fake.calls).toBe(0);
  });
});
