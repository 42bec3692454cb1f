/** What the output classifier said about one image. Scores are the classifier's class probabilities. */
export type NsfwClass = 'Drawing' | 'Hentai' | 'Neutral' | 'Porn' | 'Sexy';
export type NsfwScores = Readonly<Record<NsfwClass, number>>;

export type ModerationVerdict =
  | { readonly flagged: false; readonly scores: NsfwScores }
  | {
      readonly flagged: true;
      /** nsfw: the rule fired; unavailable: the classifier failed or timed out (fail closed). */
      readonly reason: 'nsfw' | 'unavailable';
      /** Which rule fired, for the job log ("porn+hentai+0.5·sexy > 0.55"). */
      readonly rule: string;
      readonly scores?: NsfwScores;
    };

/** How a channel treats a flagged image: withhold it, or post it behind a spoiler (NSFW channels only). */
export type ModerationPolicy = 'block' | 'spoiler';

/** The pixels a classifier judges: 8-bit RGB, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface ImageModerator {
  judge(image: RgbImage): Promise<ModerationVerdict>;
}
