import { sniffImageType } from '../../engine/image/input.ts';
import { fail, ok, type Result } from '../../result.ts';
import { formatBytes, readCapped } from './bytes.ts';
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

export type FetchResult = Result<{ readonly bytes: Uint8Array; readonly type: string }, CoreError>;

/** https to an allowed host (plain http only to the hosts the policy names for it), every hop of a redirect included. */
function hostRefusal(url: URL, policy: FetchPolicy): CoreError | undefined {
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && hostAllowed(url.hostname, policy.insecureHosts ?? []));
  return secure && hostAllowed(url.hostname, policy.allowedHosts) ? undefined : { code: 'attachment-host' };
}

/** The checks that need no download (the URL's host and scheme, the size the platform declares). */
export function precheckDownload(url: string, declaredBytes: number | undefined, policy: FetchPolicy): CoreError | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { code: 'attachment-host' };
  }
  const host = hostRefusal(parsed, policy);
  if (host) return host;
  if (declaredBytes !== undefined && declaredBytes > policy.maxBytes) return { code: 'attachment-too-large', params: { max: formatBytes(policy.maxBytes) } };
  return undefined;
}

export async function fetchImage(url: string, policy: FetchPolicy): Promise<FetchResult> {
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    return fail({ code: 'attachment-host' });
  }
  const signal = AbortSignal.timeout(policy.timeoutMs ?? 20_000);
  for (let hop = 0; hop < 4; hop++) {
    const host = hostRefusal(current, policy);
    if (host) return fail(host);
    let response: Response;
    try {
      response = await fetch(current, { headers: policy.headers, redirect: 'manual', signal });
    } catch {
      return fail({ code: 'attachment-fetch' });
    }
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      await response.body?.cancel();
      // A Location that is no URL at all (URL.canParse rather than a throw) is a failed download like any other.
      if (!location || !URL.canParse(location, current)) return fail({ code: 'attachment-fetch' });
      current = new URL(location, current);
      continue;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return fail({ code: 'attachment-fetch' });
    }
    const declared = Number(response.headers.get('content-length') ?? 'NaN');
    const tooLarge = fail({ code: 'attachment-too-large', params: { max: formatBytes(policy.maxBytes) } } as const);
    if (declared > policy.maxBytes) {
      await response.body.cancel();
      return tooLarge;
    }
    // Node's web streams are async iterable; the DOM typings this project compiles with do not say so.
    const read = await readCapped(response.body as unknown as AsyncIterable<Uint8Array>, policy.maxBytes);
    if (!read.ok) return read.error === 'too-large' ? tooLarge : fail({ code: 'attachment-fetch' });
    const bytes = read.value;
    const type = sniffImageType(bytes);
    if (type === null) return fail({ code: 'unsupported-attachment' });
    return ok({ bytes, type });
  }
  return fail({ code: 'attachment-fetch' });
}
