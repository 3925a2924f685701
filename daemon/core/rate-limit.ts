// A token bucket per caller for mutating calls: `burst` calls at once, then
// `perSec` a second. Pure: the bucket is data and `now` is an argument.

export interface Bucket {
  tokens: number;
  /** ms: when `tokens` was last brought up to date. */
  at: number;
}

export interface RateLimit {
  perSec: number;
  burst: number;
}

/** Takes one call from the bucket: the new bucket, and how long to wait when there was none to take. */
export function takeToken(bucket: Bucket | undefined, limit: RateLimit, now: number): { bucket: Bucket; retryAfterMs: number | null } {
  const start = bucket ?? { tokens: limit.burst, at: now };
  const tokens = Math.min(limit.burst, start.tokens + (Math.max(0, now - start.at) * limit.perSec) / 1000);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, at: now }, retryAfterMs: null };
  return { bucket: { tokens, at: now }, retryAfterMs: Math.max(1, Math.ceil(((1 - tokens) * 1000) / limit.perSec)) };
}

/** Whether a bucket is full again at `now`, so it can be forgotten (it would start full anyway). */
export function isFull(bucket: Bucket, limit: RateLimit, now: number): boolean {
  return bucket.tokens + ((now - bucket.at) * limit.perSec) / 1000 >= limit.burst;
}
