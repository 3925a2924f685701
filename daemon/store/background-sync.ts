// fdatasync off the reply's path: one at a time, a few ms after the write
// that asked for it, so writes landing meanwhile share it and appends rarely
// hit a page under writeback (which would stall the write, and the reply).

/** How long a background fdatasync waits for more writes: bounds what a power cut can lose. */
export const BACKGROUND_SYNC_DELAY_MS = 5;

export class BackgroundSync {
  private inFlight: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly sync: () => Promise<void>,
    private readonly onSynced: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Asks for an fdatasync covering every write made so far. */
  request(): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = new Promise<void>((resolve) => setTimeout(resolve, BACKGROUND_SYNC_DELAY_MS))
      .then(() => this.sync())
      .then(
        () => {
          this.inFlight = null;
          this.onSynced();
          if (this.again) {
            this.again = false;
            this.request();
          }
        },
        (err: unknown) => {
          this.inFlight = null;
          this.stopped = true;
          this.onError(err);
        },
      );
  }

  /** Resolves once no fdatasync is in flight or due (before the journal is truncated or closed). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }
}
