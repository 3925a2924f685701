// The CLI: parsing and usage errors, help for every verb, exit codes (a few
// as a real child process), and the text formatting on plain data.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommandLine, UsageError } from '../client/cli/args.ts';
import { main, VERBS, type Io } from '../client/cli/main.ts';
import { renderCheck, renderConflicts, renderEvent, renderPorts, renderServices, renderStatus } from '../client/cli/render.ts';
import {
  escapeControl,
  escapeStrings,
  fitWidths,
  formatAge,
  formatDuration,
  paint,
  shouldColor,
  table,
  terminalText,
} from '../client/cli/format.ts';
import { renderStats, type AllStats } from '../client/cli/stats.ts';
import { LIMITS, type Conflict, type DaemonStatus, type PortInfo, type Service } from '../client/protocol.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const NOW = Date.parse('2025-01-01T12:00:00Z');
let counter = 0;
const socketPath = () => path.join(os.tmpdir(), `pmcli-${process.pid}-${counter++}.sock`);
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function fakeIo(): { io: Io; out: string[]; err: string[]; stop(): void; printed: Promise<void> } {
  const out: string[] = [];
  const err: string[] = [];
  let stop = () => {};
  let printed = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const io: Io = {
    out: (t) => (out.push(t), printed()),
    err: (t) => err.push(t),
    color: false,
    env: {},
    now: () => NOW,
    untilStopped: () => stopped,
  };
  return { io, out, err, stop, printed: new Promise((resolve) => (printed = resolve)) };
}

type Answer = { result: unknown } | { error: { code: number; message: string; data?: object } };

/** A JSON-RPC peer that answers each request from a function; it may also push to the socket. */
async function startPeer(answer: (method: string, params: Record<string, unknown>, socket: net.Socket) => Answer): Promise<string> {
  const file = socketPath();
  const server = net.createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffer.slice(0, i));
        buffer = buffer.slice(i + 1);
        socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: msg.id, ...answer(msg.method, msg.params, socket) })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return file;
}

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // The built command, as users run it.
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/bin/portmand.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('parsing', () => {
  it.each([
    [['frob'], /unknown command "frob"/],
    [['allocate'], /missing <service>/],
    [['allocate', 'web', '--bogus'], /--bogus/],
    [['list', 'extra'], /unexpected argument "extra"/],
    [['status', '--socket'], /--socket/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommandLine(argv, VERBS)).toThrow(UsageError);
    expect(() => parseCommandLine(argv, VERBS)).toThrow(message);
  });

  it('takes --timeout before the verb without mistaking its value for the verb', () => {
    expect(parseCommandLine(['--timeout', '5', 'status'], VERBS)).toMatchObject({ kind: 'verb', values: { timeout: '5' } });
  });

  it('takes global options before or after the verb', () => {
    const a = parseCommandLine(['--socket', '/s', '--json', 'allocate', 'web', '--ttl', '60'], VERBS);
    const b = parseCommandLine(['allocate', 'web', '--ttl', '60', '--json', '--socket=/s'], VERBS);
    for (const line of [a, b]) {
      expect(line).toMatchObject({ kind: 'verb', positionals: ['web'], values: { socket: '/s', json: true, ttl: '60' } });
      expect(line.kind === 'verb' && line.verb.name).toBe('allocate');
    }
  });

  // A bad value must exit 2 before any connection is tried (which would exit 3).
  it.each([
    [['allocate', 'web', '--ttl', 'x'], '--ttl', 'allocate'],
    [['allocate', 'web', '--preferred', '65536'], '--preferred', 'allocate'],
    [['register', 'web', '--port', 'abc'], '--port', 'register'],
    [['register', 'web', '--health-url', 'localhost:3000'], '--health-url', 'register'],
    [['check', '0'], '<port>', 'check'],
    [['release', '3000', '--protocol', 'sctp'], '--protocol', 'release'],
    [['suggest', '--count', '-1'], '--count', 'suggest'],
    [['ports', '--state', 'busy'], '--state', 'ports'],
    [['list', '--status', 'fine'], '--status', 'list'],
    [['resolve', 'web'], '--strategy', 'resolve'],
    [['resolve', 'web', '--strategy', 'manual'], '--port', 'resolve'],
    [['resolve', 'web', '--strategy', 'swap'], '--with', 'resolve'],
    [['resolve', '--strategy', 'auto'], '--conflict', 'resolve'],
    [['watch', '--types', 'port_assigned,nope'], '--types', 'watch'],
    [['status', '--timeout', 'soon'], '--timeout', 'status'],
    [['status', '--timeout', '-1'], '--timeout', 'status'],
  ])('exits 2 on %j, naming %s and the verb help', async (argv, flag, verb) => {
    const { io, err } = fakeIo();
    expect(await main([...argv, '--socket', socketPath()], io)).toBe(2);
    expect(err.join('\n')).toContain(flag);
    expect(err.join('\n')).toContain(`portmand ${verb} --help`);
  });
});

describe('help', () => {
  it.each(VERBS.map((v) => [v.name, v] as const))('%s --help lists its usage and every option', async (name, verb) => {
    for (const flag of ['--help', '-h']) {
      const { io, out } = fakeIo();
      expect(await main([name, flag], io)).toBe(0);
      const text = out.join('\n');
      expect(text).toMatch(new RegExp(`^Usage: portmand ${name}\\b`));
      for (const option of [...Object.keys(verb.options), 'socket', 'json']) expect(text).toContain(`--${option}`);
    }
  });

  it('portmand --help lists every verb and documents the exit codes', async () => {
    const { io, out } = fakeIo();
    expect(await main(['--help'], io)).toBe(0);
    const text = out.join('\n');
    for (const v of VERBS) expect(text).toContain(`  ${v.name}`);
    expect(text).toMatch(/Exit codes:[\s\S]*0 [\s\S]*1 [\s\S]*2 [\s\S]*3 /);
  });
});

describe('exit codes against a peer', () => {
  it('exits 1 on a daemon error, with the field and problem on stderr', async () => {
    const data = { field: 'port', problem: 'must be 1..65535' };
    const file = await startPeer(() => ({ error: { code: -32602, message: 'invalid params', data } }));
    const { io, out, err } = fakeIo();
    expect(await main(['reserve', '80', '--socket', file], io)).toBe(1);
    expect(out).toEqual([]);
    expect(err.join('\n')).toContain('port: must be 1..65535');
  });

  it('exits 1 with --json and prints the error object on stdout', async () => {
    const data = { port: 80, reason: 'reserved', heldBy: { reservedFor: 'web' } };
    const file = await startPeer(() => ({ error: { code: -32002, message: 'port 80 is unavailable: reserved', data } }));
    const { io, out } = fakeIo();
    expect(await main(['allocate', 'api', '--preferred', '80', '--json', '--socket', file], io)).toBe(1);
    expect(JSON.parse(out.join(''))).toEqual({
      error: { kind: 'daemon', code: -32002, message: 'port 80 is unavailable: reserved', data },
    });
  });

  it('check exits 0 for a port in use and says who holds it; --json prints the raw result', async () => {
    const result = { port: 3000, available: false, reason: 'listening', heldBy: { pid: 7, process: 'node' } };
    const file = await startPeer(() => ({ result }));
    const human = fakeIo();
    expect(await main(['check', '3000', '--socket', file], human.io)).toBe(0);
    expect(human.out.join('\n')).toBe('3000/tcp is not available: listened on by pid 7 (node)');
    const machine = fakeIo();
    expect(await main(['check', '3000', '--json', '--socket', file], machine.io)).toBe(0);
    expect(JSON.parse(machine.out.join(''))).toEqual(result);
  });

  it('allocate sends no pid (the CLI is not the owner) and prints only the port', async () => {
    let params: Record<string, unknown> = {};
    const file = await startPeer((_m, p) => ((params = p), { result: { port: 41234, service: 'web' } }));
    const { io, out } = fakeIo();
    expect(await main(['allocate', 'web', '--range', 'dev', '--socket', file], io)).toBe(0);
    expect(out).toEqual(['41234']);
    expect(params).toEqual({ service: 'web', range: 'dev' });
  });

  it('watch --json prints each event as one NDJSON line until stopped', async () => {
    const ev = { type: 'port_assigned', seq: 9, time: '2025-01-01T12:00:00.000Z', data: { service: 'web', port: 3001 } };
    const file = await startPeer((method, params, socket) => {
      if (method !== 'events.subscribe') return { error: { code: -32601, message: 'no' } };
      setImmediate(() => socket.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'event', params: ev })}\n`));
      return { result: { subscribed: params.types } };
    });
    const { io, out, stop, printed } = fakeIo();
    const exit = main(['watch', '--json', '--types', 'port_assigned', '--socket', file], io);
    await printed;
    stop();
    expect(await exit).toBe(0);
    expect(out.map((l) => JSON.parse(l))).toEqual([ev]);
  });
});

/** A fake daemon: answers events.subscribe, leaves every other call unanswered, and can vanish. */
async function silentPeer(): Promise<{ file: string; vanish(): Promise<void> }> {
  const file = socketPath();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffer.slice(0, i)) as { id: number; method: string; params: { types?: string[] } };
        buffer = buffer.slice(i + 1);
        if (msg.method === 'events.subscribe')
          socket.write(`${JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { subscribed: msg.params.types ?? [], seq: 1 } })}\n`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  let gone = false;
  const vanish = async () => {
    if (gone) return;
    gone = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  cleanups.push(vanish);
  return { file, vanish };
}

describe('a daemon that does not answer', () => {
  it('watch exits 3 when a ping gets no answer within --timeout', async () => {
    const { file } = await silentPeer();
    const { io, err } = fakeIo();
    expect(await main(['watch', '--types', 'port_assigned', '--timeout', '0.2', '--socket', file], io)).toBe(3);
    expect(err.at(-1)).toContain(`the portmand daemon at ${file} did not answer daemon.ping within 0.2 s`);
  });

  it('watch exits 3 when the daemon is gone for --timeout, after saying it lost it', async () => {
    const peer = await silentPeer();
    const { io, err } = fakeIo();
    const exit = main(['watch', '--types', 'port_assigned', '--timeout', '0.3', '--socket', peer.file], io);
    await vi.waitUntil(() => err.some((l) => l.includes('watching')));
    await peer.vanish();
    expect(await exit).toBe(3);
    expect(err.join('\n')).toContain('lost the daemon');
    expect(err.at(-1)).toContain(`the daemon at ${peer.file} has been gone for 0.3 s`);
  });
});

describe('as a process', () => {
  it('exits 3 with what to do when the daemon accepts but never answers (--timeout)', async () => {
    const { file } = await silentPeer();
    const r = await runCli(['status', '--timeout', '0.5'], { PORTMAND_SOCKET: file });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`the portmand daemon at ${file} did not answer daemon.status within 0.5 s`);
    expect(r.stderr).toContain('--timeout');
  });

  it('exits 3 naming the socket and how to start the daemon when none listens', async () => {
    const file = socketPath();
    const r = await runCli(['status'], { PORTMAND_SOCKET: file });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain('portmand daemon');
    expect(r.stderr).toContain('npm start');
  });

  it('exits 2 on an unknown verb with a hint to run --help', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
    expect(r.stderr).toContain('portmand --help');
  });

  it('prints the package version, and the file starts with a node shebang', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    expect(readFileSync(path.join(ROOT, 'client/cli.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });
});

describe('formatting', () => {
  it('pads table columns to the widest cell, right-aligning where asked, ignoring colour codes', () => {
    const red = paint(true).red;
    expect(
      table(
        ['NAME', 'PORT'],
        [
          ['web', '80'],
          [red('database'), '5432'],
        ],
        ['left', 'right'],
      ),
    ).toBe(['NAME      PORT', 'web         80', `${red('database')}  5432`].join('\n'));
  });

  it.each([
    [0, '0s'],
    [42, '42s'],
    [60, '1m'],
    [61, '1m 1s'],
    [3_600 + 5 * 60 + 9, '1h 5m'],
    [3_600 + 9, '1h'],
    [3 * 86_400 + 4 * 3_600 + 59, '3d 4h'],
  ])('formatDuration(%d) = %s', (sec, text) => {
    expect(formatDuration(sec)).toBe(text);
  });

  it('says how long ago, or "-" for never', () => {
    expect(formatAge('2025-01-01T11:55:00Z', NOW)).toBe('5m ago');
    expect(formatAge('2025-01-01T12:00:30Z', NOW)).toBe('in 30s');
    expect(formatAge(null, NOW)).toBe('-');
  });

  it.each([
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { NO_COLOR: '' }, true],
    [false, {}, false],
    [undefined, {}, false],
  ])('colours when isTTY=%s and env=%j: %s', (isTTY, env, expected) => {
    expect(shouldColor({ isTTY }, env)).toBe(expected);
  });

  const service = (name: string, port: number, over: Partial<Service> = {}): Service => ({
    name,
    port,
    protocol: 'tcp',
    host: '0.0.0.0',
    status: 'healthy',
    tags: [],
    registeredAt: '',
    updatedAt: '',
    ...over,
  });

  it('shows the daemon and its services in status, coloured only when asked', () => {
    const status: DaemonStatus = {
      version: '0.1.0',
      pid: 4242,
      uptimeSec: 3_725,
      socket: '/run/user/1000/portmand/portmand.sock',
      stateFile: '/var/lib/portmand/state.json',
      services: 2,
      openConflicts: 1,
      lastScan: { at: '2025-01-01T11:59:50Z', durationMs: 12, listeners: 30 },
    };
    const services = [
      service('web', 3000, { pid: 11, tags: ['dev', 'ui'] }),
      service('api', 8080, { status: 'unhealthy', protocol: 'udp' }),
    ];
    const text = renderStatus(status, services, NOW, paint(false));
    expect(text).not.toContain('\x1b[');
    for (const s of ['0.1.0', 'pid 4242', '1h 2m', status.socket, status.stateFile, '10s ago (12 ms, 30 listeners)', '1 open'])
      expect(text).toContain(s);
    expect(text.split('\n').slice(-3)).toEqual([
      'NAME  PORT  PROTO  STATUS     PID  TAGS',
      'api   8080  udp    unhealthy  -    -',
      'web   3000  tcp    healthy    11   dev,ui',
    ]);
    expect(renderStatus(status, services, NOW, paint(true))).toContain('\x1b[31munhealthy');
  });

  it('says so when there is nothing to list', () => {
    expect(renderServices([], paint(false))).toBe('no services registered');
    expect(renderConflicts([], NOW, paint(false), false)).toBe('no open conflicts');
  });

  it('renders a port check, a conflict history and an event line', () => {
    expect(renderCheck({ port: 53, available: true }, 'udp', paint(false))).toBe('53/udp is available');
    const conflict: Conflict = {
      id: 'c7',
      port: 3000,
      protocol: 'tcp',
      type: 'foreign_listener',
      severity: 'critical',
      services: ['web'],
      listener: { pid: 99, process: 'python3', address: '0.0.0.0:3000' },
      detectedAt: '2025-01-01T11:00:00Z',
      resolvedAt: '2025-01-01T11:30:00Z',
      resolution: { strategy: 'auto', from: 3000, to: 3001, by: 'cli' },
    };
    const history = renderConflicts([conflict], NOW, paint(false), true);
    expect(history).toContain('pid 99 (python3) on 0.0.0.0:3000');
    expect(history).toContain('auto 3000->3001 by cli, 30m ago');
    const line = renderEvent(
      { type: 'port_assigned', seq: 3, time: new Date(NOW).toISOString(), data: { service: 'web', port: 3001, previous: 3000 } },
      paint(false),
    );
    expect(line).toMatch(/^\d\d:\d\d:\d\d {2}port_assigned {9}web -> 3001 \(was 3000\)$/);
  });
});

// Issue 6 §6: the command line itself.
describe('help and strict options', () => {
  it('portmand with no arguments prints the help and exits 0', async () => {
    const { io, out, err } = fakeIo();
    expect(await main([], io)).toBe(0);
    expect(out.join('\n')).toMatch(/^portmand: [\s\S]*Usage: portmand <command>[\s\S]*Commands:/);
    expect(err).toEqual([]);
  });

  it('portmand help [verb] prints the global or the verb help; an unknown verb is a usage error', async () => {
    const global = fakeIo();
    expect(await main(['help'], global.io)).toBe(0);
    expect(global.out.join('\n')).toContain('Commands:');
    const verb = fakeIo();
    expect(await main(['help', 'check'], verb.io)).toBe(0);
    expect(verb.out.join('\n')).toMatch(/^Usage: portmand check <port>[\s\S]*--quiet/);
    const bad = fakeIo();
    expect(await main(['help', 'frob'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toContain('unknown command "frob"');
  });

  // `status --version` used to run status and ignore the flag.
  it.each(VERBS.flatMap((v) => [[v.name, '--version'] as const, [v.name, '--bogus'] as const]))(
    '%s %s exits 2 naming the flag',
    async (name, flag) => {
      const { io, out, err } = fakeIo();
      expect(await main([name, flag, '--socket', socketPath()], io)).toBe(2);
      expect(out).toEqual([]);
      expect(err.join('\n')).toContain(flag);
      expect(err.join('\n')).toContain(`portmand ${name} --help`);
    },
  );

  it('the daemon verb documents every environment variable the daemon reads', () => {
    const config = readFileSync(path.join(ROOT, 'daemon/config/config.ts'), 'utf8');
    const read = new Set(config.match(/PORTMAND_[A-Z_]+/g));
    const documented = VERBS.find((v) => v.name === 'daemon')!.details!;
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) expect(documented).toContain(name);
  });
});

// One argument line per verb that needs no more than a peer answering with an error.
const SAMPLE: Record<string, string[]> = {
  status: ['status'],
  list: ['list'],
  register: ['register', 'web'],
  unregister: ['unregister', 'web'],
  allocate: ['allocate', 'web'],
  release: ['release', '3000'],
  check: ['check', '3000'],
  reserve: ['reserve', '3000'],
  suggest: ['suggest'],
  ports: ['ports'],
  conflicts: ['conflicts'],
  detect: ['detect'],
  'set-port': ['set-port', 'web', '3000'],
  resolve: ['resolve', 'web', '--strategy', 'auto'],
  health: ['health'],
  stats: ['stats'],
  watch: ['watch'],
  show: ['show', 'web'],
  history: ['history'],
  top: ['top'],
  metrics: ['metrics'],
  config: ['config'],
  whoami: ['whoami'],
  token: ['token', 'rotate', 'web'],
  run: ['run', 'web', 'true'],
  restart: ['restart', 'web'],
  api: ['api'],
};

// Verbs that never talk to the daemon: they run it, install it, read its log or print a script.
const LOCAL_VERBS = ['daemon', 'service', 'logs', 'completion'];

describe('every verb', () => {
  it('that talks to the daemon has a sample line here', () => {
    expect(Object.keys(SAMPLE).sort()).toEqual(
      VERBS.map((v) => v.name)
        .filter((n) => !LOCAL_VERBS.includes(n))
        .sort(),
    );
  });

  it.each(Object.entries(SAMPLE))('%s: a daemon error exits 1; with --json it is a JSON error object on stdout', async (_, argv) => {
    const file = await startPeer(() => ({ error: { code: -32001, message: 'not found', data: { name: 'web' } } }));
    const human = fakeIo();
    expect(await main([...argv, '--socket', file], human.io)).toBe(1);
    expect(human.err.join('\n')).toContain('not found');
    const machine = fakeIo();
    expect(await main([...argv, '--json', '--socket', file], machine.io)).toBe(1);
    expect(JSON.parse(machine.out.join('\n'))).toMatchObject({ error: { kind: 'daemon', code: -32001 } });
  });

  it.each(Object.entries(SAMPLE))('%s: no daemon exits 3; with --json a JSON error says so', async (_, argv) => {
    const { io, out } = fakeIo();
    expect(await main([...argv, '--json', '--socket', socketPath()], io)).toBe(3);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ error: { kind: 'unreachable' } });
  });
});

describe('check -q', () => {
  it.each([
    [false, ['-q'], 1],
    [true, ['-q'], 0],
    [false, ['--quiet'], 1],
    [false, [], 0],
  ])('available=%s with %j exits %d', async (available, flags, code) => {
    const file = await startPeer(() => ({
      result: { port: 3000, available, ...(!available && { reason: 'listening', heldBy: { pid: 7 } }) },
    }));
    const { io, out } = fakeIo();
    expect(await main(['check', '3000', ...flags, '--socket', file], io)).toBe(code);
    expect(out.length).toBe(flags.length ? 0 : 1);
  });
});

describe('register', () => {
  it('prints a critical conflict as critical, a warning as a warning', async () => {
    const conflict = (id: string, severity: Conflict['severity'], type: Conflict['type']): Conflict => ({
      id,
      port: 3000,
      protocol: 'tcp',
      type,
      severity,
      services: ['web'],
      listener: { pid: 9, process: 'python3', address: '0.0.0.0:3000' },
      detectedAt: '2025-01-01T12:00:00Z',
      resolvedAt: null,
      resolution: null,
    });
    const result = { ...svc('web', 3000), conflicts: [conflict('c1', 'critical', 'foreign_listener'), conflict('c2', 'warning', 'drift')] };
    const file = await startPeer(() => ({ result }));
    const { io, out } = fakeIo();
    expect(await main(['register', 'web', '--port', '3000', '--socket', file], io)).toBe(0);
    const [, critical, warning] = out.join('\n').split('\n');
    expect(critical).toMatch(/^critical: foreign_listener on 3000\/tcp with web and pid 9 \(python3\) on 0\.0\.0\.0:3000 \(conflict c1\)$/);
    expect(warning).toMatch(/^warning: drift on 3000\/tcp/);
  });
});

// Issue 11 item 13: one set of limits for the CLI and the daemon.
describe('limits', () => {
  it('suggest --count past the daemon maximum is refused by the CLI with the daemon numbers', async () => {
    const { io, err } = fakeIo();
    expect(await main(['suggest', '--count', String(LIMITS.suggestCount + 1), '--socket', socketPath()], io)).toBe(2);
    expect(err.join('\n')).toContain(`--count must be a whole number from 1 to ${LIMITS.suggestCount}`);
    expect(LIMITS.suggestCount).toBe(100);
  });

  it('reserve --reason past the length limit is refused before connecting', async () => {
    const { io, err } = fakeIo();
    expect(await main(['reserve', '3000', '--reason', 'x'.repeat(LIMITS.reasonChars + 1), '--socket', socketPath()], io)).toBe(2);
    expect(err.join('\n')).toContain('--reason');
  });
});

function svc(name: string, port: number, over: Partial<Service> = {}): Service {
  return { name, port, protocol: 'tcp', host: '0.0.0.0', status: 'healthy', tags: [], registeredAt: '', updatedAt: '', ...over };
}

const ESC_CLEAR = '\x1b[2J';
// A raw control character of any kind (the escaped form "\u001b" is text and fine).
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

// Issue 11 item 1: text other users control must not act on the terminal.
describe('terminal safety', () => {
  it('escapes C0, C1, DEL and bidi controls, showing tabs as \\t', () => {
    expect(escapeControl(`a\tb\nc${ESC_CLEAR}\x7f\x9b\u202eend`)).toBe('a\\tb\\nc\\u001b[2J\\u007f\\u009b\\u202eend');
    expect(escapeControl('plain text, ünïcödé')).toBe('plain text, ünïcödé');
    expect(escapeStrings({ [`k${ESC_CLEAR}`]: [`v${ESC_CLEAR}`, 1, null] })).toEqual({ 'k\\u001b[2J': ['v\\u001b[2J', 1, null] });
  });

  it('terminalText keeps newlines and the CLI own colours, and only when colouring', () => {
    const p = paint(true);
    const text = `${p.red('bad')}\n${ESC_CLEAR}\x1b[8mhidden\x1b]0;title\x07`;
    expect(terminalText(text, true)).toBe(`${p.red('bad')}\n\\u001b[2J\\u001b[8mhidden\\u001b]0;title\\u0007`);
    expect(terminalText(text, false)).not.toMatch(RAW_CONTROL);
  });

  it('JSON text keeps its value, with DEL and C1 written as \\u escapes', () => {
    const value = { reason: `x${ESC_CLEAR}\x9b31m\x7f\u2028` };
    const text = terminalText(JSON.stringify(value, null, 2), true);
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
  });

  const hostile = `evil${ESC_CLEAR}\x9b2J\x1b]0;pwned\x07`;
  const port = (over: Partial<PortInfo>): PortInfo => ({ port: 3000, protocol: 'tcp', state: 'reserved', ...over });
  const cases: Array<[string, string[], (method: string) => unknown]> = [
    [
      'ports: a reservation reason and a process name',
      ['ports'],
      () => [
        port({ reason: hostile }),
        port({ port: 3001, state: 'listening', listener: { pid: 5, process: hostile, address: '0.0.0.0:3001' } }),
      ],
    ],
    [
      'conflicts --all: who resolved it',
      ['conflicts', '--all'],
      () => [
        {
          id: 'c1',
          port: 3000,
          protocol: 'tcp',
          type: 'drift',
          severity: 'info',
          services: ['web'],
          detectedAt: '2025-01-01T11:00:00Z',
          resolvedAt: '2025-01-01T11:30:00Z',
          resolution: { strategy: 'auto', from: 3000, to: 3001, by: hostile },
          outcome: 'resolved',
        },
      ],
    ],
    [
      'health: a check error',
      ['health'],
      () => [{ service: 'web', status: 'unhealthy', latencyMs: null, checkedAt: '2025-01-01T11:59:00Z', error: hostile }],
    ],
    [
      'check: a process name',
      ['check', '3000'],
      () => ({ port: 3000, available: false, reason: 'listening', heldBy: { pid: 5, process: hostile } }),
    ],
    [
      'status: a service process',
      ['status'],
      (m) =>
        m === 'daemon.status'
          ? { version: '1', pid: 1, uptimeSec: 1, socket: hostile, stateFile: 's', services: 1, openConflicts: 0, lastScan: null }
          : [svc('web', 3000, { tags: [hostile] })],
    ],
  ];

  it.each(cases)('%s: no raw control character is printed, and --json keeps the exact value', async (_, argv, answer) => {
    const file = await startPeer((method) => ({ result: answer(method) }));
    for (const color of [false, true]) {
      const { io, out } = fakeIo();
      io.color = color;
      expect(await main([...argv, '--socket', file], io)).toBe(0);
      const text = out.join('\n');
      expect(text.replace(/\x1b\[(?:1|2|22|31|32|33|36|39)m/g, '')).not.toMatch(RAW_CONTROL);
      expect(text).toContain('evil\\u001b[2J\\u009b2J\\u001b]0;pwned\\u0007');
    }
    const machine = fakeIo();
    expect(await main([...argv, '--json', '--socket', file], machine.io)).toBe(0);
    const json = machine.out.join('\n');
    expect(json).not.toMatch(RAW_CONTROL);
    expect(json).toContain('\\u001b[2J');
  });

  it('a daemon error message that repeats hostile input is escaped too', async () => {
    const file = await startPeer(() => ({ error: { code: -32001, message: `service "${hostile}" not found`, data: { name: hostile } } }));
    const { io, err } = fakeIo();
    expect(await main(['unregister', 'x', '--socket', file], io)).toBe(1);
    expect(err.join('\n')).not.toMatch(RAW_CONTROL);
    expect(err.join('\n')).toContain('evil\\u001b[2J');
  });

  it('watch prints an event with a hostile health error escaped', async () => {
    const ev = {
      type: 'service_health',
      seq: 1,
      time: '2025-01-01T12:00:00.000Z',
      data: { service: 'web', status: 'unhealthy', previous: 'healthy', error: hostile },
    };
    const file = await startPeer((method, _params, socket) => {
      setImmediate(() => socket.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'event', params: ev })}\n`));
      return method === 'events.subscribe' ? { result: { subscribed: ['service_health'] } } : { error: { code: -32601, message: 'no' } };
    });
    const { io, out, stop, printed } = fakeIo();
    const exit = main(['watch', '--socket', file], io);
    await printed;
    stop();
    expect(await exit).toBe(0);
    expect(out.join('\n')).not.toMatch(RAW_CONTROL);
    expect(out.join('\n')).toContain('(evil\\u001b[2J');
  });
});

describe('fitting tables to the terminal', () => {
  it('narrows the widest columns until the table fits, keeping header widths', () => {
    expect(fitWidths([5, 40, 30], ['PORT', 'PROCESS', 'NOTE'], 50)).toEqual([5, 20, 21]);
    expect(fitWidths([5, 10], ['PORT', 'NAME'], 80)).toEqual([5, 10]);
    // It cannot go below the floors: the table runs over rather than become unreadable.
    expect(fitWidths([5, 40], ['PORT', 'PROCESS'], 3)).toEqual([5, 7]);
  });

  it('cuts cells that do not fit with an ellipsis; no line is wider than the terminal', () => {
    const ports: PortInfo[] = [
      {
        port: 3000,
        protocol: 'tcp',
        state: 'listening',
        listener: { pid: 123456, process: 'a-very-long-process-name-indeed', address: '[::ffff:127.0.0.1]:3000' },
      },
      {
        port: 3001,
        protocol: 'tcp',
        state: 'reserved',
        reservedFor: 'database',
        reason: 'kept for the reporting database that runs at night',
      },
    ];
    const wide = renderPorts(ports, NOW, paint(false));
    expect(Math.max(...wide.split('\n').map((l) => l.length))).toBeGreaterThan(90);
    for (const columns of [90, 80, 60]) {
      const lines = renderPorts(ports, NOW, paint(false, columns)).split('\n');
      expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(columns);
      expect(lines.join('\n')).toContain('…');
      expect(lines[0]).toMatch(/^PORT {2}PROTO {2}STATE/);
    }
    expect(table(['A', 'B'], [['x', 'y']], [], 80)).toBe('A  B\nx  y');
  });
});

describe('stats forecast wording', () => {
  const stats = (historySec: number, exhaustsAt: string | null): AllStats => ({
    ports: {
      ranges: [
        {
          name: 'dev',
          start: 3000,
          end: 3999,
          size: 1000,
          assigned: 1,
          reserved: 0,
          listening: 0,
          free: 999,
          utilisation: 0.001,
          trendPerDay: 1 / 7,
          exhaustsAt,
          historySec,
        },
      ],
    },
    services: { byStatus: {}, services: [] },
    conflicts: { open: 0, resolved: 0, vanished: 0, byType: {}, bySeverity: {}, meanTimeToResolveSec: null, topPorts: [] },
  });

  it('says there is no forecast yet, and why, when the history is short', () => {
    const text = renderStats(stats(30, null), paint(false));
    expect(text).toMatch(/dev .* -$/m);
    expect(text).toContain('FULL BY: no forecast until there is 1d of allocation history (30s so far)');
  });

  it('prints the date once the daemon gives one', () => {
    const text = renderStats(stats(3 * 86_400, '2025-03-01T00:00:00.000Z'), paint(false));
    expect(text).toContain('2025-03-01');
    expect(text).not.toContain('no forecast');
  });
});
