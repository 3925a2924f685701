// The stop path under load: SIGTERM while health probes flip services between
// healthy and unhealthy and clients keep mutating. The daemon must exit 0,
// leave no lock file, and keep every change it acknowledged.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PortmandClient } from '../../client/client.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const SERVICES = 40;
const WRITERS = 4;
/** Requests each writer keeps in flight, so that some are always mid-mutation when the signal lands. */
const PIPELINE = 16;
const ROUNDS = 3;

const servers: http.Server[] = [];
const daemons: Daemon[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  for (const s of servers.splice(0)) (s.closeAllConnections(), s.close());
  for (const dir of dirs.splice(0)) cleanup(dir);
});

/** An endpoint that answers after a varying short delay, alternating 200 and 503: every probe changes its service's status. */
async function flappingServer(): Promise<number> {
  let n = 0;
  const server = http.createServer((_req, res) => {
    const status = n++ % 2 === 0 ? 200 : 503;
    setTimeout(() => res.writeHead(status).end(), 20 + ((n * 37) % 300));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as net.AddressInfo).port;
}

/** Registers services, PIPELINE at a time, until the daemon stops answering; records what it acknowledged. */
async function writer(pm: PortmandClient, prefix: string, acked: Map<string, number>, onAck: () => void): Promise<void> {
  await Promise.all(Array.from({ length: PIPELINE }, (_, lane) => lane).map((lane) => writeLane(pm, `${prefix}-${lane}`, acked, onAck)));
}

async function writeLane(pm: PortmandClient, prefix: string, acked: Map<string, number>, onAck: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    const name = `${prefix}-${i}`;
    try {
      const s = await pm.service.register({ name, tags: ['load'] });
      acked.set(name, s.port);
      onAck();
    } catch {
      return;
    }
  }
}

describe('SIGTERM under load', () => {
  it('exits 0, removes its lock file and keeps every acknowledged change', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    dirs.push(dir);
    const env = { PORTMAND_HEALTH_INTERVAL: '1' };
    const ports = await Promise.all(Array.from({ length: SERVICES }, () => flappingServer()));
    const acked = new Map<string, number>();

    for (let round = 0; round < ROUNDS; round++) {
      const d = await startDaemon({ dir, env });
      daemons.push(d);
      const pm = d.client({ sendPid: false });
      if (round === 0) {
        for (const [i, port] of ports.entries()) {
          await pm.service.register({
            name: `flap-${i}`,
            port,
            host: '127.0.0.1',
            // One result flips the status either way, so every round sees transitions:
            // with the default streak of two failures, strict alternation never would.
            healthCheck: { type: 'http', url: `http://127.0.0.1:${port}/`, intervalSec: 1, failuresBeforeUnhealthy: 1 },
          });
        }
      }
      // Health results are being written when the writers start: every check is asked for now
      // (not awaited; each answers 20-320 ms later) rather than at the schedule's next tick,
      // and the 1 s schedule keeps probing meanwhile.
      await pm.events.subscribe({ types: ['service_health'] });
      const flipping = new Promise<void>((resolve) => pm.on('service_health', () => resolve()));
      void pm.health.check().catch(() => {});
      await flipping;

      let count = 0;
      let signalled = false;
      const roundAcked = new Map<string, number>();
      const stopAt = 100 + round * 50;
      const sigterm = () => {
        if (signalled || ++count < stopAt) return;
        signalled = true;
        d.proc.kill('SIGTERM');
      };
      const clients = Array.from({ length: WRITERS }, () => d.client({ sendPid: false }));
      const writers = clients.map((c, w) => writer(c, `r${round}-w${w}`, roundAcked, sigterm));
      const code = await new Promise<number | null>((resolve) => d.proc.once('exit', (c) => resolve(c)));
      await Promise.all(writers);
      for (const [k, v] of roundAcked) acked.set(k, v);

      expect(
        code,
        d.logs
          .filter((l) => Number(l.level) >= 50)
          .map((l) => JSON.stringify(l))
          .join('\n'),
      ).toBe(0);
      expect(existsSync(path.join(d.stateDir, 'portmand.lock'))).toBe(false);
      expect(roundAcked.size).toBeGreaterThanOrEqual(stopAt);
      daemons.splice(daemons.indexOf(d), 1);
      await d.stop();
    }

    const last = await startDaemon({ dir, env });
    daemons.push(last);
    const services = new Map((await last.client().service.list()).map((s) => [s.name, s.port]));
    const missing = [...acked].filter(([name, port]) => services.get(name) !== port);
    expect(missing).toEqual([]);
  });
});

describe('the reader of its stdout gone (`portmand daemon | head`)', () => {
  it('stops cleanly, as on SIGTERM, and exits 1 so that a supervisor starts it again', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const logFile = path.join(dir, 'daemon.log');
    const d = await startDaemon({ dir, env: { PORTMAND_LOG_FILE: logFile } });
    daemons.push(d);
    const exited = new Promise<number | null>((resolve) => d.proc.once('exit', (code) => resolve(code)));
    let stderr = '';
    d.proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    d.proc.stdout!.destroy();
    // It logs that it reopened its log file: a write to the pipe nobody reads any more.
    d.proc.kill('SIGHUP');
    expect(await exited, stderr).toBe(1);
    expect(stderr).not.toContain('EPIPE');
    expect(existsSync(d.socket), 'the socket is removed').toBe(false);
    expect(existsSync(path.join(d.stateDir, 'portmand.lock')), 'the lock is released').toBe(false);
    expect(readFileSync(logFile, 'utf8')).toContain('"reason":"stdout closed (EPIPE)","msg":"stopping"');
  });
});
