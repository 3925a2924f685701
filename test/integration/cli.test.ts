import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanup, CLI, runCli, runCliInProcess, tempDir, useDaemon } from './harness.ts';

const daemon = useDaemon();
// cli() runs the built CLI as a process, for exit codes and the environment; cliInProcess() runs the same code here, faster.

describe('portmand CLI against a running daemon', () => {
  it('stops quietly when its reader goes away (`portmand api | head`): exit 0, no stack trace', async () => {
    // head exits after 10 bytes, while the CLI still has most of the document to write.
    const script = 'set -o pipefail; "$0" "$1" api | head -c 10 >/dev/null';
    const child = spawn('bash', ['-c', script, process.execPath, CLI], {
      env: { ...process.env, ...daemon().env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('status shows the daemon and a table of services', async () => {
    await daemon()
      .client()
      .service.register({ name: 'cli-web', port: 18500, tags: ['frontend'] });
    const r = await daemon().cli(['status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(daemon().socket);
    expect(r.stdout).toMatch(/pid\s+\d+/i);
    expect(r.stdout).toMatch(/cli-web\s+18500\s+tcp/);
  });

  it('status --json prints the daemon status and services as JSON', async () => {
    const r = await daemon().cliInProcess(['status', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { daemon: { socket: string; pid: number }; services: Array<{ name: string }> };
    expect(out.daemon.socket).toBe(daemon().socket);
    expect(out.daemon.pid).toBe(daemon().proc.pid);
    expect(out.services.map((s) => s.name)).toContain('cli-web');
  });

  it('allocate, check, reserve, suggest and release work end to end', async () => {
    const a = await daemon().cliInProcess(['allocate', 'cli-job', '--json']);
    expect(a.code).toBe(0);
    const { port } = JSON.parse(a.stdout) as { port: number };
    const plain = await daemon().cliInProcess(['allocate', 'cli-job']);
    expect(plain.stdout.trim()).toContain(String(port));

    const c = await daemon().cliInProcess(['check', String(port), '--json']);
    expect(JSON.parse(c.stdout)).toMatchObject({ port, available: false, heldBy: { service: 'cli-job' } });

    const res = await daemon().cliInProcess(['reserve', '18600', '--for', 'postgres', '--reason', 'db', '--json']);
    expect(JSON.parse(res.stdout)).toMatchObject({ port: 18600, state: 'reserved', reservedFor: 'postgres' });

    const s = await daemon().cliInProcess(['suggest', '--count', '2', '--range', '18600-18610', '--json']);
    expect(JSON.parse(s.stdout)).toEqual({ ports: [18601, 18602] });

    const rel = await daemon().cliInProcess(['release', String(port), '--json']);
    expect(JSON.parse(rel.stdout)).toEqual({ port, released: true, unregistered: ['cli-job'] });
    expect((await daemon().cliInProcess(['release', String(port)])).stdout).toContain('nothing released');
    const list = await daemon().cliInProcess(['list', '--json']);
    expect((JSON.parse(list.stdout) as Array<{ name: string }>).map((x) => x.name)).not.toContain('cli-job');
  });

  it('ports lists assigned, reserved and listening ports with their process', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const port = (server.address() as net.AddressInfo).port;
    await daemon().client().conflict.detect();
    const r = await daemon().cliInProcess(['ports', '--json']);
    const ports = JSON.parse(r.stdout) as Array<{ port: number; state: string; listener?: { pid?: number } }>;
    expect(ports.find((p) => p.port === port)).toMatchObject({ state: 'listening', listener: { pid: process.pid } });
    expect(ports.find((p) => p.port === 18600)).toMatchObject({ state: 'reserved' });
    expect(ports.find((p) => p.port === 18500)).toMatchObject({ state: 'assigned' });
    server.close();
  });

  it('a daemon error exits 1 with the field and problem; --json prints the error object', async () => {
    const r = await daemon().cli(['allocate', 'Bad Name']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('service');
    const j = await daemon().cliInProcess(['allocate', 'x', '--range', 'nope', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: -32602, data: { field: 'range' } } });
  });

  it('usage errors exit 2 and point at --help', async () => {
    const r = await daemon().cli(['allocate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--help/);
    const unknown = await daemon().cliInProcess(['frobnicate']);
    expect(unknown.code).toBe(2);
  });
});

describe('portmand CLI without a daemon', () => {
  it('exits 3 and names the socket path and how to start the daemon', async () => {
    const dir = tempDir();
    const socket = path.join(dir, 'none.sock');
    for (const verb of ['status', 'list', 'allocate x', 'check 80']) {
      // One real process for the exit code; the rest run the same code in-process.
      const run = verb === 'status' ? runCli : runCliInProcess;
      const r = await run([...verb.split(' '), '--socket', socket], {});
      expect(r.code, verb).toBe(3);
      expect(r.stderr).toContain(socket);
      expect(r.stderr).toMatch(/portmand daemon|npm start/);
    }
    const j = await runCliInProcess(['status', '--json', '--socket', socket], {});
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { kind: 'unreachable', socket } });
    cleanup(dir);
  });

  it('the same message comes from PORTMAND_SOCKET', async () => {
    const dir = tempDir();
    const socket = path.join(dir, 'env.sock');
    const r = await runCli(['status'], { PORTMAND_SOCKET: socket });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(socket);
    cleanup(dir);
  });
});
