// The store under real process death, real write failures and real lock races, in child processes.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../daemon/store/store.ts';

const root = resolve(import.meta.dirname, '..');
const storeUrl = pathToFileURL(join(root, 'daemon/store/store.ts')).href;
const stateUrl = pathToFileURL(join(root, 'daemon/core/state.ts')).href;
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-sc-'));
  dirs.push(dir);
  return dir;
}

// Shared by the child scripts: a service op that the child applies, then appends.
const prelude = `
const { Store } = await import(${JSON.stringify(storeUrl)});
const { applyOp } = await import(${JSON.stringify(stateUrl)});
const at = '2025-01-01T00:00:00.000Z';
const put = (name, tag = '') => ({ op: 'service', name, value: {
  name, port: 20000, protocol: 'tcp', host: '0.0.0.0', status: 'registered', tags: tag ? [tag] : [],
  registeredAt: at, updatedAt: at, origin: 'register' } });
const commit = (store, op) => { applyOp(store.state, op); return store.append([op]); };
`;

/** Runs a child script (ESM, with tsx) in `dir`; `shell` wraps the node command line. */
let scripts = 0;

function child(dir: string, body: string, shell = 'exec "$@"') {
  const script = join(dir, `child${scripts++}.mjs`);
  writeFileSync(script, prelude + body);
  const proc = spawn('sh', ['-c', shell, 'sh', process.execPath, '--import', 'tsx', script, dir], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | number | null>((done) => proc.on('exit', (code, signal) => done(signal ?? code)));
  return { proc, lines: createInterface({ input: proc.stdout }), exited };
}

describe('Store in a real process', () => {
  it('has every acknowledged op after kill -9, even mid-compaction', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    const { proc, lines, exited } = child(
      dir,
      `
const store = await Store.open({ dir: process.argv[2] + '/state', compactAfterOps: 40 });
let next = 0;
const writer = async () => { for (;;) { const i = next++; await commit(store, put('s' + i)); process.stdout.write('acked ' + i + '\\n'); } };
for (let w = 0; w < 4; w++) void writer();
`,
    );
    const acked: number[] = [];
    for await (const line of lines) {
      acked.push(Number(line.split(' ')[1]));
      if (acked.length === 300) proc.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = await Store.open({ dir: state });
    try {
      const missing = acked.filter((i) => !store.state.services[`s${i}`]);
      expect(missing).toEqual([]);
      expect(store.warnings.filter((w) => !/torn last line/.test(w))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('replays history exactly after kill -9 right after a compaction under concurrent load', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    // History lines are appended, not keyed: an op replayed twice shows up as a duplicate line.
    const { proc, lines, exited } = child(
      dir,
      `
const store = await Store.open({ dir: process.argv[2] + '/state', compactAfterOps: 40 });
const line = (i) => ({ op: 'history', value: { at, service: 'h' + i, port: 1, previous: null, why: 'load' } });
let next = 0;
let compactions = 0;
const writer = async () => {
  for (;;) {
    const i = next++;
    await commit(store, line(i));
    process.stdout.write('acked ' + i + '\\n');
    if (store.stats.compactions !== compactions) process.stdout.write('compacted ' + (compactions = store.stats.compactions) + '\\n');
    // Like requests from sockets, the next op arrives from the event loop, also while a compaction waits.
    await new Promise((r) => setImmediate(r));
  }
};
for (let w = 0; w < 8; w++) void writer();
`,
    );
    const acked: number[] = [];
    for await (const line of lines) {
      const [what, n] = line.split(' ');
      if (what === 'acked') acked.push(Number(n));
      if (what === 'compacted' && Number(n) >= 5) proc.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const store = await Store.open({ dir: state });
    try {
      const seen = store.state.history.map((h) => h.service);
      const counts = new Map<string, number>();
      for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
      expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
      const have = new Set(seen);
      expect(acked.filter((i) => !have.has(`h${i}`))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('rejects every waiting append when a write fails, then refuses more', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    // A file size limit makes the journal write fail with EFBIG, like a full disk.
    const { lines, exited } = child(
      dir,
      `
const store = await Store.open({ dir: process.argv[2] + '/state' });
await commit(store, put('small'));
const big = commit(store, put('big', 'x'.repeat(200_000)));
const sameBatch = commit(store, put('neighbour'));
const outcome = async (p) => p.then(() => 'ok', (e) => e.code ?? e.message);
const result = { big: await outcome(big), sameBatch: await outcome(sameBatch), later: await outcome(commit(store, put('later'))), failed: Boolean(store.failed) };
await store.close();
console.log(JSON.stringify(result));
`,
      'ulimit -f 64 && exec "$@"',
    );
    const out: string[] = [];
    for await (const line of lines) out.push(line);
    expect(await exited).toBe(0);
    const result = JSON.parse(out.at(-1)!);
    expect(result).toEqual({ big: 'EFBIG', sameBatch: 'EFBIG', later: 'EFBIG', failed: true });

    const store = await Store.open({ dir: state });
    try {
      expect(Object.keys(store.state.services)).toEqual(['small']);
    } finally {
      await store.close();
    }
  });

  it('lets exactly one of several processes racing for a stale lock win', async () => {
    const dir = tempDir();
    const state = join(dir, 'state');
    mkdirSync(state);
    writeFileSync(join(state, 'portmand.lock'), '999999999\n');
    const starters = Array.from({ length: 4 }, () =>
      child(
        dir,
        `
const { once } = await import('node:events');
console.log('ready');
await once(process.stdin, 'data');
try {
  const store = await Store.open({ dir: process.argv[2] + '/state' });
  console.log('won');
  await once(process.stdin, 'end');
  await store.close();
} catch (err) {
  console.log(err.name);
}
`,
      ),
    );
    const next = starters.map((s) => s.lines[Symbol.asyncIterator]());
    for (const it of next) expect((await it.next()).value).toBe('ready');
    for (const s of starters) s.proc.stdin!.write('go\n');
    const outcomes = await Promise.all(next.map(async (it) => (await it.next()).value as string));
    for (const s of starters) s.proc.stdin!.end();
    await Promise.all(starters.map((s) => s.exited));
    expect(outcomes.sort()).toEqual(['StateDirInUseError', 'StateDirInUseError', 'StateDirInUseError', 'won']);
  });
});
