import { sniffImageType } from '../../engine/image/input.ts';
import type { CoreError } from './errors.ts';

/**
 * Downloads a user's attachment safely: only from the platform's own file hosts (plus a configured proxy/test
 * host), following redirects only onto those hosts, with a byte cap enforced while streaming, and content sniffing
 * before anything tries to decode it.
 */
export interface FetchPolicy {
  /** Exact hosts (`cdn.discordapp.com`) or suffixes with a leading dot (`.slack-edge.com`). */
  readonly allowedHosts: readonly string[];
  readonly maxBytes: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Plain http is refused except for these hosts (a local proxy, the tests' fake servers). */
  readonly insecureHosts?: readonly string[];
}

export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return allowed.some((a) => (a.startsWith('.') ? host.endsWith(a.toLowerCase()) : host === a.toLowerCase()));
}

export type FetchResult = { readonly ok: true; readonly bytes: Uint8Array; readonly type: string } | { readonly ok: false; readonly error: CoreError };

export async function fetchImage(url: string, policy: FetchPolicy): Promise<FetchResult> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return { ok: false, error: { code: 'attachment-host' } };
  }
  const signal = AbortSignal.timeout(policy.timeoutMs ?? 20_000);
  for (let hop = 0; hop < 4; hop++) {
    const secure = current.protocol === 'https:';
    const insecureOk = current.protocol === 'http:' && hostAllowed(current.hostname, policy.insecureHosts ?? []);
    if ((!secure && !insecureOk) || !hostAllowed(current.hostname, policy.allowedHosts)) {
      return { ok: false, error: { code: 'attachment-host' } };
    }
    let response: Response;
    try {
      response = await fetch(current, { headers: policy.headers, redirect: 'manual', signal });
    } catch {
      return { ok: false, error: { code: 'attachment-fetch' } };
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      if (!location) return { ok: false, error: { code: 'attachment-fetch' } };
      current = new URL(location, current);
      continue;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return { ok: false, error: { code: 'attachment-fetch' } };
    }
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    const max = `${Math.round(policy.maxBytes / 2 ** 20)} MiB`;
    if (declared > policy.maxBytes) {
      await response.body.cancel();
      return { ok: false, error: { code: 'attachment-too-large', params: { max } } };
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        size += read.value.byteLength;
        if (size > policy.maxBytes) {
          await reader.cancel().catch(() => undefined);
          return { ok: false, error: { code: 'attachment-too-large', params: { max } } };
        }
        chunks.push(read.value);
      }
    } catch {
      return { ok: false, error: { code: 'attachment-fetch' } };
    }
    const bytes = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    const type = sniffImageType(bytes);
    if (type === null) return { ok: false, error: { code: 'unsupported-attachment' } };
    return { ok: true, bytes, type };
  }
  return { ok: false, error: { code: 'attachment-fetch' } };
}
