import type { JobRecord, JobScope } from '../../engine/history.ts';
import type { VaryStrength } from '../../engine/noise-spec.ts';
import type { ModerationPlace } from '../../moderation/policy.ts';
import type { CommandOptions } from './options.ts';

export type Locale = 'en' | 'zh-CN';

/** Maps a platform's locale string (Discord `zh-CN`, Slack `zh-CN`, a browser's `zh-Hans-CN`) to ours. */
export function localeFrom(value: string | null | undefined): Locale {
  return value && /^zh\b/i.test(value) ? 'zh-CN' : 'en';
}

/** Who asked. */
export interface Actor {
  readonly platform: string;
  readonly userId: string;
  readonly name?: string;
  readonly locale: Locale;
  /** May cancel or delete anyone's job (a server admin, a workspace admin). */
  readonly isAdmin?: boolean;
  /** May change the channel's settings (Discord Manage Server or Manage Channel, Slack admins and owners, anyone in the studio). */
  readonly canConfigure?: boolean;
}

/** Where it was asked. */
export interface Place {
  readonly platform: string;
  /** Discord guild / Slack workspace. */
  readonly guildId?: string;
  readonly channelId: string;
  /** The platform marks the channel NSFW / age-restricted (spoiler policy may apply). */
  readonly channelIsNsfw: boolean;
}

/**
 * An image to start from: bytes already at hand (a studio upload, a file from the terminal), one of this bot's
 * results (one candidate, or — without an index — the whole result, every candidate it delivered), or an attachment
 * on the platform's file servers that the core downloads under the adapter's fetch policy (the size the platform
 * declares is checked before anything is downloaded).
 */
export type ImageSource =
  | { readonly bytes: Uint8Array }
  | { readonly jobId: string; readonly index?: number }
  | { readonly url: string; readonly declaredBytes?: number };

/** Platform-neutral commands: slash commands, inline text, buttons, context menus all become one of these. */
export type CommandRequest =
  | { readonly kind: 'draft'; readonly text: string; readonly options?: CommandOptions }
  | {
      readonly kind: 'refine';
      readonly text?: string;
      readonly options?: CommandOptions;
      /** An attachment, a chosen candidate; neither: the actor's latest draft in this channel. */
      readonly image?: ImageSource;
    }
  | {
      readonly kind: 'edit';
      readonly text: string;
      readonly options?: CommandOptions;
      /** Absent: the actor's newest result in this channel. */
      readonly image?: ImageSource;
      readonly mask?: ImageSource;
      /** Which candidate of a whole result (1-based), from a form's field; `#n` at the start of the text says the same. */
      readonly candidate?: number;
    }
  | { readonly kind: 'vary'; readonly jobId: string; readonly index: number; readonly strength: VaryStrength }
  /** Candidate `index` of a result, enlarged by the configured upscale model. */
  | { readonly kind: 'upscale'; readonly jobId: string; readonly index: number }
  | { readonly kind: 'reroll'; readonly jobId: string }
  /** The result's prompt rewritten by the prompt assistant (its original, if it was enhanced), drafted with its settings. */
  | { readonly kind: 'enhance'; readonly jobId: string }
  /** An enhanced result's original prompt, drafted with its settings. */
  | { readonly kind: 'original'; readonly jobId: string }
  /** Suggestion `index` (0-based) of a stored describe set, drafted. */
  | { readonly kind: 'suggestion'; readonly setId: string; readonly index: number }
  | { readonly kind: 'cancel'; readonly jobId: string }
  | { readonly kind: 'delete'; readonly jobId: string };

/** The commands that make a job. */
export type JobCommand = Extract<CommandRequest, { kind: 'draft' | 'refine' | 'edit' | 'vary' | 'upscale' | 'reroll' | 'enhance' | 'original' | 'suggestion' }>;
/** What a job's owner (or an admin) may do to it. */
export type OwnerAction = Extract<CommandRequest, { kind: 'cancel' | 'delete' }>;

/** A command whose text was read: grammar checked, flags parsed, attachments' declared sizes checked. */
export type ParsedCommand =
  | { readonly kind: 'draft'; readonly prompt: string; readonly options: CommandOptions }
  | { readonly kind: 'refine'; readonly prompt: string; readonly options: CommandOptions; readonly image?: ImageSource }
  | {
      readonly kind: 'edit';
      readonly prompt: string;
      readonly options: CommandOptions;
      readonly image?: ImageSource;
      readonly mask?: ImageSource;
      /** The candidate of a whole result to edit (1-based); absent: every candidate it delivered. */
      readonly pick?: number;
    }
  | Extract<CommandRequest, { kind: 'vary' | 'upscale' | 'reroll' | 'enhance' | 'original' | 'suggestion' }>;

/** Who asked, and where. */
export interface Who {
  readonly actor: Actor;
  readonly place: Place;
}

/** The place as the engine records it: a user's "latest" result is looked up per scope. */
export function scopeOf(place: Place): JobScope {
  return { platform: place.platform, workspace: place.guildId ?? null, channel: place.channelId };
}

/** Whether `who` owns the job, or administers the workspace it was asked in (an admin elsewhere is nobody here). */
export function ownsOrAdministers(record: Pick<JobRecord, 'owner' | 'scope'>, who: Who): boolean {
  const { actor } = who;
  const isOwner = record.owner.platform === actor.platform && record.owner.userId === actor.userId;
  const here = scopeOf(who.place);
  return isOwner || (actor.isAdmin === true && record.scope.platform === here.platform && record.scope.workspace === here.workspace);
}

/** The place as moderation sees it: a chain of scopes, broadest first. */
export function moderationPlace(place: Place): ModerationPlace {
  return { scope: [place.platform, place.guildId ?? null, place.channelId], channelIsNsfw: place.channelIsNsfw };
}
