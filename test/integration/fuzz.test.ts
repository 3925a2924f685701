// Fuzzing the real daemon over its socket: thousands of random and mutated
// lines (garbage bytes, invalid UTF-8, wrong types, huge numbers, deep
// nesting, batches of garbage, empty batches, unknown methods, mutating calls
// with broken params) on several connections at once. Every reply must be a
// well-formed JSON-RPC result or error, never -32603; the daemon must still
// answer; and what it holds (service.list, port.list, the state files) must
// be as before. The seed is printed; PORTMAND_FUZZ_SEED=N repeats a run,
// PORTMAND_FUZZ_MESSAGES=N makes it longer.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES } from '../../client/protocol.ts';
import { message, rng, type Anchors, type FuzzMessage } from './fuzz-messages.ts';
import { cleanup, startDaemon, type Daemon } from './harness.ts';

const SEED = Number(process.env.PORTMAND_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MESSAGES = Number(process.env.PORTMAND_FUZZ_MESSAGES ?? 4000);
const CONNECTIONS = 4;
console.log(`fuzz seed ${SEED} (repeat with PORTMAND_FUZZ_SEED=${SEED})`);

let d: Daemon;
beforeAll(async () => {
  // No scans after the first, and no debug records: the run is about requests, and the state must stay put.
  d = await startDaemon({ env: { PORTMAND_SCAN_INTERVAL: '3600', PORTMAND_LOG_LEVEL: 'info' } });
});
afterAll(async () => {
  await d?.stop();
  if (d) cleanup(d.dir);
});

/** Why `line` is not a well-formed reply (or an event notification), or null. */
function replyProblem(value: unknown, top = true): string | null {
  if (Array.isArray(value)) {
    if (!top) return 'a batch inside a batch reply';
    if (value.length === 0) return 'an empty batch reply';
    for (const item of value) {
      const p = replyProblem(item, false);
      if (p) return p;
    }
    return null;
  }
  if (typeof value !== 'object' || value === null) return 'not an object';
  const m = value as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if (top && typeof m.method === 'string' && !('id' in m)) return null; // an event
  if (!('id' in m) || !(m.id === null || typeof m.id === 'string' || typeof m.id === 'number')) return 'bad id';
  if ('result' in m === 'error' in m) return 'not exactly one of result and error';
  if ('error' in m) {
    const e = m.error as Record<string, unknown>;
    if (typeof e !== 'object' || e === null || !Number.isInteger(e.code) || typeof e.message !== 'string') return 'malformed error';
    if (e.code === -32603) return 'internal error (-32603)';
    if (e.code === -32602) {
      const data = e.data as Record<string, unknown> | undefined;
      if (typeof data?.field !== 'string' || typeof data.problem !== 'string') return '-32602 without data.field and data.problem';
    }
  }
  return null;
}

/** Collects the ids of the replies on one connection, failing on any malformed line. */
function fuzzConnection(socketPath: string, problems: string[]) {
  const socket = net.connect(socketPath);
  const seen = new Set<string | number | null>();
  /** Ids answered with a result, not an error. */
  const succeeded = new Set<string | number | null>();
  const waiters: Array<() => void> = [];
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        problems.push(`not JSON: ${line.slice(0, 200)}`);
        continue;
      }
      const problem = replyProblem(parsed);
      if (problem) problems.push(`${problem}: ${line.slice(0, 300)}`);
      for (const r of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ id?: string; result?: unknown }>) {
        seen.add(r.id ?? null);
        if ('result' in r) succeeded.add(r.id ?? null);
      }
      for (const w of waiters.splice(0)) w();
    }
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', (err) => problems.push(`socket error: ${err.message}`));
  return {
    socket,
    closed,
    seen,
    succeeded,
    send: (m: FuzzMessage) => socket.write(Buffer.concat([m.bytes, Buffer.from('\n')])),
    /**
     * Resolves once every id has been answered; else, when the connection
     * closes or `giveUpMs` passes, to those still unanswered (a bound for the
     * failure message, not a speed check).
     */
    async unanswered(ids: string[], giveUpMs: number): Promise<string[]> {
      let waiting = true;
      const stop = () => ((waiting = false), waiters.splice(0).forEach((w) => w()));
      void closed.then(stop);
      const timer = setTimeout(stop, giveUpMs);
      while (waiting && ids.some((id) => !seen.has(id))) await new Promise<void>((resolve) => waiters.push(resolve));
      clearTimeout(timer);
      return ids.filter((id) => !seen.has(id));
    },
  };
}

describe('fuzz', () => {
  it(`answers ${MESSAGES} random and mutated lines well-formed, never -32603, and changes nothing`, { timeout: 60_000 }, async () => {
    const pm = d.client({ sendPid: false });
    const [port, reserved] = (await pm.port.suggest({ count: 2 })).ports as [number, number];
    await pm.service.register({ name: 'fz-anchor', port, tags: ['x'] });
    await pm.port.reserve({ port: reserved, for: 'fz-db', reason: 'fuzz anchor' });
    const anchors: Anchors = { service: 'fz-anchor', port, reserved };
    const held = async () => ({
      services: await pm.service.list(),
      // The registry's own records: listeners on the host are not the daemon's to keep still.
      ports: (await pm.port.list({})).filter((p) => p.state !== 'listening').map(({ listener: _l, ...p }) => p),
      conflicts: await pm.conflict.list({}),
      snapshot: readFileSync(path.join(d.stateDir, 'state.json'), 'utf8'),
      // Time series are written by the clock, not by requests.
      journal: readFileSync(path.join(d.stateDir, 'journal.ndjson'), 'utf8')
        .split('\n')
        .filter((l) => l && !/^\{"seq":\d+,"op":"series/.test(l)),
    });
    const before = await held();

    const r = rng(SEED);
    const problems: string[] = [];
    const conns = Array.from({ length: CONNECTIONS }, () => fuzzConnection(d.socket, problems));
    const expected: string[][] = conns.map(() => []);
    const kinds = new Map<string, number>();
    const sent = new Map<string, string>();
    for (let n = 0; n < MESSAGES; n++) {
      const m = message(r, anchors, n);
      kinds.set(m.kind, (kinds.get(m.kind) ?? 0) + 1);
      const c = n % CONNECTIONS;
      conns[c]!.send(m);
      if (m.expectId) (expected[c]!.push(m.expectId), sent.set(m.expectId, `${m.kind}: ${m.bytes.toString().slice(0, 600)}`));
    }
    const missing = (await Promise.all(conns.map((c, i) => c.unanswered(expected[i]!, 40_000)))).flat();
    expect(
      missing.map((id) => sent.get(id)),
      `seed ${SEED}`,
    ).toEqual([]);
    // A mutating call with a wrong-typed field must be refused.
    const letThrough = conns
      .flatMap((c) => [...c.succeeded])
      .filter((id) => typeof id === 'string' && sent.get(id)?.startsWith('mutation'));
    expect(
      letThrough.map((id) => sent.get(id as string)),
      `seed ${SEED}`,
    ).toEqual([]);

    // A line over the cap is refused and its connection closed; the others go on.
    const long = fuzzConnection(d.socket, problems);
    long.socket.write(Buffer.alloc(MAX_LINE_BYTES + 10, 'x'));
    await long.closed;
    expect(long.seen.has(null)).toBe(true);

    for (const c of conns) c.socket.end();
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(await pm.daemon.ping()).toBe('pong');
    expect(d.proc.exitCode).toBeNull();
    expect(
      d.logs.filter((l) => (l.level as number) >= 50).map((l) => l.msg),
      `seed ${SEED}`,
    ).toEqual([]);
    expect(await held(), `seed ${SEED}`).toEqual(before);
    console.log(`fuzz: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  });
});
