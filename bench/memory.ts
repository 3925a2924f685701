// Memory at 10,000 services (issue 6 §2): RSS plain and after a forced GC of
// a daemon filled with 10,000 services in batches, scanned and left idle,
// against the same daemon empty, and against node's default semi-spaces.
// One daemon's RSS varies by a fifth from run to run (how much native memory
// the burst left behind), so each figure is the median of several daemons,
// each started fresh as the units run it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawRpc } from './raw-rpc.ts';
import { fill, startDaemon, UNIT_FLAGS, type Memory, type Row } from './scale.ts';
import { fmt, summary } from './stats.ts';

const DAEMONS = Number(process.env.BENCH_MEMORY_DAEMONS ?? 3);
const SERVICES = 10_000;
/** Steady state: memory is read after this long idle, once the burst's transient buffers are gone. */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 10_000);
const MiB = 1024 * 1024;

interface Sample {
  empty: { before: Memory; after: Memory };
  full: { before: Memory; after: Memory };
}

async function oneDaemon(flags: string[]): Promise<Sample> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmm-'));
  const d = await startDaemon(dir, flags);
  const rpc = await RawRpc.connect(d.socket);
  try {
    const empty = await d.memory();
    await fill(rpc, 0, SERVICES);
    await rpc.call('conflict.detect');
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return { empty, full: await d.memory() };
  } finally {
    rpc.close();
    d.proc.kill('SIGTERM');
    await new Promise((r) => d.proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Medians over DAEMONS fresh daemons, one after the other. */
async function medians(flags: string[]) {
  const samples: Sample[] = [];
  for (let i = 0; i < DAEMONS; i++) samples.push(await oneDaemon(flags));
  const mib = (pick: (s: Sample) => number) => summary(samples.map(pick)).p50 / MiB;
  const of = (at: 'empty' | 'full') => ({
    plain: mib((s) => s[at].before.rss),
    gc: mib((s) => s[at].after.rss),
    heap: mib((s) => s[at].after.heapUsed),
    all: samples.map((s) => fmt(s[at].after.rss / MiB, 0)).join('/'),
  });
  return { empty: of('empty'), full: of('full') };
}

const describe = (m: { plain: number; gc: number; heap: number; all: string }) =>
  `${fmt(m.plain, 1)} MiB plain, ${fmt(m.gc, 1)} MiB after GC (heap ${fmt(m.heap, 1)} MiB; each daemon ${m.all})`;

export async function measureMemory(rows: Row[]): Promise<void> {
  const units = await medians(UNIT_FLAGS);
  const defaults = await medians([]);
  const n = `median of ${DAEMONS} daemon${DAEMONS === 1 ? '' : 's'}`;
  rows.push([`RSS, empty daemon (baseline), ${n}`, describe(units.empty), '1.00x']);
  rows.push([
    `RSS, ${SERVICES.toLocaleString('en')} services, ${IDLE_MS / 1000} s idle after a scan, ${n}`,
    `${describe(units.full)}; target <= 100 MiB after GC`,
    `${fmt(units.full.gc / units.empty.gc, 2)}x after GC`,
  ]);
  rows.push([
    `RSS, the same with node default semi-spaces, ${n}`,
    describe(defaults.full),
    `${fmt(defaults.full.gc / units.empty.gc, 2)}x after GC`,
  ]);
}

// Run alone: node --import tsx bench/memory.ts (after npm run build)
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows: Row[] = [];
  await measureMemory(rows);
  for (const [name, value, ratio] of rows) console.log(`${name}  ${value}${ratio ? `  [${ratio}]` : ''}`);
}
