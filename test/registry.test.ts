// The registry's mutation lock: its turns on the event loop (a long run of
// queued mutations, one JSON-RPC batch of thousands of registers, must let a
// ping, a SIGTERM or a scan in between), and the precondition a call's layer
// (authorization) asks each of its mutations to pass inside that lock.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerEffects } from '../daemon/core/service-effects.ts';
import { emptyState } from '../daemon/core/state.ts';
import { Registry } from '../daemon/registry.ts';
import { memoryRegistry } from './memory-registry.ts';
import { Store, type SyncMode } from '../daemon/store/store.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');

function registry() {
  const { registry: r, journal } = memoryRegistry(() => T0);
  return { r, journal };
}

const create = (name: string, uid: number) => (tx: Parameters<Parameters<Registry['mutate']>[0]>[0]) =>
  tx.apply(
    registerEffects(tx.state, { name, port: 20_000, protocol: 'tcp', host: '0.0.0.0', tags: [], origin: 'register', owner: { uid } }, T0),
  );

/** Refuses when `name` exists and belongs to someone other than `uid`. */
const ownedBy = (name: string, uid: number) => (state: ReturnType<typeof emptyState>) => {
  const s = state.services[name];
  if (s && s.owner?.uid !== uid) throw new Error(`${name} belongs to uid ${s.owner?.uid}`);
};

describe('Registry preconditions', () => {
  it('are judged inside the lock: a call decided on an older state is refused once the state changed under it', async () => {
    const { r, journal } = registry();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // uid 1 creates "web", slowly (as a bind probe would make it wait)...
    const first = r.mutate(async (tx) => {
      await gate;
      create('web', 1)(tx);
    });
    // ...while uid 2's call was allowed before: "web" did not exist yet.
    const check = ownedBy('web', 2);
    check(r.state);
    const second = r.mutate((tx) => tx.apply({ ops: [{ op: 'service', name: 'web', value: null }], events: [] }), check);
    release();
    await first;
    await expect(second).rejects.toThrow('web belongs to uid 1');
    expect(r.state.services.web?.owner).toEqual({ uid: 1 });
    expect(journal.filter((op) => op.op === 'service' && op.value === null)).toEqual([]);
  });

  it('hold only for the call that set them; the next mutation runs as usual', async () => {
    const { r } = registry();
    await expect(
      r.mutate(create('a', 1), () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    await r.mutate(create('b', 1));
    expect(Object.keys(r.state.services)).toEqual(['b']);
  });
});

/** Holds the thread for at least `ms`, as a costly mutation at scale does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('Registry: who acted', () => {
  it("writes the caller's name as `by` on the history lines a checked mutation adds, in memory and in the journal", async () => {
    const { r, journal } = registry();
    const check = Object.assign(() => undefined, { by: 'alice' });
    await r.mutate(create('web', 1000), check);
    await r.mutate(create('db', 0));
    expect(r.state.history.map((h) => [h.service, h.by])).toEqual([
      ['web', 'alice'],
      ['db', undefined],
    ]);
    expect(journal.filter((op) => op.op === 'history').map((op) => (op.op === 'history' ? op.value.by : null))).toEqual([
      'alice',
      undefined,
    ]);
  });
});

describe('Registry.mutate', () => {
  it('lets the event loop run during a long queue of mutations, keeping their order', async () => {
    const { r } = registry();
    const done: number[] = [];
    let seenByOtherWork = -1;
    const queued = Array.from({ length: 40 }, (_, i) =>
      r.mutate(() => {
        busy(5);
        done.push(i);
      }),
    );
    // Queued behind the mutations, as a ping's read or a signal would be.
    setImmediate(() => (seenByOtherWork = done.length));
    await Promise.all(queued);
    expect(done).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(seenByOtherWork).toBeGreaterThanOrEqual(0);
    expect(seenByOtherWork).toBeLessThan(40);
  });
});

describe('Registry: a mutation that changes nothing', () => {
  // port.allocate asked again for a live lease answers the port it holds without an op of its own.
  const heldPort = (tx: Parameters<Parameters<Registry['mutate']>[0]>[0]) => tx.state.services.web?.port;

  it.each<SyncMode>(['background', 'ack'])(
    "answers (sync '%s') only once the earlier ops it answers from are durable, though they share the next write",
    async (sync) => {
      const dir = mkdtempSync(join(tmpdir(), 'pm-rg-'));
      const store = await Store.open({ dir, sync });
      try {
        const r = new Registry({ store, publish: () => undefined, now: () => T0, onFatal: () => undefined });
        const first = r.mutate(create('web', 1));
        const second = r.mutate(heldPort).then((port) => ({
          port,
          inJournal: readFileSync(store.journalFile, 'utf8').includes('"name":"web"'),
          synced: sync === 'background' || store.stats.syncs > 0,
        }));
        await expect(second).resolves.toEqual({ port: 20_000, inJournal: true, synced: true });
        await first;
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('fails, and stops the daemon, when the write of the ops it answers from fails', async () => {
    let fail!: (err: Error) => void;
    const fatal: Error[] = [];
    const r = new Registry({
      store: { state: emptyState(), append: () => new Promise((_, reject) => (fail = reject)) },
      publish: () => undefined,
      now: () => T0,
      onFatal: (err) => fatal.push(err),
    });
    const first = r.mutate(create('web', 1));
    const second = r.mutate(heldPort);
    await new Promise((resolve) => setImmediate(resolve)); // both decided; the write is still out
    fail(new Error('EIO'));
    await expect(first).rejects.toThrow('EIO');
    await expect(second).rejects.toThrow('EIO');
    expect(fatal.map((e) => e.message)).toEqual(['EIO', 'EIO']);
  });
});
