import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { pidAlive } from '../daemon/host/process.ts';
import { applyOp, SCHEMA_VERSION, type Op, type ServiceRecord } from '../daemon/core/state.ts';
import { Store, StateDirInUseError, StateSchemaTooNewError, type StoreOptions } from '../daemon/store/store.ts';
import { serviceRecord } from './core/fixtures.ts';

const dirs: string[] = [];
const open: Store[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-st-'));
  dirs.push(dir);
  return dir;
}

async function openStore(opts: StoreOptions): Promise<Store> {
  const store = await Store.open(opts);
  open.push(store);
  return store;
}

afterEach(async () => {
  for (const store of open.splice(0)) await store.close().catch(() => undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const service = (name: string, port: number): ServiceRecord => serviceRecord(name, port, Date.parse('2025-01-01T00:00:00.000Z'));

const put = (name: string, port: number): Op => ({ op: 'service', name, value: service(name, port) });
/** A history line: unlike a service op, applying it twice leaves a trace. */
const line = (name: string): Op => ({
  op: 'history',
  value: { at: '2025-01-01T00:00:00.000Z', service: name, port: 1, previous: null, why: 'test' },
});

/** What the registry does: apply to the live state, then make durable. */
function commit(store: Store, ...ops: Op[]): Promise<void> {
  for (const op of ops) applyOp(store.state, op);
  return store.append(ops);
}

function ports(store: Store): Record<string, number> {
  return Object.fromEntries(Object.values(store.state.services).map((s) => [s.name, s.port]));
}

/**
 * What a crash leaves behind, without closing the store: a copy of its files
 * as they are on disk now, and a lock naming a pid that no longer runs.
 */
function crashCopy(store: Store): string {
  const copy = tempDir();
  for (const file of [store.stateFile, store.journalFile]) {
    if (existsSync(file)) copyFileSync(file, join(copy, basename(file)));
  }
  writeFileSync(join(copy, 'portmand.lock'), '999999999\n');
  return copy;
}

function journalLines(store: Store): string[] {
  return readFileSync(store.journalFile, 'utf8').split('\n').filter(Boolean);
}

describe('Store persistence', () => {
  it('keeps appended ops across close and reopen', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await commit(store, put('api', 3000), put('web', 3001));
    await commit(store, { op: 'service', name: 'api', value: null }, { op: 'nextConflictId', value: 7 });
    await store.close();

    const again = await openStore({ dir });
    expect(ports(again)).toEqual({ web: 3001 });
    expect(again.state.nextConflictId).toBe(7);
    expect(again.warnings).toEqual([]);
    expect(journalLines(again)).toEqual([]); // close compacted everything into state.json
  });

  it('replays the journal when the previous owner never closed (crash)', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await commit(store, put('api', 3000));
    await commit(store, put('api', 3005), put('db', 5432));

    const again = await openStore({ dir: crashCopy(store) });
    expect(ports(again)).toEqual({ api: 3005, db: 5432 });
    expect(again.warnings).toEqual([]);
  });

  it('continues seq numbering after a reopen so later ops are not skipped', async () => {
    const dir = tempDir();
    const first = await openStore({ dir });
    await commit(first, put('a', 1));
    await first.close();
    const second = await openStore({ dir });
    await commit(second, put('b', 2));
    const third = await openStore({ dir: crashCopy(second) });
    expect(ports(third)).toEqual({ a: 1, b: 2 });
  });

  it('creates the state directory, private to the user', async () => {
    const dir = join(tempDir(), 'nested', 'state');
    const store = await openStore({ dir });
    expect(existsSync(store.stateFile)).toBe(true);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('writes every state file 0600, whatever the umask allows', async () => {
    const dir = join(tempDir(), 'state');
    const previous = process.umask(0o022);
    try {
      const store = await openStore({ dir });
      await commit(store, put('api', 3000));
      await store.compact();
      await commit(store, put('web', 3001));
      const mode = (f: string) => (statSync(join(dir, f)).mode & 0o777).toString(8);
      expect(Object.fromEntries(readdirSync(dir).map((f) => [f, mode(f)]))).toEqual({
        'state.json': '600',
        'journal.ndjson': '600',
        'portmand.lock': '600',
      });
    } finally {
      process.umask(previous);
    }
  });

  it('tightens state files an older version left 0644', async () => {
    const dir = tempDir();
    const first = await openStore({ dir });
    await commit(first, put('api', 3000));
    await first.close();
    chmodSync(join(dir, 'state.json'), 0o644);
    writeFileSync(join(dir, 'journal.ndjson'), '', { mode: 0o644 });
    chmodSync(join(dir, 'journal.ndjson'), 0o644);
    await openStore({ dir });
    expect((statSync(join(dir, 'state.json')).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(join(dir, 'journal.ndjson')).mode & 0o777).toString(8)).toBe('600');
  });

  it('keeps every file 0600 under umask 000: lock, journal, snapshot, a leftover draft, and damaged files moved aside', async () => {
    const dir = tempDir();
    const first = await openStore({ dir });
    await commit(first, put('api', 3000));
    await first.close();
    // An older portmand's 0644 files, damaged, and leftovers of an interrupted compaction and lock.
    writeFileSync(join(dir, 'state.json'), '{"schemaVersion": 2, "seq": 1, "sta', { mode: 0o644 });
    writeFileSync(join(dir, 'journal.ndjson'), '{"seq":1,"op":"service","name":"x","value":{}}\nnot json\n{"seq":3}\n', { mode: 0o644 });
    writeFileSync(join(dir, `.portmand.lock.${process.pid}`), 'left over', { mode: 0o666 });
    for (const f of ['state.json', 'journal.ndjson', `.portmand.lock.${process.pid}`]) chmodSync(join(dir, f), 0o666);
    const previous = process.umask(0);
    try {
      const store = await openStore({ dir });
      expect(store.warnings).toHaveLength(2);
      await commit(store, put('web', 3001));
      await store.compact();
      await commit(store, put('db', 3002));
      const modes = Object.fromEntries(
        readdirSync(dir).map((f) => [f.replace(/corrupt-.*/, 'corrupt-*'), (statSync(join(dir, f)).mode & 0o777).toString(8)]),
      );
      expect(modes).toEqual({
        'state.json': '600',
        'journal.ndjson': '600',
        'portmand.lock': '600',
        'state.json.corrupt-*': '600',
        'journal.ndjson.corrupt-*': '600',
      });
    } finally {
      process.umask(previous);
    }
  });

  it.runIf(process.platform !== 'win32')('refuses a state dir others can write to, and changes nothing in it', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    await expect(openStore({ dir })).rejects.toThrow(
      `state dir ${dir} is writable by all users (mode 0777): they could replace what the daemon keeps there; make it 0700 (chmod 700 ${dir}) or set PORTMAND_STATE_DIR to another`,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it.runIf(process.platform !== 'win32')('refuses a state dir that is a symlink, and never writes through it', async () => {
    const target = tempDir();
    const link = join(tempDir(), 'state');
    symlinkSync(target, link);
    await expect(openStore({ dir: link })).rejects.toThrow(/^state dir .*\/state is a symbolic link: refusing to follow it/);
    expect(readdirSync(target)).toEqual([]);
  });
});

describe('Store recovery', () => {
  async function crashedDir(): Promise<{ dir: string; journal: string }> {
    const dir = tempDir();
    const store = await openStore({ dir });
    await commit(store, put('api', 3000));
    await commit(store, put('web', 3001));
    const copy = crashCopy(store);
    return { dir: copy, journal: join(copy, 'journal.ndjson') };
  }

  it('drops a torn last line with a warning and truncates the journal to the last good line', async () => {
    const { dir, journal } = await crashedDir();
    const good = readFileSync(journal, 'utf8');
    appendFileSync(journal, '{"seq":3,"op":"service","name":"half');
    const store = await openStore({ dir });
    expect(ports(store)).toEqual({ api: 3000, web: 3001 });
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toMatch(/torn last line/);
    expect(readFileSync(journal, 'utf8')).toBe(good);
  });

  it.each([
    ['cut-off JSON', '{"schemaVersion":1,"seq":0,"sta'],
    ['an empty file', ''],
    ['JSON null', 'null'],
    ['an array', '[]'],
    ['no state', '{"schemaVersion":1,"seq":0,"savedAt":"x"}'],
    ['a state of the wrong shape', '{"schemaVersion":1,"seq":0,"savedAt":"x","state":{"services":[]}}'],
  ])('moves a snapshot with %s aside, names both paths, and rebuilds from the journal', async (_, text) => {
    const { dir } = await crashedDir();
    writeFileSync(join(dir, 'state.json'), text);
    const store = await openStore({ dir });
    const aside = readdirSync(dir).find((f) => f.startsWith('state.json.corrupt-'));
    expect(aside).toBeDefined();
    expect(readFileSync(join(dir, aside!), 'utf8')).toBe(text);
    expect(store.warnings).toHaveLength(1);
    expect(store.warnings[0]).toContain(store.stateFile);
    expect(store.warnings[0]).toContain(join(dir, aside!));
    expect(ports(store)).toEqual({ api: 3000, web: 3001 });
    // A fresh, valid snapshot replaces it, so the next start is clean.
    await store.close();
    const again = await openStore({ dir });
    expect(again.warnings).toEqual([]);
    expect(ports(again)).toEqual({ api: 3000, web: 3001 });
  });

  it('moves a journal with a corrupt middle line aside and keeps the ops before it', async () => {
    const { dir, journal } = await crashedDir();
    const [first, second] = readFileSync(journal, 'utf8').split('\n');
    const damaged = `${first}\n#garbage#\n${second}\n`;
    writeFileSync(journal, damaged);
    const store = await openStore({ dir });
    const aside = readdirSync(dir).find((f) => f.startsWith('journal.ndjson.corrupt-'));
    expect(aside).toBeDefined();
    expect(readFileSync(join(dir, aside!), 'utf8')).toBe(damaged);
    expect(store.warnings[0]).toContain(journal);
    expect(store.warnings[0]).toContain(join(dir, aside!));
    expect(store.warnings[0]).toMatch(/line 2/);
    expect(ports(store)).toEqual({ api: 3000 });
    expect(journalLines(store)).toEqual([]);
  });

  it('replays only the journal ops after the seq the snapshot holds', async () => {
    const dir = tempDir();
    const held = ['a', 'b'].map((n) => (line(n) as Extract<Op, { op: 'history' }>).value);
    const state = { services: {}, reservations: {}, conflicts: {}, history: held, statusLog: [], nextConflictId: 1 };
    writeFileSync(
      join(dir, 'state.json'),
      JSON.stringify({ schemaVersion: SCHEMA_VERSION, seq: 2, savedAt: '2025-01-01T00:00:00.000Z', state }),
    );
    // A crash between the snapshot's rename and the journal's truncation leaves ops 1 and 2 in both.
    const journal = ['a', 'b', 'c', 'd'].map((n, i) => JSON.stringify({ seq: i + 1, ...line(n) })).join('\n');
    writeFileSync(join(dir, 'journal.ndjson'), `${journal}\n`);
    const store = await openStore({ dir });
    expect(store.state.history.map((h) => h.service)).toEqual(['a', 'b', 'c', 'd']);
    expect(store.warnings).toEqual([]);
  });

  it('refuses a snapshot from a newer schema and leaves it untouched', async () => {
    const dir = tempDir();
    const future = JSON.stringify({ schemaVersion: SCHEMA_VERSION + 1, seq: 0, savedAt: 'x', state: { whatever: 1 } });
    writeFileSync(join(dir, 'state.json'), future);
    const err = await Store.open({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateSchemaTooNewError);
    expect((err as Error).message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 1}.*only up to ${SCHEMA_VERSION}`));
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(future);
    expect(readdirSync(dir).sort()).toEqual(['state.json']); // lock released, nothing moved
  });

  it("migrates a schema 1 snapshot and its journal to schema 2 (a status log seeded with each service's status), then saves schema 2", async () => {
    const dir = tempDir();
    const v1State = { services: { api: service('api', 3000) }, reservations: {}, conflicts: {}, history: [], nextConflictId: 1 };
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ schemaVersion: 1, seq: 1, savedAt: 'x', state: v1State }));
    // A schema 1 journal: a service op after the snapshot, and one the snapshot already holds (seq 1).
    const journal = [put('old', 2999), put('web', 3001)].map((op, i) => JSON.stringify({ seq: i + 1, ...op })).join('\n');
    writeFileSync(join(dir, 'journal.ndjson'), `${journal}\n`);
    const store = await openStore({ dir });
    expect(ports(store)).toEqual({ api: 3000, web: 3001 });
    // Uptime counts from the upgrade on: each service's status then is its first line.
    const seeded = store.state.statusLog.map(({ service, status }) => ({ service, status }));
    expect(seeded).toEqual([
      { service: 'api', status: 'registered' },
      { service: 'web', status: 'registered' },
    ]);
    const saved = JSON.parse(readFileSync(store.stateFile, 'utf8'));
    expect(saved.schemaVersion).toBe(2);
    expect(saved.state.statusLog).toHaveLength(2);
    // The migrated state takes the new op, and keeps it across a restart.
    await commit(store, { op: 'status', value: { at: '2025-01-01T00:00:00.000Z', service: 'api', status: 'healthy' } });
    await store.close();
    const again = await openStore({ dir });
    expect(again.state.statusLog.at(-1)).toEqual({ at: '2025-01-01T00:00:00.000Z', service: 'api', status: 'healthy' });
    expect(again.warnings).toEqual([]);
  });

  it('applies a custom migration table from an older version', async () => {
    const dir = tempDir();
    const old = {
      services: { api: { ...service('api', 3000), origin: undefined } },
      reservations: {},
      conflicts: {},
      history: [],
      nextConflictId: 1,
    };
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ schemaVersion: SCHEMA_VERSION - 1, seq: 0, savedAt: 'x', state: old }));
    const migrations = {
      [SCHEMA_VERSION - 1]: (s: Record<string, unknown>) => ({
        ...s,
        statusLog: [],
        services: Object.fromEntries(
          Object.values(s.services as Record<string, ServiceRecord>).map((x) => [x.name, { ...x, origin: x.origin ?? 'register' }]),
        ),
      }),
    };
    const store = await openStore({ dir, migrations });
    expect(store.state.services.api?.origin).toBe('register');
    const saved = JSON.parse(readFileSync(store.stateFile, 'utf8'));
    expect(saved.schemaVersion).toBe(SCHEMA_VERSION);
    expect(saved.state.services.api.origin).toBe('register');
  });

  it('refuses to open an older snapshot that no migration covers', async () => {
    const dir = tempDir();
    const state = { services: {}, reservations: {}, conflicts: {}, history: [], nextConflictId: 1 };
    const old = JSON.stringify({ schemaVersion: SCHEMA_VERSION - 1, seq: 0, savedAt: 'x', state });
    writeFileSync(join(dir, 'state.json'), old);
    await expect(Store.open({ dir, migrations: {} })).rejects.toThrow(/no migration from state schema version/);
    expect(readFileSync(join(dir, 'state.json'), 'utf8')).toBe(old);
  });
});

describe('Store writes', () => {
  it('batches appends made in one tick into one write', async () => {
    const store = await openStore({ dir: tempDir() });
    const before = store.stats.batches;
    await Promise.all(Array.from({ length: 100 }, (_, i) => commit(store, put(`s${i}`, 10_000 + i))));
    expect(store.stats.batches - before).toBe(1);
    expect(journalLines(store)).toHaveLength(100);
  });

  it('serves concurrent clients with one write per round, not one per append', async () => {
    const store = await openStore({ dir: tempDir() });
    const client = async (c: number): Promise<void> => {
      for (let i = 0; i < 25; i++) await commit(store, put(`c${c}-${i}`, 20_000 + c * 100 + i));
    };
    await Promise.all(Array.from({ length: 8 }, (_, c) => client(c)));
    expect(journalLines(store)).toHaveLength(200);
    expect(store.stats.batches).toBeLessThanOrEqual(26);
  });

  it("sync 'ack' has fdatasync'ed every write before an append resolves", async () => {
    const store = await openStore({ dir: tempDir(), sync: 'ack' });
    for (let i = 0; i < 5; i++) {
      await commit(store, put(`a${i}`, 40_000 + i));
      expect(store.stats.syncs).toBe(store.stats.batches);
    }
  });

  it("sync 'background' resolves after the write and fdatasyncs right behind it, before close returns", async () => {
    const store = await openStore({ dir: tempDir() });
    await Promise.all(Array.from({ length: 50 }, (_, i) => commit(store, put(`b${i}`, 41_000 + i))));
    expect(journalLines(store)).toHaveLength(50);
    for (let i = 0; i < 20; i++) await commit(store, put(`c${i}`, 42_000 + i));
    // A background sync may still be in flight; close must wait for it rather than close its fd.
    await store.close();
    expect(store.stats.syncs).toBeGreaterThanOrEqual(1);
    expect(store.stats.syncs).toBeLessThanOrEqual(store.stats.batches);
  });

  it('compacts when the journal passes the threshold, and state survives a crash after it', async () => {
    const dir = tempDir();
    const store = await openStore({ dir, compactAfterOps: 10 });
    for (let i = 0; i < 25; i++) await commit(store, put(`s${i}`, 30_000 + i));
    expect(store.stats.compactions).toBeGreaterThanOrEqual(2);
    expect(journalLines(store).length).toBeLessThan(10);
    const again = await openStore({ dir: crashCopy(store) });
    expect(Object.keys(again.state.services)).toHaveLength(25);
  });

  it('keeps appends made while a compaction is writing', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await commit(store, put('before', 1));
    const compaction = store.compact();
    const during = commit(store, put('during', 2));
    await Promise.all([compaction, during]);
    await commit(store, put('after', 3));
    const again = await openStore({ dir: crashCopy(store) });
    expect(ports(again)).toEqual({ before: 1, during: 2, after: 3 });
  });

  it('replays exactly: an op appended while a compaction waits is in the snapshot or the journal, never both', async () => {
    const dir = tempDir();
    const store = await openStore({ dir });
    await commit(store, line('before'));
    await new Promise((r) => setImmediate(r)); // the writer is idle: compact() starts a run of its own
    const compaction = store.compact();
    await Promise.resolve(); // the compaction has started and waits for the background sync
    const during = commit(store, line('during'));
    await Promise.all([compaction, during]);
    await commit(store, line('after'));
    const again = await openStore({ dir: crashCopy(store) });
    expect(again.state.history.map((h) => h.service)).toEqual(['before', 'during', 'after']);
  });

  it('rejects appends after close', async () => {
    const store = await openStore({ dir: tempDir() });
    await store.close();
    await expect(store.append([put('x', 1)])).rejects.toThrow(/closed/);
  });
});

describe('Store lock', () => {
  it('refuses a directory held by a live process, naming it and the pid', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'portmand.lock'), `${process.ppid}\n`);
    const err = await Store.open({ dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateDirInUseError);
    expect((err as Error).message).toBe(`state dir ${dir} is in use by portmand pid ${process.ppid}`);
  });

  it('refuses a second open in the same process', async () => {
    const dir = tempDir();
    await openStore({ dir });
    await expect(Store.open({ dir })).rejects.toBeInstanceOf(StateDirInUseError);
  });

  it('does not take over a stale lock while another starter holds the takeover guard', async () => {
    const dir = tempDir();
    const lock = join(dir, 'portmand.lock');
    writeFileSync(lock, '999999999\n');
    writeFileSync(`${lock}.takeover`, `${process.ppid}\n`);
    const opening = Store.open({ dir });
    // Meanwhile the guard's holder finishes its takeover: the lock is now live.
    writeFileSync(lock, `${process.ppid}\n`);
    rmSync(`${lock}.takeover`);
    await expect(opening).rejects.toBeInstanceOf(StateDirInUseError);
    expect(readFileSync(lock, 'utf8')).toBe(`${process.ppid}\n`);
  });

  it('takes over a stale lock left by a dead process and removes it on close', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'portmand.lock'), '999999999\n');
    const store = await openStore({ dir });
    expect(readFileSync(join(dir, 'portmand.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await store.close();
    expect(existsSync(join(dir, 'portmand.lock'))).toBe(false);
  });
});

describe('pid liveness (locks and lease owners)', () => {
  it.skipIf(process.platform !== 'linux')('a holder killed but not yet reaped (a zombie) counts as dead', () => {
    const child = spawn('sleep', ['60']);
    expect(pidAlive(child.pid!)).toBe(true);
    process.kill(child.pid!, 'SIGKILL');
    // Stay synchronous so Node cannot reap the child: it remains a zombie meanwhile.
    const until = Date.now() + 200;
    while (Date.now() < until && readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z');
    expect(pidAlive(child.pid!)).toBe(false);
  });
});
