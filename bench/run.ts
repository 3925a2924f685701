// `npm run bench`: allocation latency and throughput of the real daemon with
// 10,000 services registered, each reported as a median and as a ratio to a
// baseline measured in the same run (a ping on the same path; lowdb's
// whole-file write of the same state), plus the scanner's sources.
// Targets (issue 2): allocate p50 <= 0.3 ms on a kept connection; >= 4000
// allocations/s from 8 parallel client processes. bench/scale.ts adds how
// the daemon scales with services: register latency, batches, scan against
// ss, and ping waits during a scan (issues 6 and 11); bench/memory.ts its
// memory (`npm run bench -- memory` runs that part alone).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { JSONFile } from 'lowdb/node';
import { Low } from 'lowdb';
import { PortmandClient } from '../client/client.ts';
import { timeSource } from './scan-timing.ts';
import { timePeerLookup } from './peer-timing.ts';
import { procSource } from '../daemon/host/scan/proc-source.ts';
import { ssSource } from '../daemon/host/scan/ss-source.ts';
import { systeminformationSource } from '../daemon/host/scan/sysinfo-source.ts';
import { measureScale } from './scale.ts';
import { measureMemory } from './memory.ts';
import { answering, daemonEnv } from './daemon.ts';
import { fmt, summary, timeCalls } from './stats.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const WORKERS = 8;
const PER_WORKER = Number(process.env.BENCH_PER_WORKER ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function startDaemon(dir: string, sync: string): Promise<{ proc: ChildProcess; socket: string }> {
  const env = daemonEnv(dir, { PORTMAND_SCAN_INTERVAL: '10', PORTMAND_SYNC: sync });
  const socket = env.PORTMAND_SOCKET!;
  const proc = spawn(process.execPath, [path.join(ROOT, 'dist/bin/portmand.js'), 'daemon'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await answering(socket);
  return { proc, socket };
}

/** Wall-clock calls/s of 8 worker processes running together. */
async function parallel(socket: string, method: 'allocate' | 'ping', round: number): Promise<number> {
  const workers = Array.from({ length: WORKERS }, (_, w) =>
    spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'bench/worker.ts'), socket, method, String(PER_WORKER), `par${round}-${w}`],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    ),
  );
  const lines = workers.map((w) => createInterface({ input: w.stdout! })[Symbol.asyncIterator]());
  await Promise.all(lines.map((l) => l.next()));
  const t0 = performance.now();
  for (const w of workers) w.stdin!.write('go\n');
  await Promise.all(lines.map((l) => l.next()));
  const elapsed = performance.now() - t0;
  return (WORKERS * PER_WORKER) / (elapsed / 1000);
}

async function lowdbRewrite(snapshot: string): Promise<number[]> {
  const copy = path.join(os.tmpdir(), `bench-lowdb-${process.pid}.json`);
  const db = new Low(new JSONFile<unknown>(copy), {});
  db.data = JSON.parse(snapshot);
  const samples = await timeCalls(50, () => db.write());
  rmSync(copy, { force: true });
  return samples;
}

const median = (xs: number[]) => summary(xs).p50;

type Row = [string, string, string];

/** One daemon in one sync mode: latency on a kept connection and throughput of 8 processes, 10,000 services registered. */
async function measureDaemon(sync: string, rows: Row[]): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmb-'));
  const { proc, socket } = await startDaemon(dir, sync);
  try {
    const seeders = Array.from({ length: 8 }, () => new PortmandClient({ socketPath: socket }));
    const per = Math.ceil(SERVICES / seeders.length);
    await Promise.all(
      seeders.map((c, s) => Promise.all(Array.from({ length: per }, (_, i) => c.port.allocate({ service: `seed-${s}-${i}` })))),
    );
    for (const c of seeders) c.close();

    const pm = new PortmandClient({ socketPath: socket });
    await timeCalls(200, () => pm.daemon.ping()); // warm up
    const ping = summary(await timeCalls(SAMPLES, () => pm.daemon.ping()));
    const alloc = summary(await timeCalls(SAMPLES, (i) => pm.port.allocate({ service: `lat-${i}` })));
    const again = summary(await timeCalls(SAMPLES, (i) => pm.port.allocate({ service: `lat-${i}` })));
    rows.push([
      `[sync=${sync}] ping (baseline: socket + JSON-RPC round trip)`,
      `p50 ${fmt(ping.p50)} ms, p90 ${fmt(ping.p90)} ms`,
      '1.00x',
    ]);
    rows.push([
      `[sync=${sync}] allocate a new port, ${SERVICES} services registered`,
      `p50 ${fmt(alloc.p50)} ms, p90 ${fmt(alloc.p90)} ms (target p50 <= 0.3 ms)`,
      `${fmt(alloc.p50 / ping.p50, 2)}x ping`,
    ]);
    rows.push([
      `[sync=${sync}] allocate again (same service, same port)`,
      `p50 ${fmt(again.p50)} ms, p90 ${fmt(again.p90)} ms`,
      `${fmt(again.p50 / ping.p50, 2)}x ping`,
    ]);
    const status = await pm.daemon.status();
    pm.close();

    const pingRates: number[] = [];
    const allocRates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      pingRates.push(await parallel(socket, 'ping', r));
      allocRates.push(await parallel(socket, 'allocate', r));
    }
    rows.push([`[sync=${sync}] ${WORKERS} processes, ping (baseline)`, `median ${fmt(median(pingRates), 0)} calls/s`, '1.00x']);
    rows.push([
      `[sync=${sync}] ${WORKERS} processes, allocate`,
      `median ${fmt(median(allocRates), 0)} allocations/s (target >= 4000)`,
      `${fmt(median(allocRates) / median(pingRates), 2)}x ping`,
    ]);
    // A clean stop compacts the journal into the snapshot; keep a copy for the lowdb baseline.
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    return readFileSync(status.stateFile, 'utf8');
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- memory` (or `scale`) measures that part alone (bench/memory.ts, bench/scale.ts); with no argument, everything. */
async function main(only: string | undefined): Promise<void> {
  if (only !== undefined && only !== 'memory' && only !== 'scale')
    throw new Error(`unknown part "${only}": the parts that run alone are "memory" and "scale"`);
  const rows: Row[] = [];
  if (only === 'memory') {
    await measureMemory(rows);
    return print(rows);
  }
  if (only === 'scale') {
    await measureScale(rows);
    return print(rows);
  }
  await measureScale(rows);
  await measureMemory(rows);
  const snapshot = await measureDaemon('background', rows);
  await measureDaemon('ack', rows);

  const rewrite = summary(await lowdbRewrite(snapshot));
  rows.push(['lowdb whole-file rewrite per change (the design the journal avoids)', `p50 ${fmt(rewrite.p50)} ms`, '']);

  if (process.platform === 'linux') {
    const ss = await timeSource(ssSource, 20);
    const procfs = await timeSource(() => procSource(), 20);
    const si = await timeSource(systeminformationSource, 10);
    rows.push(['scan: systeminformation (baseline, portable)', `p50 ${fmt(si.p50Ms, 1)} ms, ${si.listeners} listeners`, '1.00x']);
    rows.push(['scan: ss -H -ltunp (Linux default)', `p50 ${fmt(ss.p50Ms, 1)} ms`, `${fmt(ss.p50Ms / si.p50Ms, 2)}x`]);
    rows.push(['scan: /proc/net + fd walk (fallback)', `p50 ${fmt(procfs.p50Ms, 1)} ms`, `${fmt(procfs.p50Ms / si.p50Ms, 2)}x`]);
    // Paid once per connection on a shared socket, at its first mutating call; a private (0600) socket pays nothing.
    const peer = await timePeerLookup(20, 32);
    rows.push([
      'peer lookup of a shared-socket caller (once per connection)',
      `p50 ${fmt(peer.oneP50Ms, 1)} ms alone; ${peer.burst} new connections together ${fmt(peer.burstMs, 1)} ms${peer.found ? '' : ' (LOOKUP FAILED)'}`,
      '',
    ]);
  }
  print(rows);
}

function print(rows: Row[]): void {
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log(`portmand bench (node ${process.version}, ${os.cpus().length} cores)`);
  for (const [name, value, ratio] of rows) console.log(`${name.padEnd(w)}  ${value}${ratio ? `  [${ratio}]` : ''}`);
}

await main(process.argv[2]);
