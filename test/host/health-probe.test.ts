// The address check before a probe. Nothing here reaches another host: names
// resolve through an injected resolver, and the only addresses that could be
// connected to, were the check broken, are broadcast (TCP never sends to them).
import { describe, expect, it } from 'vitest';
import { probeThrough, vetTarget, type ProbeAccess } from '../../daemon/host/health-probe.ts';

function access(names: Record<string, string[]>, allowRemote = false): ProbeAccess & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    allowRemote,
    localAddresses: () => ['127.0.0.1', '::1', '192.168.1.20'],
    resolve: async (host) => {
      asked.push(host);
      const found = names[host];
      if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return found;
    },
  };
}

const http = (url: string) => ({ type: 'http' as const, url, timeoutMs: 1000 });

describe('vetTarget', () => {
  it('resolves a name and keeps its addresses when every one is local', async () => {
    const a = access({ 'app.local': ['192.168.1.20', '127.0.0.1'] });
    expect(await vetTarget(http('http://app.local:8080/health'), a)).toEqual({ addresses: ['192.168.1.20', '127.0.0.1'] });
  });

  it('refuses a name with a remote address among its answers', async () => {
    const a = access({ 'rebind.example': ['127.0.0.1', '169.254.169.254'] });
    expect(await vetTarget(http('http://rebind.example/'), a)).toEqual({
      refused: expect.stringMatching(/^rebind\.example \(169\.254\.169\.254\) is not an address of this host/),
    });
  });

  it('refuses the metadata address without asking the resolver', async () => {
    const a = access({});
    expect(await vetTarget(http('http://169.254.169.254/latest/meta-data/'), a)).toEqual({
      refused: expect.stringMatching(/not an address of this host/),
    });
    expect(a.asked).toEqual([]);
  });

  it('refuses a name that does not resolve, and a URL that does not parse', async () => {
    expect(await vetTarget(http('http://nowhere.example/'), access({}))).toEqual({
      refused: 'nowhere.example cannot be resolved (ENOTFOUND)',
    });
    expect(await vetTarget(http('http://[::1/'), access({}))).toEqual({ refused: 'is not a valid URL' });
  });

  it('checks a TCP target by its address', async () => {
    expect(await vetTarget({ type: 'tcp', host: '192.168.1.20', port: 5432, timeoutMs: 1000 }, access({}))).toEqual({
      addresses: ['192.168.1.20'],
    });
    expect(await vetTarget({ type: 'tcp', host: '10.0.0.5', port: 5432, timeoutMs: 1000 }, access({}))).toHaveProperty('refused');
  });

  it('with allowRemote, resolves nothing and refuses nothing', async () => {
    const a = access({}, true);
    expect(await vetTarget(http('http://db.example/'), a)).toEqual({ addresses: [] });
    expect(a.asked).toEqual([]);
  });
});

describe('probeThrough', () => {
  it('fails a probe of a name that now resolves elsewhere, before connecting', async () => {
    const probe = probeThrough(access({ 'moved.example': ['255.255.255.255'] }));
    const outcome = await probe(http('http://moved.example:9/'), new AbortController().signal);
    expect(outcome).toEqual({
      ok: false,
      latencyMs: null,
      error: expect.stringMatching(/^refused: moved\.example \(255\.255\.255\.255\) is not an address of this host/),
    });
  });
});
