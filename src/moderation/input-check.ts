import { engineError, type EngineError } from '../engine/errors.ts';
import type { ModerationConfig } from './config.ts';
import type { ImageModerator, RgbImage } from './verdict.ts';

/** The engine's `inputCheck`: refuses an input image (refine/edit) before any GPU time is spent on it. */
export type InputCheck = (image: RgbImage) => Promise<EngineError | undefined>;

/**
 * Judges input images with the same classifier and rule as outputs. Flagged → `input-blocked`; a classifier that
 * cannot answer → `moderation-unavailable` (fail closed: the job is refused, not run unchecked). With
 * `judgeInputs: false` every image passes. Params stay empty: the rule and scores are for logs, not for chat.
 */
export function createInputCheck(classifier: ImageModerator, config: Pick<ModerationConfig, 'judgeInputs'>): InputCheck {
  if (!config.judgeInputs) return () => Promise.resolve(undefined);
  return async (image) => {
    let verdict;
    try {
      verdict = await classifier.judge(image);
    } catch (error) {
      return engineError('moderation-unavailable', `The input image could not be checked: ${(error as Error).message}`);
    }
    if (!verdict.flagged) return undefined;
    if (verdict.reason === 'unavailable') {
      return engineError('moderation-unavailable', `The input image could not be checked: ${verdict.rule}`);
    }
    return engineError('input-blocked', `The input image was refused by the NSFW classifier (${verdict.rule})`);
  };
}
