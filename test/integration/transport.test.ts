// The socket transport against the real daemon: clients that half-close
// their side (nc -N, socat) and clients that pipeline large answers.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { useDaemon } from './harness.ts';

const daemon = useDaemon({ env: { PORTMAND_HEALTH_INTERVAL: '3600' } });

/** Writes `text`, shuts down the sending side (shutdown(SHUT_WR)), and collects every line until the daemon closes. */
async function halfClosed(text: string): Promise<unknown[]> {
  const socket = net.createConnection(daemon().socket);
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.end(text);
  await once(socket, 'close');
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
}

const isHalfClose = (rec: Record<string, unknown>) => typeof rec.msg === 'string' && rec.msg.startsWith('client closed its sending side');

describe('a client that half-closes its side', () => {
  it('still gets the answer to a slow health.check', async () => {
    const d = daemon();
    // The endpoint answers only once the daemon has seen the client's end of stream.
    const server = http.createServer((_req, res) => {
      void d.waitForLog(isHalfClose).then(() => res.writeHead(200).end('ok'));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const pm = d.client({ sendPid: false });
    await pm.service.register({
      name: 'slow-hc',
      port,
      healthCheck: { type: 'http', url: `http://127.0.0.1:${port}/`, timeoutMs: 10_000 },
    });

    const lines = await halfClosed(
      `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'health.check', params: { service: 'slow-hc' } })}\n`,
    );
    expect(lines).toEqual([{ jsonrpc: '2.0', id: 1, result: [expect.objectContaining({ service: 'slow-hc', status: 'healthy' })] }]);
    server.close();
  });

  it('gets the answer to a mutation queued behind a large batch, and the mutation is applied once', async () => {
    const batch = Array.from({ length: 300 }, (_, i) => ({
      jsonrpc: '2.0',
      id: i + 1,
      method: 'port.allocate',
      params: { service: `hc-batch-${i}` },
    }));
    const last = { jsonrpc: '2.0', id: 'last', method: 'service.register', params: { name: 'hc-last', port: 18777 } };
    // The last line has no newline, as `printf '%s' '{...}' | nc -N -U` sends it.
    const lines = await halfClosed(`${JSON.stringify(batch)}\n${JSON.stringify(last)}`);
    expect(lines).toHaveLength(2);
    // Replies are matched by id, not by line order: the last mutation can share the batch's last journal write, and its reply can come first.
    const replies = lines.find(Array.isArray) as Array<{ result?: unknown }>;
    expect(replies).toHaveLength(300);
    expect(replies.every((r) => r.result !== undefined)).toBe(true);
    expect(lines.find((l) => !Array.isArray(l))).toMatchObject({ id: 'last', result: { name: 'hc-last', port: 18777 } });
    expect(await daemon().client().service.get({ name: 'hc-last' })).toMatchObject({ port: 18777 });
  });
});

describe('large answers', () => {
  it('answers four pipelined port.list of every free port (megabytes each) to a client reading at full speed', async () => {
    const pm = daemon().client();
    const lists = await Promise.all([1, 2, 3, 4].map(() => pm.call('port.list', { state: 'free', limit: 65536 } as never)));
    // Together well past the daemon's 4 MiB limit on what a client leaves unread.
    expect(lists.reduce((n, l) => n + JSON.stringify(l).length, 0)).toBeGreaterThan(8 * 1024 * 1024);
    for (const l of lists) expect(l.length).toBeGreaterThan(30_000);
  });
});
