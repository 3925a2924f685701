// The service units ship with the package: check they are valid for the
// tools that read them, where those tools exist on the machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

describe('systemd units', () => {
  for (const unit of ['portmand.service', 'portmand-user.service']) {
    it.skipIf(!has('systemd-analyze'))(`${unit} passes systemd-analyze verify`, () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'pmu-'));
      // verify insists that ExecStart exists: point it at this checkout's build.
      const text = readFileSync(path.join(ROOT, 'systemd', unit), 'utf8').replace('/usr/local/bin/portmand daemon', `${process.execPath} ${path.join(ROOT, 'dist/client/cli.js')} daemon`);
      const file = path.join(dir, unit);
      writeFileSync(file, text);
      const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      rmSync(dir, { recursive: true, force: true });
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    });
  }

  it('both run `portmand daemon`, and the system unit uses the contract paths', () => {
    const system = readFileSync(path.join(ROOT, 'systemd/portmand.service'), 'utf8');
    expect(system).toMatch(/^ExecStart=\S+portmand daemon$/m);
    expect(system).toContain('PORTMAND_SOCKET=/run/portmand/portmand.sock');
    expect(system).toContain('PORTMAND_STATE_DIR=/var/lib/portmand');
    expect(readFileSync(path.join(ROOT, 'systemd/portmand-user.service'), 'utf8')).toMatch(/^ExecStart=\S+portmand daemon$/m);
  });
});

describe('launchd agent', () => {
  it.skipIf(!has('python3'))('is a well-formed plist that runs `portmand daemon` and restarts it on failure', () => {
    const out = execFileSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))', path.join(ROOT, 'launchd/dev.portmand.plist')], { encoding: 'utf8' });
    const plist = JSON.parse(out) as { Label: string; ProgramArguments: string[]; KeepAlive: { SuccessfulExit: boolean } };
    expect(plist.Label).toBe('dev.portmand');
    expect(plist.ProgramArguments.slice(-1)).toEqual(['daemon']);
    expect(plist.KeepAlive.SuccessfulExit).toBe(false);
  });
});
