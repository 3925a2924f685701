// The append-only journal: one JSON line per op, `{"seq":N,"op":...}` with the
// op's own fields inline. Reading tells a torn tail (an interrupted write that
// was never acknowledged) apart from damage in the middle of the file.
import { closeSync, fchmodSync, fdatasync, fstatSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Op } from '../core/state.ts';
import { isCode, PRIVATE_FILE } from './files.ts';

export interface JournalEntry {
  seq: number;
  op: Op;
}

export interface JournalScan {
  /** Entries before the first damaged line, in file order. */
  entries: JournalEntry[];
  /** Length of the file up to the end of the last line kept. */
  goodBytes: number;
  /** Bytes of a torn last line, 0 if none. */
  tornBytes: number;
  /** 1-based number of the first damaged line that is not the last one, or null. */
  corruptLine: number | null;
}

export function encodeEntry(seq: number, op: Op): string {
  return `${JSON.stringify({ seq, ...op })}\n`;
}

export function readJournal(path: string): JournalScan {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    if (isCode(err, 'ENOENT')) return { entries: [], goodBytes: 0, tornBytes: 0, corruptLine: null };
    throw err;
  }
  return scanJournal(bytes);
}

/**
 * Splits journal bytes into entries. The last line is torn when it has no
 * newline or does not parse; any other bad line, or a seq that does not
 * increase, is corruption.
 */
export function scanJournal(bytes: Buffer): JournalScan {
  const entries: JournalEntry[] = [];
  let start = 0;
  let lastSeq = -Infinity;
  for (let line = 1; start < bytes.length; line++) {
    const newline = bytes.indexOf(10, start);
    const end = newline === -1 ? bytes.length : newline + 1;
    const entry = newline === -1 ? null : decode(bytes.toString('utf8', start, newline));
    if (entry === null || entry.seq <= lastSeq) {
      const isLast = end === bytes.length;
      if (isLast && entry === null) return { entries, goodBytes: start, tornBytes: end - start, corruptLine: null };
      return { entries, goodBytes: start, tornBytes: 0, corruptLine: line };
    }
    entries.push(entry);
    lastSeq = entry.seq;
    start = end;
  }
  return { entries, goodBytes: start, tornBytes: 0, corruptLine: null };
}

const OP_KEYS: Record<Op['op'], string | null> = {
  service: 'name',
  reservation: 'key',
  conflict: 'id',
  history: null,
  status: null,
  nextConflictId: null,
  series: null,
  seriesPrune: null,
  health: 'name',
};

function decode(text: string): JournalEntry | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { seq, ...op } = parsed as { seq?: unknown; op?: unknown; value?: unknown };
  if (!Number.isSafeInteger(seq) || typeof op.op !== 'string' || !Object.hasOwn(OP_KEYS, op.op)) return null;
  if (!('value' in op)) return null;
  const key = OP_KEYS[op.op as Op['op']];
  if (key !== null && typeof (op as Record<string, unknown>)[key] !== 'string') return null;
  return { seq: seq as number, op: op as Op };
}

/** The open journal file. Writes go straight to the kernel; `sync` makes them durable. */
export class JournalWriter {
  private constructor(
    private readonly fd: number,
    private bytes: number,
  ) {}

  static open(path: string): JournalWriter {
    const fd = openSync(path, 'a', PRIVATE_FILE);
    fchmodSync(fd, PRIVATE_FILE); // a journal from an older portmand may be 0644
    return new JournalWriter(fd, fstatSync(fd).size);
  }

  get size(): number {
    return this.bytes;
  }

  /** Writes all of `text` or throws, cutting off whatever part of it reached the file. */
  write(text: string): void {
    const buf = Buffer.from(text, 'utf8');
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done);
    } catch (err) {
      if (done > 0) this.cutBack();
      throw err;
    }
    this.bytes += buf.length;
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Empties the journal once a snapshot holds everything in it. */
  truncate(): void {
    ftruncateSync(this.fd, 0);
    this.bytes = 0;
  }

  close(): void {
    closeSync(this.fd);
  }

  // Best effort: a partial line left behind is dropped as torn on the next load anyway.
  private cutBack(): void {
    try {
      ftruncateSync(this.fd, this.bytes);
    } catch {
      /* the load path copes with the torn tail */
    }
  }
}
