// kill -9 at random moments while several clients allocate at once, then a
// restart on the same state dir, round after round: every allocation the
// daemon acknowledged is there with its port, no port is assigned twice, and
// the state files parse. The moment of each kill is drawn from a seeded PRNG
// (printed; PORTMAND_CRASH_SEED=N repeats a run).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { PortmandClient } from '../../client/client.ts';
import { rng } from './fuzz-messages.ts';
import { cleanup, startDaemon, tempDir, type Daemon } from './harness.ts';

const SEED = Number(process.env.PORTMAND_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ROUNDS = 3;
const CLIENTS = 4;
/** Calls each client keeps in flight, so that some are always between journal write and reply. */
const LANES = 8;
console.log(`crash seed ${SEED} (repeat with PORTMAND_CRASH_SEED=${SEED})`);

const dirs: string[] = [];
const daemons: Daemon[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  for (const dir of dirs.splice(0)) cleanup(dir);
});

/** Allocates for new services, LANES at a time, until the daemon goes away; records what it acknowledged. */
async function allocator(pm: PortmandClient, prefix: string, acked: Map<string, number>, onAck: () => void): Promise<void> {
  await Promise.all(
    Array.from({ length: LANES }, async (_, lane) => {
      for (let i = 0; ; i++) {
        const service = `${prefix}-${lane}-${i}`;
        try {
          acked.set(service, (await pm.port.allocate({ service })).port);
        } catch {
          return; // killed: this call's outcome is unknown, and it is not counted
        }
        onAck();
      }
    }),
  );
}

/** Checks a restarted daemon against everything acknowledged so far. */
async function verify(d: Daemon, acked: Map<string, number>): Promise<void> {
  const snapshot = JSON.parse(readFileSync(path.join(d.stateDir, 'state.json'), 'utf8')) as { state: { services: object } };
  expect(snapshot.state.services).toBeTypeOf('object');
  for (const line of readFileSync(path.join(d.stateDir, 'journal.ndjson'), 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
  // A torn last line is expected after kill -9 (and dropped); a corrupt file is not.
  expect(d.logs.filter((l) => /corrupt/.test(String(l.msg))).map((l) => l.msg)).toEqual([]);

  const services = await d.client({ sendPid: false }).service.list();
  const byName = new Map(services.map((s) => [s.name, s.port]));
  const lost = [...acked].filter(([name, port]) => byName.get(name) !== port);
  expect(lost, `seed ${SEED}: acknowledged allocations missing or moved`).toEqual([]);
  const holders = new Map<string, string[]>();
  for (const s of services) {
    const key = `${s.protocol}/${s.port}`;
    holders.set(key, [...(holders.get(key) ?? []), s.name]);
  }
  expect(
    [...holders].filter(([, names]) => names.length > 1),
    `seed ${SEED}: ports assigned twice`,
  ).toEqual([]);
}

it(`${ROUNDS} rounds of kill -9 during allocations from ${CLIENTS} clients lose nothing acknowledged`, { timeout: 90_000 }, async () => {
  const dir = tempDir();
  dirs.push(dir);
  const r = rng(SEED);
  const acked = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const d = await startDaemon({ dir, env: { PORTMAND_SCAN_INTERVAL: '3600' } });
    daemons.push(d);
    await verify(d, acked);

    // The kill lands after a random number of acknowledgements in this round: mid-batch, mid-write, between them.
    const killAfter = 5 + Math.floor(r() * 150);
    let count = 0;
    let kill!: () => void;
    const due = new Promise<void>((resolve) => (kill = resolve));
    const clients = Array.from({ length: CLIENTS }, () => d.client({ sendPid: false }));
    const running = clients.map((pm, k) =>
      allocator(pm, `r${round}-c${k}`, acked, () => {
        if (++count === killAfter) kill();
      }),
    );
    await due;
    d.proc.kill('SIGKILL');
    await d.stop('SIGKILL');
    for (const pm of clients) pm.close();
    await Promise.all(running);
  }
  const last = await startDaemon({ dir, env: { PORTMAND_SCAN_INTERVAL: '3600' } });
  daemons.push(last);
  await verify(last, acked);
  expect(acked.size).toBeGreaterThan(ROUNDS * 5);
});
