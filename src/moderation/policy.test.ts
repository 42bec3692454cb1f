import { describe, expect, it } from 'vitest';
import { moderationSchema } from './config.ts';
import { policyFor, type ModerationPlace } from './policy.ts';

const config = moderationSchema.parse({
  policies: {
    default: 'block',
    discord: {
      default: 'spoiler',
      guilds: {
        g1: { default: 'block', channels: { c1: 'spoiler' } },
        g2: { channels: { c2: 'block' } },
      },
    },
    slack: { workspaces: { T1: { default: 'spoiler', channels: { C9: 'block' } } } },
    studio: 'spoiler',
  },
});

const nsfw = (place: Omit<ModerationPlace, 'channelIsNsfw'>): ModerationPlace => ({ ...place, channelIsNsfw: true });

describe('policyFor', () => {
  it('prefers channel over guild over platform over the global default', () => {
    expect(policyFor(config, nsfw({ scope: ['discord', 'g1', 'c1'] }))).toBe('spoiler'); // channel
    expect(policyFor(config, nsfw({ scope: ['discord', 'g1', 'other'] }))).toBe('block'); // guild
    expect(policyFor(config, nsfw({ scope: ['discord', 'g2', 'c2'] }))).toBe('block'); // channel
    expect(policyFor(config, nsfw({ scope: ['discord', 'g2', 'other'] }))).toBe('spoiler'); // platform
    expect(policyFor(config, nsfw({ scope: ['discord', null, 'dm'] }))).toBe('spoiler'); // platform
    expect(policyFor(config, nsfw({ scope: ['slack', 'T1', 'C1'] }))).toBe('spoiler'); // workspace
    expect(policyFor(config, nsfw({ scope: ['slack', 'T1', 'C9'] }))).toBe('block'); // channel
    expect(policyFor(config, nsfw({ scope: ['slack', 'T2', 'C1'] }))).toBe('block'); // global
    expect(policyFor(config, nsfw({ scope: ['studio'] }))).toBe('spoiler'); // platform
    expect(policyFor(config, nsfw({ scope: ['matrix', 'g1', 'c1'] }))).toBe('block'); // global
  });

  it('never spoilers outside a channel the platform marks NSFW', () => {
    const places: ModerationPlace[] = [
      { scope: ['discord', 'g1', 'c1'], channelIsNsfw: false },
      { scope: ['slack', 'T1', 'C1'], channelIsNsfw: false },
      { scope: ['studio'], channelIsNsfw: false },
    ];
    for (const place of places) expect(policyFor(config, place)).toBe('block');
  });

  it('uses the global default when nothing is configured, and only own keys count as ids', () => {
    const plain = moderationSchema.parse({});
    expect(policyFor(plain, nsfw({ scope: ['discord', 'g1', 'c1'] }))).toBe('block');
    const spoilerAll = moderationSchema.parse({ policies: { default: 'spoiler' } });
    expect(policyFor(spoilerAll, nsfw({ scope: ['slack', 'T1', 'C1'] }))).toBe('spoiler');
    expect(policyFor(config, nsfw({ scope: ['discord', 'constructor', 'toString'] }))).toBe('spoiler');
    expect(policyFor(config, nsfw({ scope: ['discord', 'g1', '__proto__'] }))).toBe('block');
  });
});
