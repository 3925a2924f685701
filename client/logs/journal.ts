// Reading the daemon's records from the systemd journal: journalctl for its
// unit with `-o cat` gives back the JSON lines the daemon wrote to stdout.

export interface JournalQuery {
  /** The system unit, or the user's own (systemctl --user). */
  scope: 'system' | 'user';
  /** Last N lines; null: everything (filters apply afterwards). */
  lines: number | null;
  follow: boolean;
  /** ms since the epoch */
  since?: number;
  /** Continue after this entry (from --show-cursor), so a follow after a read misses nothing. */
  afterCursor?: string;
}

export function journalArgs(q: JournalQuery): string[] {
  return [
    ...(q.scope === 'user' ? ['--user-unit', 'portmand.service'] : ['--unit', 'portmand.service']),
    '--output',
    'cat',
    '--no-pager',
    ...(q.lines === null ? [] : ['--lines', String(q.lines)]),
    // The cursor of the last entry ends the output ("-- cursor: ..."), for the follow that comes after.
    ...(q.follow ? ['--follow'] : ['--show-cursor']),
    ...(q.afterCursor === undefined ? [] : ['--after-cursor', q.afterCursor]),
    ...(q.since === undefined ? [] : ['--since', `@${Math.floor(q.since / 1000)}`]),
  ];
}

const CURSOR = /^-- cursor: (.+)$/;

/** The cursor line --show-cursor prints, or null for an ordinary line. */
export function cursorOf(line: string): string | null {
  return CURSOR.exec(line)?.[1] ?? null;
}
