import net from 'node:net';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { useDaemon } from './harness.ts';

const daemon = useDaemon();

/** A raw NDJSON connection: write lines, read response lines in order. */
async function raw() {
  const sock = net.createConnection(daemon().socket);
  await new Promise((r) => sock.once('connect', r));
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  createInterface({ input: sock }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return {
    send: (text: string) => sock.write(text + '\n'),
    next: () =>
      new Promise<unknown>((resolve) => {
        const l = lines.shift();
        if (l !== undefined) resolve(JSON.parse(l));
        else waiting.push((x) => resolve(JSON.parse(x)));
      }),
    closed,
    end: () => sock.destroy(),
  };
}

describe('wire protocol', () => {
  it('a line that is not JSON gets -32700 with id null, and the connection stays usable', async () => {
    const c = await raw();
    c.send('{not json');
    expect(await c.next()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'daemon.ping' }));
    expect(await c.next()).toEqual({ jsonrpc: '2.0', id: 1, result: 'pong' });
    c.end();
  });

  it('a line over 1 MiB is refused with -32600 and the connection is closed', async () => {
    const c = await raw();
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'daemon.ping', params: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(await c.next()).toMatchObject({ id: null, error: { code: -32600 } });
    await c.closed;
  });

  it('unknown methods, invalid requests and invalid params get their codes', async () => {
    const c = await raw();
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'port.teleport' }));
    expect(await c.next()).toMatchObject({ id: 3, error: { code: -32601 } });
    c.send(JSON.stringify({ jsonrpc: '1.0', id: 4, method: 'daemon.ping' }));
    expect(await c.next()).toMatchObject({ error: { code: -32600 } });
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'port.check', params: { port: 'eighty' } }));
    expect(await c.next()).toMatchObject({ id: 5, error: { code: -32602, data: { field: 'port', problem: expect.any(String) } } });
    c.send(JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'service.get', params: { name: 'nobody' } }));
    expect(await c.next()).toMatchObject({ id: 6, error: { code: -32001, data: { kind: 'service', key: 'nobody' } } });
    c.end();
  });

  it('batches answer with an array, notifications get no answer, and pipelined requests all return', async () => {
    const c = await raw();
    c.send(
      JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'daemon.ping' },
        { jsonrpc: '2.0', method: 'daemon.ping' },
        { jsonrpc: '2.0', id: 'b', method: 'nope' },
      ]),
    );
    const batch = (await c.next()) as Array<{ id: string }>;
    expect(batch.map((r) => r.id).sort()).toEqual(['a', 'b']);
    for (let i = 0; i < 50; i++) c.send(JSON.stringify({ jsonrpc: '2.0', id: 100 + i, method: 'port.suggest', params: { count: 1 } }));
    const ids = new Set<number>();
    for (let i = 0; i < 50; i++) ids.add(((await c.next()) as { id: number }).id);
    expect(ids.size).toBe(50);
    c.end();
  });

  it('garbage on one connection never disturbs the daemon or other clients', async () => {
    const pm = daemon().client();
    const c = await raw();
    for (const junk of [
      '[]',
      '[1,2]',
      'null',
      '"str"',
      '{"jsonrpc":"2.0","method":7,"id":1}',
      '{"jsonrpc":"2.0","id":{},"method":"daemon.ping"}',
      '{"jsonrpc":"2.0","id":9,"method":"port.allocate","params":"x"}',
    ]) {
      c.send(junk);
      expect(await c.next()).toBeDefined();
    }
    expect(await pm.daemon.ping()).toBe('pong');
    c.end();
  });

  it('deeply nested event types get -32602 on types, not -32603', async () => {
    const c = await raw();
    const depth = 100_000;
    c.send(`{"jsonrpc":"2.0","id":7,"method":"events.subscribe","params":{"types":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
    expect(await c.next()).toMatchObject({ id: 7, error: { code: -32602, data: { field: 'types', problem: expect.any(String) } } });
    c.send(
      `{"jsonrpc":"2.0","id":8,"method":"events.unsubscribe","params":{"types":["port_assigned",${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]}}`,
    );
    expect(await c.next()).toMatchObject({ id: 8, error: { code: -32602, data: { field: 'types' } } });
    c.end();
  });

  it('a host that is not an address of this host gets -32602 on host, saying so', async () => {
    const pm = daemon().client();
    const notHere = '192.0.2.1'; // TEST-NET-1: documentation only, never a local address
    const calls: Array<[string, Record<string, unknown>]> = [
      ['port.allocate', { service: 'remote-a', host: notHere }],
      ['service.register', { name: 'remote-r', host: notHere }],
      ['service.register', { name: 'remote-p', host: notHere, port: 40123 }],
      ['port.check', { port: 40123, host: notHere }],
    ];
    for (const [method, params] of calls) {
      const err = await pm.call(method as never, params as never).then(
        () => null,
        (e: { code: number; data: unknown }) => e,
      );
      expect(err, method).toMatchObject({
        code: -32602,
        data: { field: 'host', problem: expect.stringContaining('not an address of this host') },
      });
    }
    expect((await pm.service.list()).map((s) => s.name)).not.toContain('remote-a');
  });
});
