// The Scanner: schedule (node-cron under vitest's fake clock), failures,
// overlap, and coalesced scanNow() calls.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Observation, Scan } from '../../daemon/core/observation.ts';
import { Scanner, type ScannerOptions, type ScanSource } from '../../daemon/scan/scanner.ts';

const listener: Observation = { protocol: 'tcp', address: '::', port: 8080, family: 6, pid: 7, process: 'web' };

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function makeScanner(source: ScanSource, intervalSec = 10, extra: Partial<ScannerOptions> = {}) {
  const scans: Scan[] = [];
  const log = { warn: vi.fn(), debug: vi.fn() };
  const scanner = new Scanner({
    source,
    intervalSec,
    now: () => Date.now(),
    onScan: (scan) => {
      scans.push(scan);
    },
    log,
    ...extra,
  });
  return { scanner, scans, log };
}

describe('Scanner schedule', () => {
  let stop: (() => void) | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00.500Z'));
  });
  afterEach(() => {
    stop?.();
    vi.useRealTimers();
  });

  it('scans once per interval until stopped', async () => {
    const { scanner, scans } = makeScanner(async () => [listener], 10);
    stop = () => scanner.stop();
    scanner.start();
    await vi.advanceTimersByTimeAsync(35_000);
    expect(scans.map((s) => new Date(s.at).toISOString())).toEqual([
      '2025-01-01T00:00:10.000Z',
      '2025-01-01T00:00:20.000Z',
      '2025-01-01T00:00:30.000Z',
    ]);
    expect(scans.at(-1)).toEqual({ at: Date.parse('2025-01-01T00:00:30Z'), durationMs: 0, listeners: [listener] });
    scanner.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(scans).toHaveLength(3);
  });

  it('keeps an interval that does not divide a minute (7 s)', async () => {
    const { scanner, scans } = makeScanner(async () => [], 7);
    stop = () => scanner.stop();
    scanner.start();
    await vi.advanceTimersByTimeAsync(65_000);
    const gaps = scans.slice(1).map((s, i) => s.at - scans[i]!.at);
    expect(scans.length).toBe(9);
    expect(new Set(gaps)).toEqual(new Set([7_000]));
  });

  it('logs a failed run, skips onScan for it, and keeps the schedule going', async () => {
    let calls = 0;
    const { scanner, scans, log } = makeScanner(async () => {
      if (++calls === 2) throw new Error('netstat exploded');
      return [listener];
    });
    stop = () => scanner.stop();
    scanner.start();
    await vi.advanceTimersByTimeAsync(35_000);
    expect(calls).toBe(3);
    expect(scans.map((s) => new Date(s.at).getUTCSeconds())).toEqual([10, 30]);
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]![0]).toMatchObject({ err: new Error('netstat exploded') });
  });

  it('never overlaps runs: a tick during a slow scan is skipped', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const slow: ScanSource = async () => {
      calls++;
      maxActive = Math.max(maxActive, ++active);
      await new Promise((r) => setTimeout(r, 15_000));
      active--;
      return [];
    };
    const { scanner, scans } = makeScanner(slow, 10);
    stop = () => scanner.stop();
    scanner.start();
    await vi.advanceTimersByTimeAsync(45_500);
    expect(maxActive).toBe(1);
    expect(calls).toBe(2); // ticks at :10 and :30 run; :20 and :40 find a scan running
    expect(scans.map((s) => s.durationMs)).toEqual([15_000, 15_000]);
  });
});

describe('Scanner.scanNow', () => {
  it('returns the scan after onScan has taken it in', async () => {
    const seen: Scan[] = [];
    const gate = deferred<void>();
    const { scanner } = makeScanner(async () => [listener], 10, {
      onScan: async (scan) => {
        await gate.promise;
        seen.push(scan);
      },
    });
    const pending = scanner.scanNow();
    await Promise.resolve();
    gate.resolve();
    const scan = await pending;
    expect(seen).toEqual([scan]);
  });

  it('waits for a run in progress, then runs one fresh scan shared by every caller who asked meanwhile', async () => {
    const runs = [deferred<Observation[]>(), deferred<Observation[]>()];
    let calls = 0;
    const { scanner, scans } = makeScanner(() => runs[calls++]!.promise);

    const first = scanner.scanNow();
    const waiters = [scanner.scanNow(), scanner.scanNow(), scanner.scanNow()];
    expect(calls).toBe(1);

    runs[0]!.resolve([]);
    const firstScan = await first;
    await vi.waitFor(() => expect(calls).toBe(2));
    runs[1]!.resolve([listener]);
    const [a, b, c] = await Promise.all(waiters);

    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(a).not.toBe(firstScan);
    expect(a!.listeners).toEqual([listener]);
    expect(scans).toHaveLength(2);
  });

  it('still runs the fresh scan when the run it waited for failed', async () => {
    const first = deferred<Observation[]>();
    let calls = 0;
    const { scanner, log } = makeScanner(() => (calls++ === 0 ? first.promise : Promise.resolve([listener])));
    const failing = scanner.scanNow();
    const waiter = scanner.scanNow();
    first.reject(new Error('ss: permission denied'));
    await expect(failing).rejects.toThrow('ss: permission denied');
    expect((await waiter).listeners).toEqual([listener]);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it('rejects when the run fails, without calling onScan', async () => {
    let fail = false;
    const { scanner, scans } = makeScanner(async () => {
      if (fail) throw new Error('boom');
      return [listener];
    });
    const good = await scanner.scanNow();
    fail = true;
    await expect(scanner.scanNow()).rejects.toThrow('boom');
    expect(scans).toEqual([good]);
  });
});
