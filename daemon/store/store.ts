// The durable store: the live state in memory, an append-only journal of ops
// on disk, and a lowdb snapshot that the journal is compacted into.
//
// Durability contract: `append(ops)` resolves once the ops are written to the
// journal file, so an acknowledged mutation survives kill -9 of the daemon.
// Power loss is a separate question, answered by the sync mode: 'background'
// (default) fdatasyncs right after each write, off the reply's path, so a
// power cut can lose at most the writes of the last fdatasync in flight;
// 'ack' fdatasyncs before resolving. Appends made while a write is in flight
// share the next write (group commit).
import { join } from 'node:path';
import type { Op, State } from '../core/state.ts';
import { SCHEMA_VERSION } from '../core/state.ts';
import { BackgroundSync } from './background-sync.ts';
import { fsyncDir, makePrivateDir, makePrivateFile } from './files.ts';
import { encodeEntry, JournalWriter } from './journal.ts';
import { loadState, type Loaded } from './load.ts';
import { acquireLock, type DirLock } from './lock.ts';
import { MIGRATIONS, writeSnapshot, type MigrationTable } from './snapshot.ts';

export { StateDirInUseError } from './lock.ts';
export { StateSchemaTooNewError, type Migration, type MigrationTable } from './snapshot.ts';

export interface StoreLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** See the durability contract at the top of this file. */
export type SyncMode = 'ack' | 'background';
export const SYNC_MODES: readonly SyncMode[] = ['ack', 'background'];

export interface StoreOptions {
  dir: string;
  /** When writes are fdatasync'ed: before `append` resolves ('ack'), or right after, off its path ('background', the default). */
  sync?: SyncMode;
  /** Compact once the journal holds this many ops (default 20,000). */
  compactAfterOps?: number;
  /** Compact once the journal is this large (default 64 MiB). */
  compactAfterBytes?: number;
  log?: StoreLog;
  /** Schema migrations by version migrated from; defaults to the built-in table. */
  migrations?: MigrationTable;
}

/** How the disk has been used since open. Only tests read these; nothing reports them to clients. */
export interface StoreStats {
  /** Journal writes; each one carries every append that was waiting. */
  batches: number;
  /** fdatasyncs of the journal that completed. */
  syncs: number;
  ops: number;
  compactions: number;
}

interface Pending {
  text: string;
  count: number;
  lastSeq: number;
  resolve(): void;
  reject(err: Error): void;
}

const STATE_FILE = 'state.json';
const JOURNAL_FILE = 'journal.ndjson';
const quiet: StoreLog = { info() {}, warn() {}, error() {} };

interface Settings {
  sync: SyncMode;
  compactAfterOps: number;
  compactAfterBytes: number;
  log: StoreLog;
}

export class Store {
  readonly state: State;
  readonly stateFile: string;
  readonly journalFile: string;
  /** What load had to do: corrupt files moved aside, a torn line dropped. */
  readonly warnings: string[];
  readonly stats: StoreStats = { batches: 0, syncs: 0, ops: 0, compactions: 0 };
  private lastSeq: number;
  private journalOps: number;
  private queue: Pending[] = [];
  private compactWaiters: Pending[] = [];
  private running = false;
  private failure: Error | null = null;
  private closed = false;
  private readonly background: BackgroundSync;

  private constructor(
    dir: string,
    loaded: Loaded,
    private readonly journal: JournalWriter,
    private readonly lock: DirLock,
    private readonly settings: Settings,
  ) {
    this.stateFile = join(dir, STATE_FILE);
    this.journalFile = join(dir, JOURNAL_FILE);
    this.state = loaded.state;
    this.warnings = loaded.warnings;
    this.lastSeq = loaded.lastSeq;
    this.journalOps = loaded.journalOps;
    this.background = new BackgroundSync(
      () => journal.sync(),
      () => this.stats.syncs++,
      (err) => this.fail(err, []),
    );
  }

  /** Locks the directory (creating it), loads and recovers the state. */
  static async open(options: StoreOptions): Promise<Store> {
    const { dir } = options;
    const settings: Settings = {
      sync: options.sync ?? 'background',
      compactAfterOps: options.compactAfterOps ?? 20_000,
      compactAfterBytes: options.compactAfterBytes ?? 64 * 1024 * 1024,
      log: options.log ?? quiet,
    };
    await makePrivateDir(dir);
    const lock = await acquireLock(dir);
    let journal: JournalWriter | undefined;
    try {
      const journalFile = join(dir, JOURNAL_FILE);
      makePrivateFile(join(dir, STATE_FILE)); // until the next compaction replaces it
      const loaded = await loadState(join(dir, STATE_FILE), journalFile, options.migrations ?? MIGRATIONS, settings.log);
      journal = JournalWriter.open(journalFile);
      const store = new Store(dir, loaded, journal, lock, settings);
      await fsyncDir(dir); // the journal may have just been created
      if (loaded.mustCompact) await store.compact();
      settings.log.info(`state loaded from ${dir}: ${Object.keys(store.state.services).length} services, seq ${store.lastSeq}`);
      return store;
    } catch (err) {
      journal?.close();
      lock.release();
      throw err;
    }
  }

  /** The error that stopped the store, or null while it works. */
  get failed(): Error | null {
    return this.failure;
  }

  /**
   * Makes `ops` durable. They must already be applied to `state`, in the same
   * tick: a compaction may snapshot the state at any moment.
   */
  append(ops: Op[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (ops.length === 0) return Promise.resolve();
    let text = '';
    try {
      for (let i = 0; i < ops.length; i++) text += encodeEntry(this.lastSeq + 1 + i, ops[i]!);
    } catch (err) {
      return Promise.reject(err); // e.g. a value JSON cannot encode; nothing was written
    }
    this.lastSeq += ops.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ text, count: ops.length, lastSeq: this.lastSeq, resolve, reject });
      this.kick();
    });
  }

  /** Snapshots the state and empties the journal, after the appends already made. */
  compact(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.compactWaiters.push({ text: '', count: 0, lastSeq: 0, resolve, reject });
      this.kick();
    });
  }

  /** Flushes, compacts and unlocks. After a failure it only unlocks: memory may hold unacknowledged ops. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.failure) await this.compact();
    } finally {
      await this.background.settled().catch(() => undefined);
      this.journal.close();
      this.lock.release();
    }
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    // Deferred to the end of this turn of the event loop, so that appends made
    // meanwhile share the first write: mutations run back to back in
    // microtasks (a batch of a thousand registers, up to the registry's 10 ms
    // slice), and a microtask gave each of them a write of its own.
    setImmediate(() => void this.run());
  }

  // The only writer: batches and compactions take turns, never overlap.
  private async run(): Promise<void> {
    try {
      while (!this.failure) {
        if (this.compactDue()) await this.compactNow();
        const batch = this.queue.splice(0);
        if (batch.length === 0) break;
        await this.commit(batch);
      }
    } finally {
      this.running = false;
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    try {
      this.journal.write(batch.map((p) => p.text).join(''));
      if (this.settings.sync === 'ack') {
        await this.journal.sync();
        this.stats.syncs++;
      } else this.background.request();
    } catch (err) {
      this.fail(err, batch);
      return;
    }
    const count = batch.reduce((n, p) => n + p.count, 0);
    this.journalOps += count;
    this.stats.ops += count;
    this.stats.batches++;
    for (const p of batch) p.resolve();
  }

  private compactDue(): boolean {
    return (
      this.compactWaiters.length > 0 ||
      this.journalOps >= this.settings.compactAfterOps ||
      this.journal.size >= this.settings.compactAfterBytes
    );
  }

  private async compactNow(): Promise<void> {
    const waiters = this.compactWaiters.splice(0);
    let seq: number;
    try {
      await this.background.settled();
      // Read in the same tick as the state is serialised: ops appended during
      // the wait above are in that state, so the seq must cover them, or replay
      // would apply them a second time from the journal.
      seq = this.lastSeq;
      await writeSnapshot(this.stateFile, {
        schemaVersion: SCHEMA_VERSION,
        seq,
        savedAt: new Date().toISOString(),
        state: this.state,
      });
      this.journal.truncate();
    } catch (err) {
      this.fail(err, waiters);
      return;
    }
    this.journalOps = 0;
    this.stats.compactions++;
    // Appends queued before the snapshot was taken are in it: they are durable now.
    const covered = this.queue.filter((p) => p.lastSeq <= seq);
    this.queue = this.queue.filter((p) => p.lastSeq > seq);
    for (const p of [...covered, ...waiters]) p.resolve();
  }

  private fail(err: unknown, inFlight: Pending[]): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure = error;
    this.settings.log.error(`state store failed, no further writes: ${error.message}`);
    for (const p of [...inFlight, ...this.queue.splice(0), ...this.compactWaiters.splice(0)]) p.reject(error);
  }
}
