// When the automatic resolution policy runs: after every scan, and when a
// conflict opens between scans (a duplicate registration). One pass at a
// time; a request during a pass asks for one more after it.
import type { EmittedEvent } from '../core/state.ts';

export class AutoResolver {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(private readonly pass: () => Promise<void>) {}

  /** Runs a pass now, or once more after the one running; resolves when that pass is done. */
  kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = null));
    return this.running;
  }

  /** Called with every published event. */
  observe(e: EmittedEvent): void {
    if (e.type === 'conflict_detected') void this.kick();
  }

  /** No new pass starts; the one running is awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}
