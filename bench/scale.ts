// How the daemon scales with the number of services (issue 6 §1 and §3, issue
// 11 item 4): register latency at 100 and at 10,000 services, 10,000
// registrations in batches, the scan against `ss` alone, and how long a ping
// waits while a scan is reconciled. Each figure is given with a baseline
// measured in the same run, on the same daemon. Memory (§2) is bench/memory.ts,
// on daemons of its own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RawRpc } from './raw-rpc.ts';
import { answering, daemonEnv } from './daemon.ts';
import { fmt, summary, timeCalls } from './stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 1000;
const SAMPLES = Number(process.env.BENCH_REGISTER_SAMPLES ?? 200);
const LISTENERS = Number(process.env.BENCH_LISTENERS ?? 2000);
const SCAN_ROUNDS = Number(process.env.BENCH_SCAN_ROUNDS ?? 15);
const WAIT_ROUNDS = Number(process.env.BENCH_WAIT_ROUNDS ?? 7);
const BIG = Number(process.env.BENCH_BIG_SERVICES ?? 50_000);
const MiB = 1024 * 1024;
const run = promisify(execFile);

export type Row = [string, string, string];

export interface Memory {
  rss: number;
  heapUsed: number;
}

export interface Daemon {
  proc: ChildProcess;
  socket: string;
  /** Plain RSS, then RSS and heap after a forced GC, as the daemon itself reports them. */
  memory(): Promise<{ before: Memory; after: Memory }>;
}

/** The V8 flag the systemd and launchd units set (NODE_OPTIONS): small semi-spaces. */
export const UNIT_FLAGS = ['--max-semi-space-size=2'];

/**
 * Starts the compiled daemon as the units run it (or with node's defaults),
 * with a GC hook preloaded (bench/gc-hook.mjs) and a scan interval long
 * enough not to interfere.
 */
export async function startDaemon(dir: string, flags = UNIT_FLAGS): Promise<Daemon> {
  const env = daemonEnv(dir, { PORTMAND_SCAN_INTERVAL: '3600' });
  const socket = env.PORTMAND_SOCKET!;
  const hook = path.join(ROOT, 'bench/gc-hook.mjs');
  const proc = spawn(process.execPath, [...flags, '--expose-gc', '--import', hook, path.join(ROOT, 'dist/bin/portmand.js'), 'daemon'], {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const reports: Array<(r: { before: Memory; after: Memory }) => void> = [];
  createInterface({ input: proc.stderr! }).on('line', (line) => {
    if (line.startsWith('BENCH-MEMORY ')) reports.shift()?.(JSON.parse(line.slice('BENCH-MEMORY '.length)));
    else process.stderr.write(`${line}\n`);
  });
  await answering(socket);
  return {
    proc,
    socket,
    memory: () =>
      new Promise((resolve) => {
        reports.push(resolve);
        proc.kill('SIGUSR2');
      }),
  };
}

const register = (i: number) => ({ method: 'service.register', params: { name: `svc-${i}`, port: 10_000 + (i % 50_000) } });

/** Registers services `from`..`to`-1 in batches of 1,000; returns the wall time of each batch in ms. */
export async function fill(rpc: RawRpc, from: number, to: number): Promise<number[]> {
  const times: number[] = [];
  for (let start = from; start < to; start += BATCH) {
    const calls = Array.from({ length: Math.min(BATCH, to - start) }, (_, k) => register(start + k));
    const t0 = performance.now();
    await rpc.batch(calls);
    times.push(performance.now() - t0);
  }
  return times;
}

/** p50 of single service.register calls with an explicit port, on top of what is registered. */
async function registerP50(rpc: RawRpc, prefix: string): Promise<number> {
  const ms = await timeCalls(SAMPLES, (i) => rpc.call('service.register', { name: `${prefix}-${i}`, port: 60_001 + (i % 5000) }));
  await rpc.batch(Array.from({ length: SAMPLES }, (_, i) => ({ method: 'service.unregister', params: { name: `${prefix}-${i}` } })));
  return summary(ms).p50;
}

/** The longest a ping waited while one conflict.detect (a scan and its reconcile) ran, pinging back to back. */
async function pingWaitDuringDetect(detector: RawRpc, pinger: RawRpc): Promise<number> {
  let done = false;
  const detect = detector.call('conflict.detect').finally(() => (done = true));
  let worst = 0;
  while (!done) {
    const t = performance.now();
    await pinger.call('daemon.ping');
    worst = Math.max(worst, performance.now() - t);
  }
  await detect;
  return worst;
}

async function medianPingWait(detector: RawRpc, pinger: RawRpc): Promise<number> {
  const waits: number[] = [];
  for (let r = 0; r < WAIT_ROUNDS; r++) waits.push(await pingWaitDuringDetect(detector, pinger));
  return summary(waits).p50;
}

/** Opens LISTENERS loopback listeners in a child process; resolves once they all listen. */
async function openListeners(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/listeners.ts'), String(LISTENERS)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`listener process exited with ${code}`)));
  });
  return child;
}

/** Wall time of `ss -H -ltunp` alone, run as the daemon runs it. */
async function ssWall(): Promise<number> {
  const t0 = performance.now();
  await run('ss', ['-H', '-ltunp'], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * MiB });
  return performance.now() - t0;
}

/** The daemon's lastScan.durationMs against ss alone, interleaved, at LISTENERS extra listeners. */
async function scanVsSs(rpc: RawRpc): Promise<{ scan: number; ss: number; listeners: number }> {
  const child = await openListeners();
  try {
    const scans: number[] = [];
    const sss: number[] = [];
    let listeners = 0;
    await rpc.call('conflict.detect'); // warm up
    for (let r = 0; r < SCAN_ROUNDS; r++) {
      sss.push(await ssWall());
      await rpc.call('conflict.detect');
      const status = (await rpc.call('daemon.status')) as { lastScan: { durationMs: number; listeners: number } };
      scans.push(status.lastScan.durationMs);
      listeners = status.lastScan.listeners;
    }
    return { scan: summary(scans).p50, ss: summary(sss).p50, listeners };
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
  }
}

export async function measureScale(rows: Row[]): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pms-'));
  const d = await startDaemon(dir);
  const rpc = await RawRpc.connect(d.socket);
  const pinger = await RawRpc.connect(d.socket);
  try {
    const ping = summary(await timeCalls(500, () => rpc.call('daemon.ping'))).p50;
    rows.push(['ping, empty daemon (baseline for the waits below)', `p50 ${fmt(ping)} ms`, '1.00x']);

    // Register latency at 100 services, then back to none for the batches.
    await fill(rpc, 0, 100);
    const at100 = await registerP50(rpc, 'lat100');
    await rpc.batch(Array.from({ length: 100 }, (_, i) => ({ method: 'service.unregister', params: { name: `svc-${i}` } })));

    const batches = await fill(rpc, 0, 10_000);
    const total = batches.reduce((a, b) => a + b, 0);
    const at10k = await registerP50(rpc, 'lat10k');
    rows.push(['service.register (explicit port), 100 services (baseline)', `p50 ${fmt(at100)} ms`, '1.00x']);
    rows.push(['service.register (explicit port), 10,000 services', `p50 ${fmt(at10k)} ms (target <= 2x)`, `${fmt(at10k / at100, 2)}x`]);
    rows.push([
      '10,000 registrations in batches of 1,000',
      `${fmt(total, 0)} ms total (target < 2000), slowest batch ${fmt(Math.max(...batches), 0)} ms`,
      `${fmt(Math.max(...batches) / Math.min(...batches), 2)}x slowest/fastest batch`,
    ]);

    const wait10k = await medianPingWait(rpc, pinger);
    rows.push([
      'ping sent during conflict.detect, 10,000 services',
      `median wait ${fmt(wait10k, 1)} ms (target <= 20 ms)`,
      `${fmt(wait10k / ping, 1)}x ping`,
    ]);

    if (process.platform === 'linux') {
      const s = await scanVsSs(rpc);
      rows.push([`scan: ss -H -ltunp alone, ${s.listeners} listeners (baseline)`, `p50 ${fmt(s.ss, 1)} ms`, '1.00x']);
      rows.push([
        `scan: lastScan.durationMs, ${s.listeners} listeners, 10,000 services`,
        `p50 ${fmt(s.scan, 1)} ms (target <= 1.3x)`,
        `${fmt(s.scan / s.ss, 2)}x ss`,
      ]);
    }

    await fill(rpc, 10_000, BIG);
    const waitBig = await medianPingWait(rpc, pinger);
    rows.push([
      `ping sent during conflict.detect, ${BIG.toLocaleString('en')} services`,
      `median wait ${fmt(waitBig, 1)} ms`,
      `${fmt(waitBig / ping, 1)}x ping`,
    ]);
  } finally {
    rpc.close();
    pinger.close();
    d.proc.kill('SIGTERM');
    await new Promise((r) => d.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run alone: node --import tsx bench/scale.ts
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows: Row[] = [];
  await measureScale(rows);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [name, value, ratio] of rows) console.log(`${name.padEnd(w)}  ${value}${ratio ? `  [${ratio}]` : ''}`);
}
