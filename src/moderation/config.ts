import { z } from 'zod';

/**
 * The `moderation:` section of the configuration. config/default.yaml documents every key and holds the shipped
 * term lists; the defaults here are the same values, so a section parsed on its own (tests, the benchmark) behaves
 * like the shipped configuration apart from the term lists.
 */

const policy = z.enum(['block', 'spoiler']);

/** Overrides for one Discord guild or Slack workspace. */
const scopePolicies = z
  .object({
    /** The guild's / workspace's default; absent or null → the platform default. */
    default: policy.nullish(),
    /** Per-channel policy by channel id; beats the guild/workspace default. */
    channels: z.record(z.string().min(1), policy).optional(),
  })
  .strict();
export type ScopePolicies = z.infer<typeof scopePolicies>;

const policiesSchema = z
  .object({
    /** Where nothing more specific is configured. */
    default: policy.default('block'),
    discord: z
      .object({
        /** null → the global default. */
        default: policy.nullable().default(null),
        /** By guild id. Quote the ids in YAML: snowflakes are too long for a YAML number. */
        guilds: z.record(z.string().min(1), scopePolicies).default({}),
      })
      .strict()
      .default({ default: null, guilds: {} }),
    slack: z
      .object({
        default: policy.nullable().default(null),
        /** By workspace (team) id. */
        workspaces: z.record(z.string().min(1), scopePolicies).default({}),
      })
      .strict()
      .default({ default: null, workspaces: {} }),
    /** The local studio; null → the global default. */
    studio: policy.nullable().default(null),
  })
  .strict();
export type PoliciesConfig = z.infer<typeof policiesSchema>;

const term = z.string().trim().min(1);

const promptFilterSchema = z
  .object({
    /** Explicit sexual terms (English, Chinese in Simplified, pinyin, Japanese); a prompt containing one is refused. */
    terms: z.array(term).default([]),
    /** Terms that sexualise minors; kept apart so the refusal carries its own category. */
    minorTerms: z.array(term).default([]),
    /** Phrases that contain a term but are harmless ("异性交往" holds 性交, "カロリー" holds ロリ); masked before matching. */
    allow: z.array(term).default([]),
    /** Extra terms, one per line (blank lines and lines starting with # are skipped); null → none. */
    file: z.string().min(1).nullable().default(null),
  })
  .strict();
export type PromptFilterConfig = z.infer<typeof promptFilterSchema>;

export const NSFW_MODELS = ['MobileNetV2', 'MobileNetV2Mid', 'InceptionV3'] as const;
export type NsfwModelName = (typeof NSFW_MODELS)[number];

/** Side of the square image each model takes (nsfwjs' own sizes). */
export const NSFW_INPUT_SIZE: Readonly<Record<NsfwModelName, number>> = { MobileNetV2: 224, MobileNetV2Mid: 224, InceptionV3: 299 };

export const moderationSchema = z
  .object({
    /** nsfwjs' classifier, as an ONNX graph in models/nsfw: MobileNetV2 (fast, 224²), MobileNetV2Mid (224²), InceptionV3 (299², slow). */
    model: z.enum(NSFW_MODELS).default('MobileNetV2'),
    /** τ of the rule porn + hentai + 0.5·sexy > τ. */
    threshold: z.number().gt(0).max(1).default(0.55),
    /**
     * Sexy alone past this also blocks: nsfwjs often files generated nudity under Sexy rather than Porn, and the
     * combined rule never fires on Sexy alone (0.5·sexy ≤ 0.5 < τ). 0.8 blocks only confident Sexy calls (four fifths
     * of the probability), leaving middling Sexy scores — swimwear, fashion, portraits — to the combined rule, where
     * some Porn or Hentai must add up with them. Lower it for stricter servers; 1 turns this rule off.
     */
    sexyThreshold: z.number().gt(0).max(1).default(0.8),
    /** Per image, from the call to judge until its verdict; past it the verdict is `unavailable` (fail closed). */
    timeoutMs: z.number().int().positive().max(600_000).default(5000),
    /** Judge the input images of refine/edit before any GPU time is spent on them. */
    judgeInputs: z.boolean().default(true),
    promptFilter: promptFilterSchema.default({ terms: [], minorTerms: [], allow: [], file: null }),
    policies: policiesSchema.default({
      default: 'block',
      discord: { default: null, guilds: {} },
      slack: { default: null, workspaces: {} },
      studio: null,
    }),
    /**
     * The policies a channel's admins may choose with /settings (over `policies`' value for their channel). A spoiler
     * is still only ever used where the platform marks the channel NSFW; [block] lets no channel loosen anything.
     */
    channelPolicies: z.array(z.enum(['block', 'spoiler'])).default(['block', 'spoiler']),
  })
  .strict();

export type ModerationConfig = z.infer<typeof moderationSchema>;
