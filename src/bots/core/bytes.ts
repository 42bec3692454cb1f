import { fail, ok, type Result } from '../../result.ts';

/** 20 MiB, 512 KiB: unit symbols read the same in every language. */
export function formatBytes(bytes: number): string {
  return bytes >= 2 ** 20 ? `${Math.round(bytes / 2 ** 20)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * Reads a body of unknown size into memory, stopping as soon as it passes `maxBytes` (never buffering more than
 * the cap and one chunk). Leaving early returns the iterator, which cancels a fetch body; an HTTP request the
 * caller still wants to answer should be passed as `request.iterator({ destroyOnReturn: false })`.
 */
export async function readCapped(chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Result<Uint8Array, 'too-large' | 'aborted'>> {
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of chunks) {
      size += chunk.byteLength;
      if (size > maxBytes) return fail('too-large');
      parts.push(chunk);
    }
  } catch {
    return fail('aborted');
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return ok(bytes);
}
