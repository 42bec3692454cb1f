/**
 * DNS rebinding and cross-site defences for a server on 127.0.0.1. A page on evil.example can make the browser
 * talk to 127.0.0.1 (rebinding its own name to it), but it cannot forge the Host header, and a browser always sends
 * the page's Origin on WebSocket handshakes and POSTs. So: every request must name us in Host, and every request
 * that acts (WebSocket, POST) must come from one of our own origins.
 */
export interface OriginPolicy {
  /** `127.0.0.1:port` and `localhost:port`, the only Host values served. */
  readonly hosts: ReadonlySet<string>;
  /** `http://127.0.0.1:port` and `http://localhost:port`. */
  readonly origins: ReadonlySet<string>;
}

/** The loopback names a browser may use to reach the studio on this port. */
export function originPolicy(port: number): OriginPolicy {
  const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
  return { hosts: new Set(hosts), origins: new Set(hosts.map((h) => `http://${h}`)) };
}

/** Host is exactly one of ours (case-insensitive, as DNS names are). */
export function hostAllowed(host: string | undefined, policy: OriginPolicy): boolean {
  return host !== undefined && policy.hosts.has(host.toLowerCase());
}

/** Origin is present and exactly one of ours: a missing Origin is refused, since browsers always send one here. */
export function originAllowed(origin: string | undefined, policy: OriginPolicy): boolean {
  return origin !== undefined && policy.origins.has(origin.toLowerCase());
}

/** Addresses the studio may listen on: it is a local tool with no authentication. */
export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost';
}
