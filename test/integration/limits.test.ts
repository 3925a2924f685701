// Issue 8's limits against the real daemon: a per-caller rate limit on
// mutating calls, a maximum number of connections, and an idle timeout for a
// line that was begun and never finished.
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortmandClient } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const LIMITS = { mutationsPerSec: 20, burst: 3, maxConnections: 6, idleTimeoutSec: 1 };

let d: Daemon;
beforeAll(async () => {
  const dir = tempDir();
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ limits: LIMITS }));
  d = await startDaemon({ dir, env: { PORTMAND_CONFIG: configFile } });
});
afterAll(async () => {
  await d?.stop();
  if (d) cleanup(d.dir);
});

/** A raw connection, and the lines it receives. */
function raw(): Promise<{ socket: net.Socket; lines: string[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(d.socket);
    const lines: string[] = [];
    let buf = '';
    socket.on('data', (c) => {
      buf += c.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ socket, lines, closed }));
  });
}

describe('limits', () => {
  it('answers -32005 with retryAfterMs past the burst; the client library waits and retries once by default', async () => {
    const strict = new PortmandClient({ socketPath: d.socket, retryRateLimited: false });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: LIMITS.burst + 2 }, (_, i) => strict.port.allocate({ service: `rl-${i}` })),
      );
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0]).toMatchObject({ code: -32005, data: { retryAfterMs: expect.any(Number) } });
      expect(refused[0].data.retryAfterMs).toBeGreaterThan(0);
      // Reading is never limited.
      expect(await strict.service.list()).toBeInstanceOf(Array);
    } finally {
      strict.close();
    }
    // One after another past the burst: each refused call is retried once, after the wait it was told.
    const patient = d.client();
    for (let i = 0; i < LIMITS.burst + 2; i++) await patient.port.allocate({ service: `rl-p${i}` });
    expect(d.logs.some((r) => r.audit === true && r.code === -32005 && r.level === 20)).toBe(true);
  });

  it('closes a connection that sends part of a line and then nothing; others are served meanwhile', async () => {
    const half = await raw();
    half.socket.write('{"jsonrpc":"2.0","id":1,"method":"daemon.pi');
    expect(await d.client().daemon.ping()).toBe('pong');
    await half.closed;
    expect(half.lines).toEqual([]);
    await d.waitForLog((r) => String(r.msg).includes('sent part of a line'));
  });

  it('refuses connections beyond maxConnections with -32005 and closes them', async () => {
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => raw()));
    const extra = await raw();
    await extra.closed;
    expect(JSON.parse(extra.lines[0]!)).toMatchObject({
      id: null,
      error: { code: -32005, data: { limit: 'maxConnections', max: LIMITS.maxConnections } },
    });
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // The daemon counts them gone and takes new connections again.
    await expect
      .poll(async () => {
        const c = new PortmandClient({ socketPath: d.socket });
        try {
          return await c.daemon.ping();
        } catch {
          return 'refused';
        } finally {
          c.close();
        }
      })
      .toBe('pong');
  });
});
