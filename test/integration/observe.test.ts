// History, time series, self-observation and metrics against the real daemon.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortmandError, type PortmandClient } from '../../client/client.ts';
import type { SeriesParams } from '../../client/protocol.ts';
import { parseProm } from '../cli/prom-parse.ts';
import { CLI, cleanup, startDaemon, tempDir, useDaemon } from './harness.ts';

const RANGE = { name: 'ob', start: 23500, end: 23519, purpose: 'observe test' };
const configDir = tempDir();
const configFile = path.join(configDir, 'config.json');
writeFileSync(configFile, JSON.stringify({ ranges: [RANGE] }));
const daemon = useDaemon({ env: { PORTMAND_CONFIG: configFile, PORTMAND_HEALTH_INTERVAL: '3600' } });
let pm: PortmandClient;

beforeAll(() => {
  pm = daemon().client({ sendPid: false });
});
afterAll(() => cleanup(configDir));

async function invalid(p: Promise<unknown>, field: string): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PortmandError);
  expect((err as PortmandError).code).toBe(-32602);
  expect((err as PortmandError).data).toMatchObject({ field });
}

describe('port.history', () => {
  it('records assignments, moves, releases and reservations, newest first, with who did it', async () => {
    const { port } = await pm.port.allocate({ service: 'ob-a', range: 'ob' });
    // The allocator's pick is hashed from the name; move it somewhere else.
    const target = port === 23510 ? 23512 : 23510;
    await pm.service.setPort({ name: 'ob-a', port: target });
    await pm.port.reserve({ port: 23511, for: 'ob-db' });
    await pm.port.release({ port: 23511 });
    await pm.port.release({ port: target });
    const lines = await pm.port.history({ since: new Date(Date.now() - 60_000).toISOString() });
    const mine = lines.filter((l) => l.service === 'ob-a' || l.service === 'ob-db');
    expect(mine.map((l) => [l.action, l.port, l.previous])).toEqual([
      ['released', target, undefined],
      ['unreserved', 23511, undefined],
      ['reserved', 23511, undefined],
      ['moved', target, port],
      ['assigned', port, undefined],
    ]);
    for (const l of mine) expect(l.by).toEqual(expect.any(String));
    expect(await pm.port.history({ port: 23511 })).toHaveLength(2);
    expect(await pm.port.history({ service: 'ob-a', limit: 1 })).toEqual([expect.objectContaining({ action: 'released' })]);
  });

  it('refuses bad params with the field named', async () => {
    await invalid(pm.port.history({ port: 0 }), 'port');
    await invalid(pm.port.history({ since: 'yesterday-ish' }), 'since');
    await invalid(pm.port.history({ limit: 0 }), 'limit');
    await invalid(pm.port.history({ service: 'Bad Name' }), 'service');
  });

  it('is shown by `portmand history`', async () => {
    const r = await daemon().cliInProcess(['history', '--service', 'ob-a', '-n', '2']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^TIME\s+AGE\s+ACTION\s+PORT\s+SERVICE\s+BY$/);
    expect(rows.slice(1).map((l) => l.split(/\s{2,}/)[2])).toEqual(['released', 'moved']);
    const json = await daemon().cliInProcess(['history', '--port', '23511', '--since', '1h', '--json']);
    expect((JSON.parse(json.stdout) as unknown[]).length).toBe(2);
    expect((await daemon().cliInProcess(['history', '--since', 'soon'])).code).toBe(2);
  });
});

describe('stats.series', () => {
  it('has a row from the daemon start, per range and for open conflicts', async () => {
    const conflicts = await pm.stats.series({ metric: 'conflicts.open' });
    expect(conflicts.step).toBe(60);
    expect(conflicts.points.length).toBeGreaterThanOrEqual(1440);
    expect(conflicts.points.some(([, v]) => v === 0)).toBe(true);
    const assigned = await pm.stats.series({ metric: 'range.assigned', range: 'ob' });
    expect(assigned.points.some(([, v]) => v !== null)).toBe(true);
    const hourly = await pm.stats.series({ metric: 'range.utilisation', range: 'ob', step: 3600 });
    expect(hourly.points.length).toBe(90 * 24);
    for (const [t] of hourly.points) expect(Date.parse(t) % 3_600_000).toBe(0);
  });

  it('refuses bad params with the field named', async () => {
    const bad: Array<[SeriesParams, string]> = [
      [{ metric: 'nope' as SeriesParams['metric'] }, 'metric'],
      [{ metric: 'service.up' }, 'service'],
      [{ metric: 'range.assigned', range: 'no-such-range' }, 'range'],
      [{ metric: 'range.assigned', range: '23500-23501' }, 'range'],
      [{ metric: 'conflicts.open', service: 'web' }, 'service'],
      [{ metric: 'conflicts.open', step: 90 }, 'step'],
      [{ metric: 'conflicts.open', from: '2020-01-01T00:00:00Z', step: 60 }, 'step'],
      [{ metric: 'conflicts.open', from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, 'from'],
    ];
    for (const [params, field] of bad) await invalid(pm.stats.series(params), field);
  });

  it('survives a restart: rows are in the state', async () => {
    const dir = tempDir();
    try {
      const first = await startDaemon({ dir });
      const before = await first.client().stats.series({ metric: 'conflicts.open' });
      const recorded = before.points.filter(([, v]) => v !== null).map(([t]) => t);
      expect(recorded.length).toBeGreaterThan(0);
      expect(await first.stop()).toBe(0);
      const second = await startDaemon({ dir });
      const after = await second.client().stats.series({ metric: 'conflicts.open', from: recorded[0]! });
      expect(after.points.find(([t]) => t === recorded[0])?.[1]).toBe(0);
      await second.stop();
    } finally {
      cleanup(dir);
    }
  });
});

describe('daemon.status self-observation', () => {
  it('reports process, store and per-method request figures', async () => {
    await pm.daemon.ping();
    await pm.port.allocate({ service: 'ob-b', range: 'ob' });
    const s = await pm.daemon.status();
    expect(s.process!.rssBytes).toBeGreaterThan(0);
    expect(s.process!.heapUsedBytes).toBeGreaterThan(0);
    expect(s.process!.cpuSec).toBeGreaterThan(0);
    if (process.platform === 'linux') expect(s.process!.openFds).toBeGreaterThan(0);
    expect(s.store!.snapshotBytes).toBeGreaterThan(0);
    expect(s.store!.journalBytes).toBeGreaterThanOrEqual(0);
    expect(Date.parse(s.store!.lastCompactionAt!)).not.toBeNaN();
    const allocate = s.requests!.byMethod['port.allocate']!;
    expect(allocate.count).toBeGreaterThanOrEqual(1);
    expect(allocate.p50Ms).toEqual(expect.any(Number));
    expect(allocate.p99Ms).toBeGreaterThanOrEqual(allocate.p50Ms!);
    expect(s.requests!.total).toBeGreaterThanOrEqual(2);
    // Unknown methods are not counted: a client cannot grow the table.
    await pm.call('no.such' as 'daemon.ping').catch(() => undefined);
    expect(Object.keys((await pm.daemon.status()).requests!.byMethod)).not.toContain('no.such');
  });

  it('`portmand status` shows the essentials', async () => {
    const r = await daemon().cliInProcess(['status']);
    expect(r.stdout).toMatch(/process:\s+[\d.]+ MiB resident/);
    expect(r.stdout).toMatch(/requests:\s+\d+ in the last minute/);
    expect(r.stdout).toMatch(/store:\s+journal [\d.]+ (B|KiB|MiB), snapshot/);
  });
});

describe('portmand metrics', () => {
  it('prints Prometheus text that parses strictly', async () => {
    const r = await daemon().cliInProcess(['metrics']);
    expect(r.code).toBe(0);
    const families = parseProm(`${r.stdout.trimEnd()}\n`);
    expect(families.get('portmand_up')!.samples[0]!.value).toBe(1);
    const free = families.get('portmand_range_ports')!.samples.find((s) => s.labels.range === 'ob' && s.labels.state === 'free');
    expect(free?.value).toBeLessThan(20);
    expect(families.get('portmand_requests_total')!.samples.some((s) => s.labels.method === 'port.allocate' && s.value >= 1)).toBe(true);
    expect(families.get('portmand_process_resident_memory_bytes')!.samples[0]!.value).toBeGreaterThan(0);
  });

  it('serves /metrics over loopback with --serve, and portmand_up 0 when the daemon is away', async () => {
    const child = spawn(process.execPath, [CLI, 'metrics', '--serve', '127.0.0.1:0'], {
      env: { ...process.env, ...daemon().env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const line = await new Promise<string>((resolve) => createInterface({ input: child.stderr! }).once('line', resolve));
      const url = /^serving (http:\/\/127\.0\.0\.1:\d+\/metrics);/.exec(line)?.[1];
      expect(url).toBeDefined();
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const families = parseProm(await res.text());
      expect(families.get('portmand_up')!.samples[0]!.value).toBe(1);
      expect(families.has('portmand_range_utilisation_ratio')).toBe(true);
      expect((await fetch(url!.replace('/metrics', '/other'))).status).toBe(404);
      expect((await fetch(url!, { method: 'POST' })).status).toBe(405);

      const away = spawn(process.execPath, [CLI, 'metrics', '--serve', '127.0.0.1:0', '--socket', path.join(configDir, 'none.sock')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      try {
        const awayLine = await new Promise<string>((resolve) => createInterface({ input: away.stderr! }).once('line', resolve));
        const awayUrl = /^serving (\S+);/.exec(awayLine)![1]!;
        const down = parseProm(await (await fetch(awayUrl)).text());
        expect([...down.keys()]).toEqual(['portmand_up']);
        expect(down.get('portmand_up')!.samples[0]!.value).toBe(0);
      } finally {
        away.kill('SIGINT');
      }
    } finally {
      child.kill('SIGINT');
    }
    expect(await new Promise((resolve) => child.once('exit', (code) => resolve(code)))).toBe(0);
  });
});

describe('portmand show', () => {
  it('shows one service in full', async () => {
    await pm.service.register({ name: 'ob-web', port: 23515, tags: ['ui'] });
    const r = await daemon().cliInProcess(['show', 'ob-web']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/service:\s+ob-web/);
    expect(r.stdout).toMatch(/port:\s+23515\/tcp on 0\.0\.0\.0/);
    expect(r.stdout).not.toContain('uptime 24h'); // no pictures off a terminal
    expect(JSON.parse((await daemon().cliInProcess(['show', 'ob-web', '--json'])).stdout)).toMatchObject({ name: 'ob-web', port: 23515 });
  });
});
