// The one mutable state. Mutations run one at a time (a FIFO lock, because
// choosing a port awaits a bind probe), apply their ops to memory, hand them
// to the store, and are acknowledged and announced only once durable. The
// lock is released before the disk write completes so that concurrent
// requests share one group commit.
import type { Observation } from './core/observation.ts';
import { PortIndex } from './core/portindex.ts';
import type { PortRef } from './core/portindex.ts';
import { applyOp, portKey, type EmittedEvent, type Effects, type Op, type State } from './core/state.ts';

export interface RegistryStore {
  readonly state: State;
  append(ops: Op[]): Promise<void>;
}

export interface RegistryDeps {
  store: RegistryStore;
  publish: (event: EmittedEvent) => void;
  now: () => number;
  /** Called when the store can no longer persist: the daemon must stop rather than acknowledge. */
  onFatal: (err: Error) => void;
}

/** A mutation in progress: apply effects as decisions are made; all commit together. */
export interface Tx {
  readonly state: State;
  readonly index: PortIndex;
  apply(effects: Effects): void;
  /** Replaces the listeners the index knows with a new scan's. */
  observe(listeners: readonly Observation[]): void;
  /** The ports whose holders this transaction's ops changed so far (left or taken), each once. */
  touched(): PortRef[];
}

/**
 * A check a mutation must pass inside the lock: it throws to refuse. A layer
 * that decides before the call (such as authorization) decided on the state
 * as it was then; the call may have waited behind other mutations that
 * changed it (a service deleted and created again by someone else), so the
 * decision is taken again where nothing can change under it. It is passed
 * explicitly, not through AsyncLocalStorage: on Node 20 that turns on
 * async hooks for every promise of the daemon, a cost every request paid
 * (bench: batches of registers ran about 20% slower).
 */
export type Precondition = ((state: State, index: PortIndex, now: number) => void) & {
  /** Who is acting: written as `by` on the history lines the mutation adds without one. */
  by?: string;
};
/**
 * How long queued mutations may keep the event loop before they let other
 * work in. Mutations chain on promises and the journal write is synchronous,
 * so without a break one client's batch of thousands would hold every other
 * client, the scan and even SIGTERM until its last item.
 */
const SLICE_MS = 10;

export class Registry {
  readonly state: State;
  readonly index: PortIndex;
  private tail: Promise<unknown> = Promise.resolve();
  readonly #writes: Writes;
  /** When the current stretch of mutations without a turn of the event loop began; null once the loop has turned. */
  private sliceStart: number | null = null;

  constructor(readonly deps: RegistryDeps) {
    this.state = deps.store.state;
    this.index = PortIndex.build(this.state);
    this.#writes = new Writes(deps.store);
  }

  now(): number {
    return this.deps.now();
  }

  /**
   * Runs `fn` alone, waits until what it applied (or, if nothing, what it
   * read) is durable, then publishes its events. `fn` validates and throws before its first `tx.apply`, so a
   * rejected request changes nothing. `check`, when given, runs first,
   * inside the lock.
   */
  async mutate<T>(fn: (tx: Tx) => T | Promise<T>, check?: Precondition): Promise<T> {
    const tx = new Transaction(this.state, this.index, this.#writes, check?.by);
    const go = () => {
      // What it reads may be earlier mutations' ops whose write is still to come (the store starts a write at the end of the loop's turn).
      tx.prior = this.#writes.last;
      check?.(this.state, this.index, this.now());
      return fn(tx);
    };
    // One promise step per mutation unless it must wait for a turn of the event loop.
    const run = this.tail.then(() => {
      const wait = this.turn();
      return wait ? wait.then(go) : go();
    });
    // The next mutation waits for this one's decision, not for its disk write.
    this.tail = run.catch(() => undefined);
    const result = await run;
    try {
      // A mutation that changed nothing answers from what earlier ones did (the port a service already holds):
      // not before that is durable. Writes complete in order, so the last one before it covers them all.
      const writes = tx.durable.length > 0 ? tx.durable : tx.prior ? [tx.prior] : [];
      await (writes.length === 1 ? writes[0] : Promise.all(writes));
    } catch (err) {
      this.deps.onFatal(err as Error);
      throw err;
    }
    for (const e of tx.events) this.deps.publish(e);
    return result;
  }

  /** Yields to the event loop (I/O, timers, signals) when mutations have run back to back for SLICE_MS. */
  private turn(): Promise<void> | undefined {
    const t = performance.now();
    if (this.sliceStart === null) {
      this.sliceStart = t;
      setImmediate(() => (this.sliceStart = null));
      return undefined;
    }
    if (t - this.sliceStart < SLICE_MS) return undefined;
    return new Promise((resolve) => setImmediate(resolve));
  }
}

/** The registry's way to the store: it remembers the last write, which covers every earlier one (the store writes in order). */
class Writes {
  /** Resolved once the last ops handed to the store, and every op before them, are durable. */
  last: Promise<void> | undefined;

  constructor(private readonly store: RegistryStore) {}

  append(ops: Op[]): Promise<void> {
    const p = this.store.append(ops);
    p.catch(() => undefined); // awaited by mutate; keeps Node from calling it unhandled meanwhile
    this.last = p;
    return p;
  }
}

/**
 * One mutation's Tx: what it applied, the writes it waits for, and the events
 * it announces once they are durable. A class rather than an object of
 * closures: a batch keeps one of these per queued mutation alive.
 */
class Transaction implements Tx {
  readonly events: EmittedEvent[] = [];
  readonly durable: Array<Promise<void>> = [];
  /** The last write handed to the store when this mutation began deciding: what it read is durable once that is. */
  prior: Promise<void> | undefined;
  readonly #touched = new Map<string, PortRef>();

  constructor(
    readonly state: State,
    readonly index: PortIndex,
    private readonly writes: Writes,
    /** Who acts: written as `by` on the history lines it adds without one. */
    private readonly by: string | undefined,
  ) {}

  observe(listeners: readonly Observation[]): void {
    this.index.setListeners(listeners);
  }

  touched(): PortRef[] {
    return [...this.#touched.values()];
  }

  apply(effects: Effects): void {
    // A recheck that found nothing to change is the common case: nothing to sign, persist or announce.
    if (effects.ops.length === 0 && effects.events.length === 0) return;
    const by = this.by;
    const ops = by === undefined ? effects.ops : effects.ops.map((op) => signed(op, by));
    for (const op of ops) {
      if (op.op === 'service') {
        this.#touch(this.state.services[op.name]);
        this.#touch(op.value ?? undefined);
      }
      this.index.beforeApply(this.state, op);
      applyOp(this.state, op);
    }
    // Hand the ops to the store in the same tick they change memory: a
    // compaction may snapshot memory at any moment, and must never hold
    // an op the journal does not.
    if (ops.length > 0) this.durable.push(this.writes.append(ops));
    this.events.push(...effects.events);
  }

  #touch(s: PortRef | undefined): void {
    if (s) this.#touched.set(portKey(s.protocol, s.port), { protocol: s.protocol, port: s.port });
  }
}

/** A history line says who acted: the caller, unless the op already names someone (the daemon, for its own moves). */
function signed(op: Op, by: string): Op {
  return op.op === 'history' && op.value.by === undefined ? { ...op, value: { ...op.value, by } } : op;
}
