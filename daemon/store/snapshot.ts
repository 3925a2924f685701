// The snapshot file (state.json): the whole state at one journal seq, written
// by lowdb. lowdb replaces the file by rename but never fsyncs, so it writes
// `state.json.next` and we make that durable before renaming it into place.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { SCHEMA_VERSION, type State } from '../core/state.ts';
import { fsyncDir, PRIVATE_FILE } from './files.ts';

export interface Snapshot {
  schemaVersion: number;
  /** The last journal seq whose op the state includes. */
  seq: number;
  savedAt: string;
  state: State;
}

/** A snapshot as read from disk: its state may be in an older schema. */
export interface StoredSnapshot {
  schemaVersion: number;
  seq: number;
  savedAt?: string;
  state: Record<string, unknown>;
}

/** Turns the state of schema version N into version N+1. */
export type Migration = (state: Record<string, unknown>) => Record<string, unknown>;
export type MigrationTable = Readonly<Record<number, Migration>>;

/** Keyed by the version migrated from. */
export const MIGRATIONS: MigrationTable = {
  // 1 -> 2: the status log starts with each service's status at the upgrade, so uptime counts from then on.
  1: (state) => ({ ...state, statusLog: Array.isArray(state.statusLog) ? state.statusLog : seedStatusLog(state.services) }),
};

function seedStatusLog(services: unknown): Array<{ at: string; service: string; status: string }> {
  const at = new Date().toISOString();
  if (typeof services !== 'object' || services === null) return [];
  return Object.values(services as Record<string, { name?: unknown; status?: unknown }>).flatMap((s) =>
    typeof s?.name === 'string' && typeof s.status === 'string' ? [{ at, service: s.name, status: s.status }] : [],
  );
}

/** The file was written by a newer portmand; opening it could lose what that version stored. */
export class StateSchemaTooNewError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
    readonly supported: number = SCHEMA_VERSION,
  ) {
    super(
      `${file} has schema version ${found}, but this portmand knows only up to ${supported}: ` +
        'run a newer portmand (the file was left untouched)',
    );
    this.name = 'StateSchemaTooNewError';
  }
}

export type SnapshotRead = { kind: 'missing' } | { kind: 'ok'; snapshot: StoredSnapshot } | { kind: 'corrupt'; problem: string };

export async function readSnapshot(path: string): Promise<SnapshotRead> {
  const db = new Low<unknown>(new JSONFile<unknown>(path), null);
  try {
    await db.read();
  } catch (err) {
    if (err instanceof SyntaxError) return { kind: 'corrupt', problem: `not valid JSON (${err.message})` };
    throw err;
  }
  // lowdb also leaves `data` null for a file holding null, false or 0.
  if (db.data === null) return existsSync(path) ? { kind: 'corrupt', problem: 'no JSON object' } : { kind: 'missing' };
  const problem = envelopeProblem(db.data);
  if (problem) return { kind: 'corrupt', problem };
  const snapshot = db.data as StoredSnapshot;
  if (snapshot.schemaVersion > SCHEMA_VERSION) throw new StateSchemaTooNewError(path, snapshot.schemaVersion);
  // An older snapshot is checked against its own version's shape, so that damage is moved aside, not migrated.
  if (snapshot.schemaVersion >= 1) {
    const bad = stateProblem(snapshot.state, snapshot.schemaVersion);
    if (bad) return { kind: 'corrupt', problem: bad };
  }
  return { kind: 'ok', snapshot };
}

function envelopeProblem(data: unknown): string | null {
  if (!isObject(data)) return 'not a JSON object';
  if (!Number.isSafeInteger(data.schemaVersion) || (data.schemaVersion as number) < 0) return 'bad schemaVersion';
  if (!Number.isSafeInteger(data.seq) || (data.seq as number) < 0) return 'bad seq';
  if (!isObject(data.state)) return 'no state object';
  return null;
}

/** Checks the shape that schema `version` (1 and up) promises; records themselves are trusted. */
export function stateProblem(state: Record<string, unknown>, version = SCHEMA_VERSION): string | null {
  for (const table of ['services', 'reservations', 'conflicts'] as const) {
    if (!isObject(state[table])) return `state.${table} is not an object`;
  }
  if (!Array.isArray(state.history)) return 'state.history is not an array';
  if (version >= 2 && !Array.isArray(state.statusLog)) return 'state.statusLog is not an array';
  if (!Number.isSafeInteger(state.nextConflictId)) return 'state.nextConflictId is not an integer';
  return null;
}

/** Applies migrations from `from` up to SCHEMA_VERSION. */
export function migrate(state: Record<string, unknown>, from: number, table: MigrationTable = MIGRATIONS): Record<string, unknown> {
  let current = state;
  for (let version = from; version < SCHEMA_VERSION; version++) {
    const step = table[version];
    if (!step) throw new Error(`no migration from state schema version ${version} to ${version + 1}`);
    current = step(current);
  }
  return current;
}

/**
 * Writes and fsyncs the snapshot. It is serialised before the first await, so
 * the caller may keep mutating the state once this has been called.
 */
export async function writeSnapshot(path: string, snapshot: Snapshot): Promise<void> {
  const next = `${path}.next`;
  const db = new Low<Snapshot>(new PrivateJSONFile<Snapshot>(next), snapshot);
  await db.write();
  renameSync(next, path);
  await fsyncDir(dirname(path));
}

/**
 * lowdb's JSONFile writes through a temp file created with the umask's mode
 * (0644 as a rule); the state is as private as the journal, so this adapter
 * creates the file 0600 and makes it durable itself.
 */
class PrivateJSONFile<T> implements Adapter<T> {
  constructor(private readonly path: string) {}

  read(): Promise<T | null> {
    return new JSONFile<T>(this.path).read();
  }

  async write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2); // before any await: see writeSnapshot
    const handle = await open(this.path, 'w', PRIVATE_FILE);
    try {
      await handle.chmod(PRIVATE_FILE); // a leftover file keeps its old mode through open
      await handle.writeFile(text);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

/** Removes what an interrupted snapshot write may have left; the journal still has its ops. */
export function removeSnapshotLeftovers(path: string): void {
  const next = `${path}.next`;
  rmSync(next, { force: true });
  rmSync(join(dirname(next), `.${basename(next)}.tmp`), { force: true });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
