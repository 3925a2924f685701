// `portmand logs` parts: filters, the journalctl command line, and the file
// reader (last lines, following across rotation and truncation).
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { followFile, lastLines } from '../client/logs/file-reader.ts';
import { levelNumber, matches, parseSince } from '../client/logs/filter.ts';
import { cursorOf, journalArgs } from '../client/logs/journal.ts';
import { CLI } from './integration/harness.ts';

describe('filters', () => {
  const rec = { level: 40, time: 1_000, msg: 'service.register', audit: true, params: { name: 'web' } };
  it.each([
    [{}, true],
    [{ minLevel: 40 }, true],
    [{ minLevel: 50 }, false],
    [{ since: 1_000 }, true],
    [{ since: 1_001 }, false],
    [{ service: 'web' }, true],
    [{ service: 'api' }, false],
    [{ audit: true }, true],
  ])('%j -> %s', (filter, expected) => {
    expect(matches(rec, filter)).toBe(expected);
  });
  it('audit keeps audit records only; service also matches a plain `service` field', () => {
    expect(matches({ level: 30, msg: 'x' }, { audit: true })).toBe(false);
    expect(matches({ level: 30, service: 'web' }, { service: 'web' })).toBe(true);
  });
  it('reads levels and times', () => {
    expect(levelNumber('WARN')).toBe(40);
    expect(levelNumber('loud')).toBeNull();
    expect(parseSince('10m', 3_600_000)).toBe(3_000_000);
    expect(parseSince('2026-01-02T03:04:05Z', 0)).toBe(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(parseSince('yesterday', 0)).toBeNull();
  });
});

describe('journalctl arguments', () => {
  it('system unit, last N, with the cursor for a follow; then the follow after it', () => {
    expect(journalArgs({ scope: 'system', lines: 5, follow: false, since: 90_500 })).toEqual([
      '--unit',
      'portmand.service',
      '--output',
      'cat',
      '--no-pager',
      '--lines',
      '5',
      '--show-cursor',
      '--since',
      '@90',
    ]);
    expect(journalArgs({ scope: 'user', lines: null, follow: true, afterCursor: 's=1;i=2' })).toEqual([
      '--user-unit',
      'portmand.service',
      '--output',
      'cat',
      '--no-pager',
      '--follow',
      '--after-cursor',
      's=1;i=2',
    ]);
    expect(cursorOf('-- cursor: s=1;i=2')).toBe('s=1;i=2');
    expect(cursorOf('{"msg":"x"}')).toBeNull();
  });
});

// The compiled CLI with a stand-in `journalctl` first on PATH (a shell script
// printing what journalctl -o cat would, then exiting with `code`).
function logsFromJournal(script: string): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmj-'));
  try {
    writeFileSync(path.join(dir, 'journalctl'), `#!/bin/sh\n${script}\n`);
    chmodSync(path.join(dir, 'journalctl'), 0o755);
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? '/usr/bin:/bin'}`, NO_COLOR: '1', PORTMAND_LOG_FILE: '' };
    return spawnSync(process.execPath, [CLI, 'logs', '--journal', '-n', '5'], { encoding: 'utf8', env });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('logs from the journal', () => {
  it('pretty-prints the JSON records journalctl gives back, escaped', () => {
    const r = logsFromJournal(`printf '%s\\n' '{"level":40,"time":0,"msg":"x\\u001b[2Jy"}' '-- cursor: s=1'`);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1970-01-01T00:00:00.000Z WARN  x\\u001b[2Jy\n');
    expect(r.status).toBe(0);
  });

  it('says what failed when journalctl fails without a word (no journal here), and points at --file', () => {
    const r = logsFromJournal('exit 1');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/journalctl .*exited 1/);
    expect(r.stderr).toContain('--file');
  });
});

describe('the log file reader', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const file = () => path.join(dir, 'pm.log');

  it('returns the last N lines that match, across chunk boundaries', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pml-'));
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    writeFileSync(file(), `${lines.join('\n')}\n`);
    const fh = await open(file(), 'r');
    const r = await lastLines(fh, 3, (l) => l.startsWith('line 4'));
    expect(r.lines.map((l) => l.split(' ')[1])).toEqual(['4997', '4998', '4999']);
    expect((await lastLines(fh, 2, () => true)).lines).toEqual(lines.slice(-2));
    await fh.close();
  });

  it('keeps a line longer than its read size whole', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pml-'));
    const long = 'y'.repeat(200 * 1024);
    writeFileSync(file(), `a\n${long}\nb\n`);
    const fh = await open(file(), 'r');
    expect((await lastLines(fh, 3, () => true)).lines).toEqual(['a', long, 'b']);
    await fh.close();
  });

  it('follows appends, a rotation (rename + new file) and a truncation, until stopped', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'pml-'));
    writeFileSync(file(), 'old\n');
    const seen: string[] = [];
    const waiters: Array<[string, () => void]> = [];
    const saw = (line: string) => new Promise<void>((resolve) => (seen.includes(line) ? resolve() : waiters.push([line, resolve])));
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const done = followFile(
      file(),
      await open(file(), 'r'),
      (line) => {
        seen.push(line);
        for (const [l, resolve] of waiters) if (l === line) resolve();
      },
      { from: 4, pollMs: 10, stopped },
    );
    appendFileSync(file(), 'one\ntw');
    appendFileSync(file(), 'o\n');
    await saw('two');
    renameSync(file(), `${file()}.1`);
    appendFileSync(`${file()}.1`, 'late in the old file\n');
    writeFileSync(file(), 'first in the new file\n');
    await saw('first in the new file');
    truncateSync(file(), 0);
    appendFileSync(file(), 'after truncation\n');
    await saw('after truncation');
    stop();
    await done;
    expect(seen).toEqual(['one', 'two', 'late in the old file', 'first in the new file', 'after truncation']);
  });
});
