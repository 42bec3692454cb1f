import type { ModerationConfig, PoliciesConfig, ScopePolicies } from './config.ts';
import type { ModerationPolicy } from './verdict.ts';

/** Where an image would be posted, as the adapter knows it. */
export interface ModerationPlace {
  readonly platform: 'discord' | 'slack' | 'studio' | (string & {});
  /** Discord guild id or Slack team (workspace) id; absent in DMs and the studio. */
  readonly guildId?: string;
  readonly channelId?: string;
  /** The platform marks the channel NSFW / age-restricted (Discord's nsfw flag; the adapter's call elsewhere). */
  readonly channelIsNsfw: boolean;
}

/** Ids come from chat users' platforms; only the record's own keys count ("constructor" is not a guild). */
function own<T>(record: Readonly<Record<string, T>> | undefined, key: string | undefined): T | undefined {
  return record !== undefined && key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

function scopeOf(
  config: PoliciesConfig,
  place: ModerationPlace,
): { readonly scope?: ScopePolicies | undefined; readonly platform: ModerationPolicy | null } {
  switch (place.platform) {
    case 'discord':
      return { platform: config.discord.default, scope: own(config.discord.guilds, place.guildId) };
    case 'slack':
      return { platform: config.slack.default, scope: own(config.slack.workspaces, place.guildId) };
    case 'studio':
      return { platform: config.studio };
    default:
      return { platform: null };
  }
}

/**
 * How a flagged image is treated in one channel. The most specific setting wins: channel, then guild/workspace,
 * then platform, then the global default. A spoiler is only allowed where the platform itself marks the channel
 * NSFW, so a misconfigured override cannot put a flagged image (even blurred) into an ordinary channel.
 */
export function policyFor(config: Pick<ModerationConfig, 'policies'>, place: ModerationPlace): ModerationPolicy {
  const { scope, platform } = scopeOf(config.policies, place);
  const chosen = own(scope?.channels, place.channelId) ?? scope?.default ?? platform ?? config.policies.default;
  return chosen === 'spoiler' && place.channelIsNsfw ? 'spoiler' : 'block';
}
