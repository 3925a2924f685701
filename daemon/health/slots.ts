// Probe slots: how many health probes run at once, and who goes next.
//
// A few probes start at a time (the "fast" slots). A probe still running
// after `slowAfterMs` moves to a larger slow lane and frees its fast slot, so
// endpoints that never answer cannot hold the slots quick checks need; when
// the slow lane is full too, the probe is told to give up (`onOverflow`).
// Waiters are served by priority: checks a caller asked for, then scheduled
// checks, then services that were slow last time.

export type Priority = 'asked' | 'scheduled' | 'slow';
const ORDER: readonly Priority[] = ['asked', 'scheduled', 'slow'];

export interface SlotLimits {
  fast: number;
  slow: number;
  slowAfterMs: number;
}

export const DEFAULT_SLOT_LIMITS: SlotLimits = { fast: 8, slow: 128, slowAfterMs: 1000 };

/** A held slot: release it exactly once, when the probe is over. */
export interface Lease {
  release(): void;
}

interface Waiter {
  grant(): void;
}

export class ProbeSlots {
  private fastInUse = 0;
  private slowInUse = 0;
  private readonly queues = new Map<Priority, Waiter[]>(ORDER.map((p) => [p, []]));

  constructor(private readonly limits: SlotLimits = DEFAULT_SLOT_LIMITS) {}

  /** Probes running now, by lane (for tests and status). */
  get inUse(): { fast: number; slow: number } {
    return { fast: this.fastInUse, slow: this.slowInUse };
  }

  /**
   * Waits for a fast slot. Rejects with the signal's reason if it aborts
   * first. `onOverflow` is called if the probe outlasts `slowAfterMs` while
   * the slow lane is full: the caller should end the probe.
   */
  acquire(priority: Priority, signal: AbortSignal, onOverflow: () => void): Promise<Lease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(priority)!;
      const onAbort = () => {
        queue.splice(queue.indexOf(waiter), 1);
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.lease(onOverflow));
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.pump();
    });
  }

  private lease(onOverflow: () => void): Lease {
    this.fastInUse++;
    let lane: 'fast' | 'slow' | 'done' = 'fast';
    const timer = setTimeout(() => {
      if (lane !== 'fast') return;
      if (this.slowInUse >= this.limits.slow) return onOverflow();
      lane = 'slow';
      this.fastInUse--;
      this.slowInUse++;
      this.pump();
    }, this.limits.slowAfterMs);
    timer.unref?.();
    return {
      release: () => {
        if (lane === 'done') return;
        clearTimeout(timer);
        if (lane === 'fast') this.fastInUse--;
        else this.slowInUse--;
        lane = 'done';
        this.pump();
      },
    };
  }

  private pump(): void {
    while (this.fastInUse < this.limits.fast) {
      const next = ORDER.map((p) => this.queues.get(p)!)
        .find((q) => q.length > 0)
        ?.shift();
      if (!next) return;
      next.grant();
    }
  }
}
