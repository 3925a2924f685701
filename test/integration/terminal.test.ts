// Issue 11 item 1: text that other users control (a reservation reason, who
// resolved a conflict, a health check's error, a listener's process name) must
// never reach the terminal raw. Through the real CLI against the real daemon.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import type { PortmandClient } from '../../client/client.ts';
import { LIMITS, type ResolveParams } from '../../client/protocol.ts';
import { CLI, cleanup, useDaemon } from './harness.ts';

const daemon = useDaemon({ env: { PORTMAND_HEALTH_INTERVAL: '3600' } });
// The CLI runs in-process (the same main() and its escaping backstop) except where the terminal or the pipe matters.
const CLEAR = '\x1b[2J';
// Any raw control character but newline (escaped text such as "\u001b" is fine).
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const closers: Array<() => void> = [];
afterAll(() => closers.splice(0).forEach((c) => c()));

const pm = (): PortmandClient => daemon().client({ sendPid: false });

describe('port.reserve reason', () => {
  it('refuses control characters with -32602 on reason, and `ports` prints nothing raw', async () => {
    const r = await daemon().cliInProcess(['reserve', '24100', '--reason', `nightly${CLEAR}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reason:? must not contain control characters/);
    expect(r.stderr).not.toMatch(RAW);
    for (const reason of [`a\tb`, 'x\x9b2J', 'x\x7f', 'x'.repeat(LIMITS.reasonChars + 1)]) {
      await expect(pm().port.reserve({ port: 24100, reason })).rejects.toMatchObject({ code: -32602, data: { field: 'reason' } });
    }
    expect((await pm().port.get({ port: 24100 })).state).toBe('free');

    expect((await daemon().cliInProcess(['reserve', '24101', '--reason', 'kept for the nightly job'])).code).toBe(0);
    const ports = await daemon().cliInProcess(['ports', '--state', 'reserved']);
    expect(ports.stdout).toContain('kept for the nightly job');
    expect(ports.stdout).not.toMatch(RAW);
  });
});

describe('conflict.resolve by', () => {
  it('is the caller as the daemon knows it, never a name the client sends; `conflicts --all` prints who', async () => {
    await pm().service.register({ name: 'by-a', port: 24110 });
    const { conflicts } = await pm().service.register({ name: 'by-b', port: 24110 });
    const id = conflicts?.[0]?.id;
    expect(id).toBeDefined();
    for (const by of [`op${CLEAR}`, 'alice smith', 'x\u202e', '-rf', 'a'.repeat(LIMITS.userNameChars + 1), '']) {
      const params = { conflictId: id, strategy: 'auto', by } as ResolveParams;
      await expect(pm().conflict.resolve(params)).rejects.toMatchObject({ code: -32602, data: { field: 'by' } });
    }
    expect((await pm().conflict.list({ open: true })).map((c) => c.id)).toContain(id);

    await expect(pm().conflict.resolve({ conflictId: id, strategy: 'auto', by: 'alice' } as ResolveParams)).rejects.toMatchObject({
      code: -32602,
      data: { field: 'by' },
    });
    await pm().conflict.resolve({ conflictId: id, strategy: 'auto' });
    const all = await daemon().cliInProcess(['conflicts', '--all']);
    expect(all.code).toBe(0);
    // Every caller of a daemon on a private socket is the daemon's own user.
    expect(all.stdout).toMatch(new RegExp(`${id}.*by ${os.userInfo().username}`));
    expect(all.stdout).not.toMatch(RAW);
  });
});

describe('health check errors', () => {
  it('a URL with control characters is refused; credentials never reach `health` or `watch`', async () => {
    const bad = await daemon().cliInProcess(['register', 'h-esc', '--port', '24120', '--health-url', `http://x:${CLEAR}@127.0.0.1:1/`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/url:? must not contain control characters/);
    expect(bad.stderr).not.toMatch(RAW);

    const watch = spawn(process.execPath, [CLI, 'watch', '--types', 'service_health'], {
      env: { ...process.env, ...daemon().env, NO_COLOR: '1' },
    });
    closers.push(() => watch.kill());
    const lines = createInterface({ input: watch.stdout });
    const watching = new Promise((resolve) => watch.stderr.once('data', resolve));
    const event = new Promise<string>((resolve) => lines.on('line', (l) => l.includes('h-cred') && resolve(l)));
    await watching;
    // Registered after watch started: its first check runs at once, and the change to unhealthy is an event.
    expect(
      (await daemon().cliInProcess(['register', 'h-cred', '--port', '24121', '--health-url', 'http://user:s3cret@127.0.0.1:1/'])).code,
    ).toBe(0);

    // Two failed checks make it unhealthy (failuresBeforeUnhealthy); the first --check may join the scheduled one.
    await daemon().cliInProcess(['health', 'h-cred', '--check']);
    const checked = await daemon().cliInProcess(['health', 'h-cred', '--check']);
    expect(checked.stdout).toMatch(/h-cred\s+unhealthy/);
    expect(checked.stdout).toContain('ECONNREFUSED');
    const line = await event;
    expect(line).toContain('ECONNREFUSED');
    const latest = await daemon().cliInProcess(['health', '--json']);
    for (const text of [checked.stdout, line, latest.stdout]) {
      expect(text).not.toContain('s3cret');
      expect(text).not.toMatch(RAW);
    }
  });
});

describe('a listener whose process name holds an escape sequence', () => {
  it('is printed escaped by `ports` and `check`', async (ctx) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pm-'));
    closers.push(() => cleanup(dir));
    // /proc/<pid>/comm is the basename of what was exec'd: a symlink to node names the process.
    const exe = path.join(dir, `pm${CLEAR}x`);
    symlinkSync(process.execPath, exe);
    const child = spawn(exe, ['-e', "const s = require('net').createServer().listen(0, '127.0.0.1', () => console.log(s.address().port))"]);
    closers.push(() => child.kill());
    const port = await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      createInterface({ input: child.stdout }).once('line', (l) => resolve(Number(l)));
    });
    await pm().conflict.detect(); // a scan now
    const info = await pm().port.get({ port });
    if (info.listener?.process === undefined) {
      console.log(`skipped: this host's scanner does not report process names (listener on ${port}: ${JSON.stringify(info.listener)})`);
      ctx.skip();
    }
    expect(info.listener?.process).toBe(`pm${CLEAR}x`); // the daemon reports it as it is; printing is the CLI's job

    const ports = await daemon().cliInProcess(['ports', '--state', 'listening']);
    expect(ports.stdout).toContain('pm\\u001b[2Jx');
    const check = await daemon().cliInProcess(['check', String(port)]);
    expect(check.stdout).toContain('pm\\u001b[2Jx');
    for (const text of [ports.stdout, check.stdout]) expect(text).not.toMatch(RAW);
    const json = await daemon().cliInProcess(['ports', '--state', 'listening', '--json']);
    expect(json.stdout).not.toMatch(RAW);
    expect(
      (JSON.parse(json.stdout) as Array<{ port: number; listener?: { process?: string } }>).find((p) => p.port === port)?.listener?.process,
    ).toBe(`pm${CLEAR}x`);
  });
});

describe('on a terminal', () => {
  it('the ports table fits the terminal width', async (ctx) => {
    if (spawnSync('script', ['--version']).error) {
      console.log('skipped: no `script` command to run the CLI in a pseudo-terminal');
      ctx.skip();
    }
    await pm().port.reserve({ port: 24130, for: 'reporting', reason: 'kept for the reporting database that runs every night at three' });
    const env = { ...process.env, ...daemon().env, NO_COLOR: '1' };
    const command = `stty cols 60; ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} ports --state reserved`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8' });
    const lines = r.stdout.split(/\r?\n/).filter(Boolean);
    expect(lines.join('\n')).toMatch(/24130\s+tcp\s+reserved/);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(lines.join('\n')).toContain('…');
    // Piped, nothing is cut.
    expect((await daemon().cli(['ports', '--state', 'reserved'])).stdout).toContain('runs every night at three');
  });
});

describe('stats', () => {
  it('gives no exhaustion date from seconds of history, and says so', async () => {
    await pm().port.allocate({ service: 'st-fc' });
    const r = await daemon().cliInProcess(['stats']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/FULL BY: no forecast until there is 1d of allocation history \(\d+s so far\)/);
    expect(r.stdout).not.toMatch(/\d{4}-\d\d-\d\d/);
  });
});
