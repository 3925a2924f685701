// Rebuilds the state from disk: snapshot, then the journal's later ops, then
// migrations. Damage is never papered over: a torn tail is cut off, anything
// else is moved aside and named in a warning.
import { truncateSync } from 'node:fs';
import { applyOp, emptyState, SCHEMA_VERSION, withPlainTables, type Op, type State } from '../core/state.ts';
import { moveAside } from './files.ts';
import { readJournal } from './journal.ts';
import { migrate, readSnapshot, removeSnapshotLeftovers, stateProblem, type MigrationTable } from './snapshot.ts';

export interface Loaded {
  state: State;
  /** The highest seq seen in the snapshot or the journal. */
  lastSeq: number;
  /** Lines left in the journal file. */
  journalOps: number;
  warnings: string[];
  /** True when memory differs from the files as they now are: save a snapshot before going on. */
  mustCompact: boolean;
}

export interface LoadLog {
  warn(msg: string): void;
  error(msg: string): void;
}

export async function loadState(stateFile: string, journalFile: string, migrations: MigrationTable, log: LoadLog): Promise<Loaded> {
  const warnings: string[] = [];
  const warn = (msg: string, level: 'warn' | 'error'): void => {
    warnings.push(msg);
    log[level](msg);
  };
  removeSnapshotLeftovers(stateFile);

  let base: Record<string, unknown> = emptyState() as unknown as Record<string, unknown>;
  let version = SCHEMA_VERSION;
  let snapSeq = 0;
  let mustCompact = false;
  const read = await readSnapshot(stateFile);
  if (read.kind === 'ok') {
    ({ state: base, schemaVersion: version, seq: snapSeq } = read.snapshot);
  } else if (read.kind === 'missing') {
    mustCompact = true; // a new state dir gets its state.json at once
  } else if (read.kind === 'corrupt') {
    const aside = moveAside(stateFile);
    warn(
      `state file ${stateFile} is corrupt (${read.problem}): moved it to ${aside}; ` +
        'starting from the journal alone, services saved only in that file are missing',
      'error',
    );
    mustCompact = true;
  }

  const scan = readJournal(journalFile);
  let journalOps = scan.entries.length;
  if (scan.corruptLine !== null) {
    const aside = moveAside(journalFile);
    warn(
      `journal ${journalFile} is corrupt at line ${scan.corruptLine}: moved it to ${aside}; ` +
        `kept the ${scan.entries.length} ops before that line, later ones are only in that file`,
      'error',
    );
    journalOps = 0;
    mustCompact = true;
  } else if (scan.tornBytes > 0) {
    truncateSync(journalFile, scan.goodBytes);
    warn(
      `journal ${journalFile}: dropped a torn last line (${scan.tornBytes} bytes) from an interrupted write ` +
        'that was never acknowledged',
      'warn',
    );
  }

  let lastSeq = snapSeq;
  if (version === SCHEMA_VERSION) withPlainTables(base as unknown as State);
  for (const { seq, op } of scan.entries) {
    if (seq > snapSeq) applyOp(base as unknown as State, op as Op);
    lastSeq = Math.max(lastSeq, seq);
  }
  // Journal ops are table writes, valid in the schema they were written in, so
  // they are replayed before migrating the whole state.
  if (version < SCHEMA_VERSION) {
    base = migrate(base, version, migrations);
    const bad = stateProblem(base);
    if (bad) throw new Error(`${stateFile}: migration from schema ${version} produced a bad state: ${bad}`);
    mustCompact = true;
  }
  return { state: withPlainTables(base as unknown as State), lastSeq, journalOps, warnings, mustCompact };
}
