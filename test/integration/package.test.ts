import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, useDaemon } from './harness.ts';

const daemon = useDaemon();

describe('the published package', () => {
  it('portmand/client imports from plain Node (compiled JS) and getPort allocates through the daemon', () => {
    const script = `
      import { PortmandClient, getPort } from 'portmand/client';
      const a = await getPort('plain-node', { socketPath: process.env.PORTMAND_SOCKET });
      const pm = new PortmandClient({ socketPath: process.env.PORTMAND_SOCKET });
      const s = await pm.service.get({ name: 'plain-node' });
      pm.close();
      console.log(JSON.stringify({ a, port: s.port, pid: s.pid }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, PORTMAND_SOCKET: daemon().socket },
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as { a: number; port: number; pid: number };
    expect(r.port).toBe(r.a);
    expect(r.pid).toBeGreaterThan(0);
  });

  it('ships type declarations for the client', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string }> };
    const types = path.join(ROOT, pkg.exports['./client']!.types);
    expect(existsSync(types)).toBe(true);
    expect(readFileSync(types, 'utf8')).toMatch(/class PortmandClient/);
  });

  it('the old path of the command (in units that `service install` wrote before it was bundled) still runs it', () => {
    const old = path.join(ROOT, 'dist/client/cli.js');
    const v = spawnSync(process.execPath, [old, '--version'], { cwd: '/', encoding: 'utf8' });
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const status = spawnSync(process.execPath, [old, 'status', '--json'], { env: { ...process.env, ...daemon().env }, encoding: 'utf8' });
    expect(status.status, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toHaveProperty('daemon');
  });

  it('the bin runs from any directory, with --version and --help', () => {
    const v = spawnSync(process.execPath, [CLI, '--version'], { cwd: '/', encoding: 'utf8' });
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const h = spawnSync(process.execPath, [CLI, '--help'], { cwd: '/', encoding: 'utf8' });
    expect(h.status).toBe(0);
    for (const verb of [
      'daemon',
      'status',
      'list',
      'allocate',
      'release',
      'check',
      'reserve',
      'suggest',
      'conflicts',
      'resolve',
      'watch',
      'ports',
    ])
      expect(h.stdout).toContain(verb);
  });
});
