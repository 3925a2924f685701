// The one mutable state. Mutations run one at a time (a FIFO lock, because
// choosing a port awaits a bind probe), apply their ops to memory, hand them
// to the store, and are acknowledged and announced only once durable. The
// lock is released before the disk write completes so that concurrent
// requests share one group commit.
import type { HealthResult, Range } from '../client/protocol.ts';
import type { AllocationPolicy } from './core/allocate.ts';
import type { Scan } from './core/observation.ts';
import { PortIndex } from './core/portindex.ts';
import { applyOp, type EmittedEvent, type Effects, type Op, type State } from './core/state.ts';
import type { PortProbe } from './probe.ts';

export interface RegistryStore {
  readonly state: State;
  append(ops: Op[]): Promise<void>;
}

export interface RegistryDeps {
  store: RegistryStore;
  publish: (event: EmittedEvent) => void;
  probe: PortProbe;
  now: () => number;
  policy: AllocationPolicy;
  ranges: readonly Range[];
  /** Called when the store can no longer persist: the daemon must stop rather than acknowledge. */
  onFatal: (err: Error) => void;
}

/** A mutation in progress: apply effects as decisions are made; all commit together. */
export interface Tx {
  readonly state: State;
  readonly index: PortIndex;
  apply(effects: Effects): void;
}

export class Registry {
  readonly state: State;
  readonly index: PortIndex;
  lastScan: Scan | null = null;
  /** Leak hold-off counters carried from one reconcile to the next (not durable, by design). */
  holdoff: Record<string, number> = {};
  /** Latest health result per service. */
  readonly health = new Map<string, HealthResult>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly deps: RegistryDeps) {
    this.state = deps.store.state;
    this.index = PortIndex.build(this.state);
  }

  now(): number {
    return this.deps.now();
  }

  /**
   * Runs `fn` alone, commits what it applied, then publishes its events.
   * `fn` must throw (if at all) before its first `tx.apply`, so a rejected
   * request changes nothing.
   */
  async mutate<T>(fn: (tx: Tx) => T | Promise<T>): Promise<T> {
    const ops: Op[] = [];
    const events: EmittedEvent[] = [];
    const tx: Tx = {
      state: this.state,
      index: this.index,
      apply: (effects) => {
        for (const op of effects.ops) {
          this.index.beforeApply(this.state, op);
          applyOp(this.state, op);
        }
        ops.push(...effects.ops);
        events.push(...effects.events);
      },
    };
    const run = this.tail.then(async () => {
      const result = await fn(tx);
      return { result, durable: ops.length > 0 ? this.deps.store.append(ops) : Promise.resolve() };
    });
    // The next mutation waits for this one's decision, not for its disk write.
    this.tail = run.catch(() => undefined);
    const { result, durable } = await run;
    durable.catch(() => undefined); // handled below; keeps Node from calling it unhandled meanwhile
    try {
      await durable;
    } catch (err) {
      this.deps.onFatal(err as Error);
      throw err;
    }
    for (const e of events) this.deps.publish(e);
    return result;
  }
}
