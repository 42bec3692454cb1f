import type { ModerationConfig } from './config.ts';
import type { ModerationPolicy } from './verdict.ts';

/** Where an image would be posted: a chain of scopes from the broadest, e.g. `['discord', guild, channel]`. */
export interface ModerationPlace {
  /** Platform, then workspace (guild, Slack team), then channel; null where a level does not exist (a DM, the studio). */
  readonly scope: readonly (string | null)[];
  /** The platform marks the channel NSFW / age-restricted (Discord's nsfw flag; the adapter's call elsewhere). */
  readonly channelIsNsfw: boolean;
}

/** One level of the policy settings: its own policy (null → the level above's) and the levels below it by id. */
interface PolicyNode {
  readonly policy: ModerationPolicy | null;
  readonly children: ReadonlyMap<string, PolicyNode>;
}

type Section = ModerationPolicy | null | { readonly default?: ModerationPolicy | null } & Readonly<Record<string, unknown>>;

/**
 * The configuration's policies as a tree. A section is a policy (or null), or an object whose `default` is its
 * policy and whose other object-valued keys (`guilds`, `workspaces`, `channels`…) hold the scopes below it by id.
 * Ids come from chat users' platforms, so only the record's own keys count ("constructor" is not a guild).
 */
function node(section: Section | undefined): PolicyNode {
  if (section === undefined || section === null || typeof section === 'string') return { policy: section ?? null, children: new Map() };
  const children = new Map<string, PolicyNode>();
  for (const [key, value] of Object.entries(section)) {
    if (key === 'default' || typeof value !== 'object' || value === null) continue;
    for (const [id, child] of Object.entries(value as Record<string, Section>)) children.set(id, node(child));
  }
  return { policy: section.default ?? null, children };
}

function rootOf(policies: ModerationConfig['policies']): PolicyNode {
  const { default: global, ...platforms } = policies;
  return { policy: global, children: new Map(Object.entries(platforms).map(([platform, section]) => [platform, node(section as Section)])) };
}

const trees = new WeakMap<object, PolicyNode>();

/**
 * How a flagged image is treated in one place. The most specific setting on the place's scope chain wins (channel,
 * then workspace, then platform, then the global default). A spoiler is only allowed where the platform itself
 * marks the channel NSFW, so a misconfigured override cannot put a flagged image (even blurred) into an ordinary
 * channel.
 */
export function policyFor(config: Pick<ModerationConfig, 'policies'>, place: ModerationPlace): ModerationPolicy {
  let tree = trees.get(config.policies);
  if (!tree) {
    tree = rootOf(config.policies);
    trees.set(config.policies, tree);
  }
  let chosen: ModerationPolicy = tree.policy ?? 'block';
  let level: PolicyNode | undefined = tree;
  for (const id of place.scope) {
    level = id === null ? undefined : level.children.get(id);
    if (!level) break;
    chosen = level.policy ?? chosen;
  }
  return chosen === 'spoiler' && place.channelIsNsfw ? 'spoiler' : 'block';
}
