import sharp from 'sharp';
import type { FakeDiscord, FakeMessage } from './fake-discord.ts';

/** Reading what the fake Discord received, the way the tests look at it. */

/** Every action a message offers: its buttons' ids and its select menus' option values, in order. */
export function customIdsOf(components: readonly unknown[]): string[] {
  return components.flatMap((row) =>
    ((row as { components?: { custom_id: string; options?: { value: string }[] }[] }).components ?? []).flatMap((c) => (c.options ? c.options.map((o) => o.value) : [c.custom_id])),
  );
}

export const customIds = (message: FakeMessage | undefined): string[] => customIdsOf(message?.components ?? []);

/** The job a message belongs to, from its buttons. */
export function jobOf(message: FakeMessage): string {
  const id = customIds(message).find((c) => /^z:(refine|reroll|delete|cancel):/.test(c)) ?? '';
  return /^z:[a-z-]+:([A-Za-z0-9]+)/.exec(id)?.[1] ?? '';
}

/** The interaction's response once it shows a result: an image and the Refine buttons. */
export const resultOf = (fake: FakeDiscord, token: string): Promise<FakeMessage> =>
  fake.waitFor(`a result for ${token.slice(0, 12)}`, () => {
    const message = fake.original(token);
    return message && message.attachments.length > 0 && customIds(message).some((id) => id.startsWith('z:refine:')) ? message : undefined;
  });

/** The interaction's response while it is a status card with a Cancel button; resolves to the job id. */
export const statusCardOf = (fake: FakeDiscord, token: string): Promise<{ card: FakeMessage; jobId: string; cancelId: string }> =>
  fake.waitFor(`a status card for ${token.slice(0, 12)}`, () => {
    const card = fake.original(token);
    const cancelId = customIds(card).find((id) => id.startsWith('z:cancel:'));
    return card && cancelId ? { card, jobId: cancelId.split(':')[2]!, cancelId } : undefined;
  });

/** The private reply to an interaction: an immediate ephemeral response or an ephemeral follow-up. */
export const privateReply = (fake: FakeDiscord, token: string): Promise<string> =>
  fake.waitFor(`a private reply for ${token.slice(0, 12)}`, () => {
    const immediate = fake.callbacks(token).find((r) => (r.json as { type?: number }).type === 4);
    const data = (immediate?.json as { data?: { content: string; flags?: number } } | undefined)?.data;
    if (data && ((data.flags ?? 0) & 64) !== 0) return data.content;
    const followUp = fake.webhookRequests(token).find((r) => r.method === 'POST' && ((r.json as { flags?: number }).flags ?? 0) & 64);
    return (followUp?.json as { content?: string } | undefined)?.content;
  });

/** Downloads a message's first attachment from the fake CDN and decodes it. */
export async function pngOf(message: FakeMessage): Promise<{ width: number; height: number; bytes: Buffer }> {
  const response = await fetch(message.attachments[0]!.url);
  const bytes = Buffer.from(await response.arrayBuffer());
  const meta = await sharp(bytes).metadata();
  return { width: meta.width!, height: meta.height!, bytes };
}

export const callbackTypes = (fake: FakeDiscord, token: string): number[] => fake.callbacks(token).map((c) => (c.json as { type: number }).type);
