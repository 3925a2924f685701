// `portmand service install`: the files it writes for each OS (a fake host,
// real templates), checked by the tools that read them where they exist here.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { planInstall, planUninstall, statusCommand, systemdQuote, xmlEscape, type Host, type Templates } from '../client/service/plan.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const templates: Templates = (name) => readFileSync(path.join(ROOT, name), 'utf8');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const needs = (cmd: string) => {
  if (has(cmd)) return false;
  console.warn(`skipped: needs ${cmd}`);
  return true;
};

// This checkout's paths, as `service install` would write them here: verify insists that ExecStart exists.
const linux: Host = { platform: 'linux', uid: 0, home: '/root', node: process.execPath, cli: path.join(ROOT, 'dist/bin/portmand.js') };
const linuxUser: Host = { ...linux, uid: 1000, home: '/home/ada' };
const mac: Host = {
  platform: 'darwin',
  uid: 0,
  home: '/var/root',
  node: '/opt/homebrew/bin/node',
  cli: '/opt/homebrew/lib/node_modules/portmand/dist/bin/portmand.js',
};
const macUser: Host = { ...mac, uid: 501, home: '/Users/ada & co' };

function verify(files: Array<{ path: string; text: string }>): { status: number | null; stderr: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmu-'));
  try {
    const paths = files.map((f) => {
      const p = path.join(dir, path.basename(f.path));
      writeFileSync(p, f.text);
      return p;
    });
    return spawnSync('systemd-analyze', ['verify', ...paths], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('systemd (Linux)', () => {
  const system = planInstall(linux, 'system', undefined, templates);
  const user = planInstall(linuxUser, 'user', undefined, templates);

  it("system: a socket and a service in /etc/systemd/system with this installation's paths", () => {
    expect(system.files.map((f) => f.path)).toEqual(['/etc/systemd/system/portmand.socket', '/etc/systemd/system/portmand.service']);
    const [socket, service] = system.files.map((f) => f.text) as [string, string];
    expect(socket).toMatch(/^ListenStream=\/run\/portmand\/portmand.sock$/m);
    expect(socket).toMatch(/^SocketMode=0660$/m);
    expect(socket).toMatch(/^SocketGroup=portmand$/m);
    expect(service).toContain(`ExecStart=${process.execPath} ${path.join(ROOT, 'dist/bin/portmand.js')} daemon`);
    expect(service).not.toContain('/usr/local/bin');
    expect(service).toMatch(/^RestartPreventExitStatus=78$/m);
    expect(service).toMatch(/^Requires=portmand.socket$/m);
    expect(system.group).toEqual({
      name: 'portmand',
      exists: ['getent', 'group', 'portmand'],
      create: ['groupadd', '--system', 'portmand'],
    });
    expect(system.reload).toEqual([['systemctl', 'daemon-reload']]);
    expect(system.next[0]).toBe('systemctl enable --now portmand.socket');
  });

  it('--socket-group names the group the socket is given to', () => {
    const p = planInstall(linux, 'system', 'devs', templates);
    expect(p.files[0]?.text).toMatch(/^SocketGroup=devs$/m);
    expect(p.group?.create).toEqual(['groupadd', '--system', 'devs']);
    expect(() => planInstall(linux, 'user', 'devs', templates)).toThrow('--system');
    expect(() => planInstall(linux, 'system', 'a;b', templates)).toThrow('group name');
  });

  it('user: the pair in ~/.config/systemd/user (or $XDG_CONFIG_HOME), socket in the runtime dir, 0600', () => {
    expect(user.files.map((f) => f.path)).toEqual([
      '/home/ada/.config/systemd/user/portmand.socket',
      '/home/ada/.config/systemd/user/portmand.service',
    ]);
    expect(user.files[0]?.text).toMatch(/^ListenStream=%t\/portmand\/portmand.sock$/m);
    expect(user.files[0]?.text).toMatch(/^SocketMode=0600$/m);
    expect(user.group).toBeNull();
    expect(user.next).toEqual(['systemctl --user enable --now portmand.socket']);
    expect(planInstall({ ...linuxUser, xdgConfigHome: '/cfg' }, 'user', undefined, templates).files[0]?.path).toBe(
      '/cfg/systemd/user/portmand.socket',
    );
  });

  it("quotes paths for ExecStart: blanks, quotes, % and $ survive systemd's parsing", () => {
    expect(systemdQuote('/usr/bin/node')).toBe('/usr/bin/node');
    expect(systemdQuote('/opt/my apps/50%/$x/"q"\\')).toBe('"/opt/my apps/50%%/$$x/\\"q\\"\\\\"');
    expect(() => systemdQuote('/a\nb')).toThrow('line break');
  });

  for (const [name, plan] of [
    ['system', system],
    ['user', user],
  ] as const) {
    it.skipIf(needs('systemd-analyze'))(`${name} units pass systemd-analyze verify`, () => {
      const r = verify(plan.files);
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it.skipIf(needs('systemd-analyze'))('a path with blanks still verifies', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pm dir-'));
    try {
      const cli = path.join(dir, 'cli.js');
      writeFileSync(cli, '');
      const r = verify(planInstall({ ...linux, cli }, 'system', undefined, templates).files);
      expect(r.stderr.trim()).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(needs('systemd-analyze'))('the system service is hardened: systemd-analyze security exposure at most 3.0', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pmu-'));
    try {
      for (const f of system.files) writeFileSync(path.join(dir, path.basename(f.path)), f.text);
      const r = spawnSync('systemd-analyze', ['security', '--offline=true', path.join(dir, 'portmand.service')], { encoding: 'utf8' });
      if (/offline/.test(r.stderr) && r.status !== 0) {
        console.warn(`skipped: this systemd-analyze cannot rate a unit offline: ${r.stderr.trim()}`);
        return;
      }
      const m = /Overall exposure level for portmand.service: ([\d.]+)/.exec(r.stdout);
      expect(m, r.stdout + r.stderr).not.toBeNull();
      expect(Number(m![1])).toBeLessThanOrEqual(3.0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uninstall removes the same files after stopping both units; status asks systemctl', () => {
    expect(planUninstall(linux, 'system')).toEqual({
      files: system.files.map((f) => f.path),
      stop: [['systemctl', 'disable', '--now', 'portmand.socket', 'portmand.service']],
      reload: [['systemctl', 'daemon-reload']],
    });
    expect(statusCommand(linuxUser, 'user')).toEqual([
      'systemctl',
      '--user',
      'status',
      '--no-pager',
      'portmand.socket',
      'portmand.service',
    ]);
  });
});

function parsePlist(text: string): Record<string, unknown> {
  const out = execFileSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
    input: text,
    encoding: 'utf8',
  });
  return JSON.parse(out) as Record<string, unknown>;
}

describe('launchd (macOS)', () => {
  const system = planInstall(mac, 'system', undefined, templates);
  const user = planInstall(macUser, 'user', undefined, templates);

  it('system: a LaunchDaemon with the system paths', () => {
    expect(system.files.map((f) => f.path)).toEqual(['/Library/LaunchDaemons/dev.portmand.plist']);
    expect(system.dirs).toEqual(['/Library/Logs/portmand']);
    expect(system.group?.name).toBe('staff');
    expect(system.next).toEqual([
      'launchctl bootout system/dev.portmand 2>/dev/null; launchctl bootstrap system /Library/LaunchDaemons/dev.portmand.plist',
    ]);
  });

  it('user: a LaunchAgent in ~/Library/LaunchAgents', () => {
    expect(user.files.map((f) => f.path)).toEqual(['/Users/ada & co/Library/LaunchAgents/dev.portmand.plist']);
    expect(user.next[0]).toBe(
      "launchctl bootout gui/501/dev.portmand 2>/dev/null; launchctl bootstrap gui/501 '/Users/ada & co/Library/LaunchAgents/dev.portmand.plist'",
    );
    expect(xmlEscape('a&<b>"\'')).toBe('a&#38;&#60;b&#62;&#34;&#39;');
  });

  it.skipIf(needs('python3'))('the plists parse (plistlib), run this node and CLI, and restart only after a failure', () => {
    const sys = parsePlist(system.files[0]!.text) as {
      Label: string;
      ProgramArguments: string[];
      KeepAlive: { SuccessfulExit: boolean };
      EnvironmentVariables: Record<string, string>;
      StandardErrorPath: string;
    };
    expect(sys.Label).toBe('dev.portmand');
    expect(sys.ProgramArguments).toEqual([mac.node, mac.cli, 'daemon']);
    expect(sys.KeepAlive).toEqual({ SuccessfulExit: false });
    expect(sys.EnvironmentVariables).toMatchObject({
      PORTMAND_SOCKET: '/var/run/portmand/portmand.sock',
      PORTMAND_STATE_DIR: '/Library/Application Support/portmand',
      PORTMAND_SOCKET_GROUP: 'staff',
    });
    const usr = parsePlist(user.files[0]!.text) as typeof sys;
    expect(usr.KeepAlive).toEqual({ SuccessfulExit: false });
    // The home directory with an ampersand arrives intact: the XML was escaped.
    expect(usr.EnvironmentVariables).toMatchObject({
      PORTMAND_SOCKET: '/Users/ada & co/Library/Application Support/portmand/portmand.sock',
      PORTMAND_STATE_DIR: '/Users/ada & co/Library/Application Support/portmand',
      PORTMAND_LOG_FILE: '/Users/ada & co/Library/Logs/portmand/portmand.log',
    });
    expect(usr.StandardErrorPath).toBe('/Users/ada & co/Library/Logs/portmand/portmand.err.log');
  });

  it('uninstall boots it out of its domain first', () => {
    expect(planUninstall(macUser, 'user').stop).toEqual([['launchctl', 'bootout', 'gui/501/dev.portmand']]);
    expect(statusCommand(mac, 'system')).toEqual(['launchctl', 'print', 'system/dev.portmand']);
  });
});

describe('the shipped templates', () => {
  it('leave no placeholder unfilled and are in the package', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toEqual(expect.arrayContaining(['systemd', 'launchd']));
    for (const f of [...planInstall(linux, 'system', undefined, templates).files, ...planInstall(mac, 'user', undefined, templates).files])
      expect(f.text).not.toMatch(/@[A-Z]+@/);
  });

  it('the logrotate example names the file the unit can write', () => {
    const text = readFileSync(path.join(ROOT, 'systemd/portmand.logrotate'), 'utf8');
    expect(text).toContain('/var/log/portmand/portmand.log');
    expect(readFileSync(path.join(ROOT, 'systemd/portmand.service'), 'utf8')).toMatch(/^LogsDirectory=portmand$/m);
    expect(existsSync(path.join(ROOT, 'systemd/portmand.logrotate'))).toBe(true);
  });
});
