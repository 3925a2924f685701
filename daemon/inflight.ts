// Requests in flight, so that a stopping daemon answers what it accepted
// before it closes the store, and refuses what comes after.
import { ErrorCode } from '../client/protocol.ts';
import { DomainError } from './core/errors.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

export class InFlight {
  #count = 0;
  #idle: Array<() => void> = [];
  #closing = false;

  get closing(): boolean {
    return this.#closing;
  }

  /** Counts `work` until it settles. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#count++;
    return work.finally(() => {
      if (--this.#count === 0) for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  /** From now on handlers refuse new calls; resolves once the tracked work is over. */
  close(): Promise<void> {
    this.#closing = true;
    return this.#count === 0 ? Promise.resolve() : new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Wraps every handler: once closing, a call is refused before it can start any work. */
  gate<C>(methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
    const out: Record<string, Handler<C>> = {};
    for (const [name, handler] of Object.entries(methods)) {
      out[name] = (params, ctx) => {
        if (this.#closing)
          throw new DomainError(ErrorCode.InternalError, 'the daemon is stopping; try again once it is back', { reason: 'stopping' });
        return handler(params, ctx);
      };
    }
    return out;
  }
}
