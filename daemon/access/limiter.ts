// The rate limit on mutating calls: one token bucket per caller uid
// (core/rate-limit.ts decides; this keeps the buckets).
import { rateLimited } from '../core/errors.ts';
import { isFull, takeToken, type Bucket, type RateLimit } from '../core/rate-limit.ts';

/** Past this many buckets, full ones are forgotten (they would start full anyway). */
const PRUNE_AT = 1024;

export class Limiter {
  readonly #buckets = new Map<number, Bucket>();

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {}

  /** Takes one mutating call for `uid`, or throws -32005 with retryAfterMs. */
  take(uid: number): void {
    const now = this.now();
    const { bucket, retryAfterMs } = takeToken(this.#buckets.get(uid), this.limit, now);
    this.#buckets.set(uid, bucket);
    if (this.#buckets.size > PRUNE_AT) for (const [k, b] of this.#buckets) if (isFull(b, this.limit, now)) this.#buckets.delete(k);
    if (retryAfterMs !== null)
      throw rateLimited(retryAfterMs, `at most ${this.limit.perSec} changes a second (burst ${this.limit.burst}) per user`);
  }
}
