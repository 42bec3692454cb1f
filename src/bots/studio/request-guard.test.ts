import { describe, expect, it } from 'vitest';
import { hostAllowed, isLoopbackHost, originAllowed, originPolicy } from './request-guard.ts';

describe('request guard (DNS rebinding, cross-site requests)', () => {
  const policy = originPolicy(7860);

  it('accepts only 127.0.0.1:port and localhost:port as Host', () => {
    expect(hostAllowed('127.0.0.1:7860', policy)).toBe(true);
    expect(hostAllowed('localhost:7860', policy)).toBe(true);
    expect(hostAllowed('LocalHost:7860', policy)).toBe(true);
    for (const host of ['evil.example:7860', 'evil.example', '127.0.0.1', 'localhost', '127.0.0.1:7861', '[::1]:7860', '0.0.0.0:7860', '127.0.0.1:7860.evil.example', '', undefined]) {
      expect(hostAllowed(host, policy), String(host)).toBe(false);
    }
  });

  it('accepts only our own http origins, and refuses a missing one', () => {
    expect(originAllowed('http://127.0.0.1:7860', policy)).toBe(true);
    expect(originAllowed('http://localhost:7860', policy)).toBe(true);
    for (const origin of ['http://evil.example:7860', 'https://127.0.0.1:7860', 'http://127.0.0.1:7861', 'http://127.0.0.1', 'null', 'file://', '', undefined]) {
      expect(originAllowed(origin, policy), String(origin)).toBe(false);
    }
  });

  it('follows the port the server actually got', () => {
    expect(hostAllowed('127.0.0.1:40123', originPolicy(40123))).toBe(true);
    expect(hostAllowed('127.0.0.1:7860', originPolicy(40123))).toBe(false);
  });

  it('listens on loopback names only', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.10')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
  });
});
