// `portmand service` from the command line, writing under a temp root (no
// command runs there), and with a fake OS whose manager calls are recorded.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main, type Io } from '../client/cli/main.ts';
import { runService } from '../client/cli/service.ts';
import type { Context } from '../client/cli/args.ts';

function io(): { io: Io; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { out: (t) => out.push(t), err: (t) => err.push(t), color: false, env: {}, now: () => 0, untilStopped: async () => undefined },
  };
}

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('portmand service', () => {
  it('install --root writes the units, runs nothing, prints the next command; re-running is safe; uninstall removes them', async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'pmi-'));
    const a = io();
    expect(await main(['service', 'install', '--system', '--root', root], a.io)).toBe(0);
    const unit = path.join(root, 'etc/systemd/system/portmand.service');
    const text = readFileSync(unit, 'utf8');
    expect(text).toContain(`ExecStart=${process.execPath} `);
    expect(text).toContain('/dist/bin/portmand.js daemon');
    expect(a.out.join('\n')).toContain('not run (--root): systemctl daemon-reload');
    expect(a.out.join('\n')).toContain('systemctl enable --now portmand.socket');
    expect(await main(['service', 'install', '--system', '--root', root], io().io)).toBe(0);
    expect(readFileSync(unit, 'utf8')).toBe(text);
    expect(await main(['service', 'uninstall', '--system', '--root', root], io().io)).toBe(0);
    expect(existsSync(unit)).toBe(false);
    expect(existsSync(path.join(root, 'etc/systemd/system/portmand.socket'))).toBe(false);
  });

  it('--print writes nothing and shows the files; --json gives the plan', async () => {
    const a = io();
    expect(await main(['service', 'install', '--user', '--print'], a.io)).toBe(0);
    expect(a.out.join('\n')).toMatch(/^# .*\/systemd\/user\/portmand.socket$/m);
    const b = io();
    expect(await main(['service', 'install', '--system', '--print', '--json', '--socket-group', 'devs'], b.io)).toBe(0);
    expect(JSON.parse(b.out.join('\n'))).toMatchObject({ manager: 'systemd', scope: 'system', group: { name: 'devs' } });
  });

  it('refuses a bad action or contradicting scopes as usage errors', async () => {
    expect(await main(['service', 'reinstall'], io().io)).toBe(2);
    expect(await main(['service', 'install', '--user', '--system', '--print'], io().io)).toBe(2);
  });

  it('status asks launchctl on a fake macOS, escapes what it says, and exits 1 when it fails', async () => {
    root = '';
    const ran: string[][] = [];
    const a = io();
    const ctx: Context = {
      io: a.io,
      json: false,
      socketPath: '',
      timeoutMs: 0,
      values: {},
      positionals: ['status'],
      client: () => {
        throw new Error('no client');
      },
    };
    const host = { platform: 'darwin', uid: 501, home: '/Users/ada', node: '/n', cli: '/c' };
    const code = await runService(
      ctx,
      host,
      async (argv) => (ran.push(argv), { code: 113, output: 'Could not find service "dev.portmand" in domain for user gui: 501\x1b[2J' }),
    );
    expect(code).toBe(1);
    expect(ran).toEqual([['launchctl', 'print', 'gui/501/dev.portmand']]);
    expect(a.out.join('')).toContain('\\u001b[2J');
  });
});
