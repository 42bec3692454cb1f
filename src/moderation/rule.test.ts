import { describe, expect, it } from 'vitest';
import { applyRule } from './rule.ts';
import type { NsfwScores } from './verdict.ts';

const config = { threshold: 0.55, sexyThreshold: 0.8 };
const scores = (partial: Partial<NsfwScores>): NsfwScores => ({ Drawing: 0, Hentai: 0, Neutral: 0, Porn: 0, Sexy: 0, ...partial });

describe('applyRule', () => {
  it('passes neutral and drawing images, with their scores', () => {
    const s = scores({ Neutral: 0.9, Drawing: 0.1 });
    expect(applyRule(s, config)).toEqual({ flagged: false, scores: s });
    expect(applyRule(scores({ Drawing: 0.97, Hentai: 0.03 }), config).flagged).toBe(false);
  });

  it('flags porn + hentai + 0.5·sexy above τ and names the rule with its value', () => {
    const verdict = applyRule(scores({ Porn: 0.5, Hentai: 0.1, Sexy: 0.22, Neutral: 0.18 }), config);
    expect(verdict).toMatchObject({ flagged: true, reason: 'nsfw', rule: 'porn+hentai+0.5·sexy = 0.710 > 0.55' });
    expect(verdict.flagged && verdict.scores?.Porn).toBe(0.5);
  });

  it('counts each class with its weight: half of Sexy, all of Hentai', () => {
    expect(applyRule(scores({ Hentai: 0.56, Drawing: 0.44 }), config).flagged).toBe(true);
    // 0.3 + 0.5·0.5 = 0.55 is not above τ.
    expect(applyRule(scores({ Porn: 0.3, Sexy: 0.5, Neutral: 0.2 }), config).flagged).toBe(false);
    expect(applyRule(scores({ Porn: 0.31, Sexy: 0.5, Neutral: 0.19 }), config).flagged).toBe(true);
  });

  it('flags Sexy alone past its own threshold, which the combined rule never reaches', () => {
    const verdict = applyRule(scores({ Sexy: 0.85, Neutral: 0.15 }), config);
    expect(verdict).toMatchObject({ flagged: true, reason: 'nsfw', rule: 'sexy = 0.850 > 0.8' });
    expect(applyRule(scores({ Sexy: 0.75, Neutral: 0.25 }), config).flagged).toBe(false);
    expect(applyRule(scores({ Sexy: 0.85, Neutral: 0.15 }), { ...config, sexyThreshold: 1 }).flagged).toBe(false);
  });

  it('follows the configured thresholds', () => {
    const s = scores({ Porn: 0.3, Neutral: 0.7 });
    expect(applyRule(s, { ...config, threshold: 0.25 }).flagged).toBe(true);
    expect(applyRule(s, { ...config, threshold: 0.35 }).flagged).toBe(false);
  });

  it('fails closed on scores that are not probabilities', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.1, 1.5]) {
      expect(applyRule(scores({ Porn: bad, Neutral: 0.5 }), config)).toMatchObject({ flagged: true, reason: 'unavailable' });
    }
  });
});
