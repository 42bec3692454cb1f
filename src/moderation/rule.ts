import type { ModerationConfig } from './config.ts';
import type { ModerationVerdict, NsfwScores } from './verdict.ts';

export type RuleConfig = Pick<ModerationConfig, 'threshold' | 'sexyThreshold'>;

const CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;

const show = (value: number): string => value.toFixed(3);

/**
 * The blocking rule, apart from any model so it can be tested with chosen scores: porn + hentai + 0.5·sexy > τ, or
 * sexy alone > its own threshold. Scores that are not probabilities mean the classifier is broken, and an image
 * nobody could judge is not posted.
 */
export function applyRule(scores: NsfwScores, config: RuleConfig): ModerationVerdict {
  const broken = CLASSES.find((name) => !Number.isFinite(scores[name]) || scores[name] < 0 || scores[name] > 1.0001);
  if (broken !== undefined) {
    return { flagged: true, reason: 'unavailable', rule: `classifier returned an invalid ${broken} score (${scores[broken]})`, scores };
  }
  const combined = scores.Porn + scores.Hentai + 0.5 * scores.Sexy;
  if (combined > config.threshold) {
    return { flagged: true, reason: 'nsfw', rule: `porn+hentai+0.5·sexy = ${show(combined)} > ${config.threshold}`, scores };
  }
  if (scores.Sexy > config.sexyThreshold) {
    return { flagged: true, reason: 'nsfw', rule: `sexy = ${show(scores.Sexy)} > ${config.sexyThreshold}`, scores };
  }
  return { flagged: false, scores };
}
