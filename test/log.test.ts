// Log output: where lines go, how a record reads on a terminal (escaped), and
// node-cron's own output routed through pino.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import cron from 'node-cron';
import { paint } from '../client/cli/format.ts';
import { escapeControl } from '../client/escape.ts';
import { formatLogRecord, parseLogLine } from '../client/log-format.ts';
import { buildConfig, ConfigError } from '../daemon/config/config.ts';
import { createLog, routeCronLogs, withAudit, type Log, type LogLevel } from '../daemon/log/log.ts';
import { logOutput } from '../daemon/log/output.ts';
import { gidFromGroupLines } from '../daemon/host/groups.ts';
import { inheritedSocketFd } from '../daemon/transport/activation.ts';

const plain = paint(false);

/** A logger writing into memory, as it writes to a pipe or terminal; the lines it wrote. */
function captured(level: LogLevel, format: 'json' | 'pretty' = 'json'): { log: Log; written: string[] } {
  const written: string[] = [];
  const { log } = createLog({
    level,
    file: null,
    output: { format, color: false, journal: false },
    stdout: { write: (t: string) => written.push(t) },
  });
  return { log, written };
}

describe('logOutput', () => {
  it.each([
    ['a terminal', {}, true, { format: 'pretty', color: true, journal: false }],
    ['a terminal with NO_COLOR', { NO_COLOR: '1' }, true, { format: 'pretty', color: false }],
    ['a terminal with TERM=dumb', { TERM: 'dumb' }, true, { format: 'pretty', color: false }],
    ['a pipe', {}, false, { format: 'json', color: false, journal: false }],
    ['the journal', { JOURNAL_STREAM: '8:12345' }, false, { format: 'json', journal: true }],
    ['a pipe, asked for pretty', { PORTMAND_LOG_FORMAT: 'pretty' }, false, { format: 'pretty', color: false }],
    ['a terminal, asked for json', { PORTMAND_LOG_FORMAT: 'json' }, true, { format: 'json', color: false }],
  ])('%s', (_, env, tty, expected) => {
    expect(logOutput(env, tty)).toMatchObject(expected);
  });
});

describe('formatLogRecord', () => {
  const time = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  it('shows time, level, message and the other fields', () => {
    expect(formatLogRecord({ level: 30, time, pid: 9, msg: 'portmand ready', services: 2, socket: '/run/x.sock' }, plain)).toBe(
      '2026-01-02T03:04:05.006Z INFO  portmand ready services=2 socket=/run/x.sock',
    );
  });

  it('marks audit records', () => {
    expect(formatLogRecord({ level: 30, time, audit: true, msg: 'service.register', ok: true }, plain)).toBe(
      '2026-01-02T03:04:05.006Z INFO  audit service.register ok=true',
    );
  });

  it('escapes control characters from every string, so a record cannot drive the terminal or fake a line', () => {
    const hostile = 'web\x1b[2J\x1b]0;owned\x07\nFATAL fake\u009b31m\u202e';
    const line = formatLogRecord({ level: 40, time, msg: hostile, params: { name: hostile }, [hostile]: hostile }, plain);
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(line).toContain('web\\u001b[2J\\u001b]0;owned\\u0007\\nFATAL fake\\u009b31m\\u202e');
    expect(line.split('\n')).toHaveLength(1);
  });

  it('prints an error stack on indented lines, each escaped', () => {
    const out = formatLogRecord(
      { level: 50, time, msg: 'boom', err: { type: 'Error', message: 'x', stack: 'Error: x\x1b[31m\n    at f (a.js:1)' } },
      plain,
    );
    expect(out.split('\n')).toEqual(['2026-01-02T03:04:05.006Z ERROR boom', '    Error: x\\u001b[31m', '        at f (a.js:1)']);
  });

  it('colours the level only when asked', () => {
    expect(formatLogRecord({ level: 50, time, msg: 'm' }, paint(true))).toContain('\x1b[31mERROR\x1b[39m');
  });

  it('shows a line that is not JSON as a message', () => {
    expect(parseLogLine('portmand: cannot start\x1b[2J')).toEqual({ msg: 'portmand: cannot start\x1b[2J' });
    expect(escapeControl('a\tb')).toBe('a\\tb');
  });
});

describe('createLog', () => {
  it('writes pretty lines to a terminal and JSON to the file', async () => {
    const { log, written } = captured('info', 'pretty');
    log.info({ port: 8080 }, 'hello');
    expect(written.join('')).toMatch(/^\S+Z INFO  hello port=8080\n$/);
  });

  it("routes node-cron's own messages through pino, not console", () => {
    const { log, written } = captured('debug');
    routeCronLogs(log);
    const task = cron.createTask('* * * * * *', () => {
      throw new Error('task failed');
    });
    return task
      .execute()
      .catch(() => undefined)
      .then(() => {
        const recs = written.map((l) => JSON.parse(l));
        expect(recs.some((r) => r.source === 'node-cron' && r.level === 50)).toBe(true);
      });
  });
});

describe('the log file', () => {
  it("is created readable by the daemon's user only: it holds audit records and restart commands' output", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pm-log-'));
    const previous = process.umask(0o022);
    try {
      const file = path.join(dir, 'sub', 'portmand.log');
      const { log } = createLog({
        level: 'info',
        file,
        output: { format: 'json', color: false, journal: false },
        stdout: { write: () => 0 },
      });
      log.info('hello');
      expect(statSync(file).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('withAudit', () => {
  const audited = (level: 'info' | 'warn') => {
    const { log, written } = captured(level);
    let asked = 0;
    const who = () => (asked++, { uid: 7 });
    const methods = withAudit(log, who, { 'service.unregister': (p: Record<string, unknown>) => ({ name: p.name }) });
    return {
      written,
      asked: () => asked,
      call: () => methods['service.unregister']!({ name: 'web', token: 'secret' }, { conn: { id: 1 } }),
    };
  };

  it('records a change at info, without the token', async () => {
    const a = audited('info');
    await expect(a.call()).resolves.toEqual({ name: 'web' });
    const rec = JSON.parse(a.written[0]!);
    expect(rec).toMatchObject({
      audit: true,
      method: 'service.unregister',
      params: { name: 'web' },
      token: true,
      caller: { uid: 7 },
      ok: true,
    });
    expect(a.asked()).toBe(1);
  });

  it('keeps a bounded copy of huge params: a caller cannot write megabytes of log per request', async () => {
    const { log, written } = captured('info');
    const methods = withAudit(log, () => ({ uid: 7 }), { 'port.allocate': () => ({ port: 1 }) });
    const exclude = Array.from({ length: 65_535 }, (_, i) => i + 1);
    const deep = JSON.parse('['.repeat(500) + ']'.repeat(500)) as unknown;
    await methods['port.allocate']!({ service: 'x'.repeat(100_000), exclude, deep }, { conn: { id: 1 } });
    expect(written[0]!.length).toBeLessThan(4_000);
    const rec = JSON.parse(written[0]!);
    expect(rec.params.exclude.slice(0, 3)).toEqual([1, 2, 3]);
    expect(rec.params.exclude.at(-1)).toBe('… (65535 entries)');
    expect(rec.params.service).toMatch(/… \(100000 chars\)$/);
  });

  it("hides a restart command's env values and cwd, as service.list does: the log is read by more than the owner", async () => {
    const { log, written } = captured('info');
    const methods = withAudit(log, () => null, { 'service.register': () => ({}) });
    const restart = { command: ['/bin/app', '--serve'], cwd: '/home/ann/secret-project', env: { API_KEY: 'hunter2' } };
    await methods['service.register']!({ name: 'web', port: 8080, restart }, { conn: { id: 1 } });
    // Malformed params are audited too (the schema check runs inside): nothing in them may throw or leak.
    await methods['service.register']!({ name: 'web', restart: { command: ['x'], env: 'API_KEY=hunter2', cwd: 7 } }, { conn: { id: 1 } });
    await methods['service.register']!({ name: 'web', restart: 'hunter2' }, { conn: { id: 1 } });
    expect(written.join('')).not.toContain('hunter2');
    expect(written.join('')).not.toContain('secret-project');
    expect(JSON.parse(written[0]!).params).toEqual({
      name: 'web',
      port: 8080,
      restart: { command: ['/bin/app', '--serve'], cwd: '***', env: { API_KEY: '***' } },
    });
  });

  it('below info builds no record: the caller is not even asked for', async () => {
    const a = audited('warn');
    expect(await a.call()).toEqual({ name: 'web' });
    expect(a.written).toEqual([]);
    expect(a.asked()).toBe(0);
  });
});

describe('config: socket', () => {
  const ctx = { platform: 'linux', uid: 0, home: '/root' };
  it('takes the group and mode of the socket', async () => {
    expect((await buildConfig({}, { path: 'c.json', json: { socket: { group: 'portmand', mode: '0660' } } }, ctx)).socket).toEqual({
      group: 'portmand',
      mode: 0o660,
    });
    expect((await buildConfig({}, null, ctx)).socket).toEqual({ group: null, mode: null });
  });
  it.each([
    [{ socket: { mode: '0777' } }, 'socket.mode'],
    [{ socket: { group: 'a b' } }, 'socket.group'],
    [{ socket: { owner: 'x' } }, 'socket.owner'],
    [{ socket: 'portmand' }, 'socket must be an object'],
  ])('refuses %j, naming %s', async (json, key) => {
    await expect(buildConfig({}, { path: 'c.json', json }, ctx)).rejects.toThrow(ConfigError);
    await expect(buildConfig({}, { path: 'c.json', json }, ctx)).rejects.toThrow(key);
  });
});

describe('socket activation variables', () => {
  it('are ours only when LISTEN_PID names this process', () => {
    expect(inheritedSocketFd({ LISTEN_FDS: '1', LISTEN_PID: '42' }, 42)).toBe(3);
    expect(inheritedSocketFd({ LISTEN_FDS: '1', LISTEN_PID: '41' }, 42)).toBeNull();
    expect(inheritedSocketFd({ LISTEN_FDS: '1' }, 42)).toBeNull();
    expect(inheritedSocketFd({ LISTEN_FDS: '0', LISTEN_PID: '42' }, 42)).toBeNull();
    expect(() => inheritedSocketFd({ LISTEN_FDS: '2', LISTEN_PID: '42' }, 42)).toThrow('exactly one');
  });
});

describe('group lookup', () => {
  it('reads group(5) lines', () => {
    expect(gidFromGroupLines('root:x:0:\nportmand:x:998:ada,bob\n', 'portmand')).toBe(998);
    expect(gidFromGroupLines('root:x:0:\n', 'portmand')).toBeNull();
  });
});
