import { describe, expect, it } from 'vitest';
import { isFull, takeToken, type Bucket } from '../../daemon/core/rate-limit.ts';

const limit = { perSec: 10, burst: 3 };

describe('takeToken', () => {
  it('allows a burst, then refuses with the wait until the next token', () => {
    let b: Bucket | undefined;
    const waits: Array<number | null> = [];
    for (let i = 0; i < 4; i++) {
      const r = takeToken(b, limit, 1000);
      b = r.bucket;
      waits.push(r.retryAfterMs);
    }
    expect(waits).toEqual([null, null, null, 100]);
  });
  it('refills at perSec, never past burst', () => {
    const empty = { tokens: 0, at: 0 };
    expect(takeToken(empty, limit, 50).retryAfterMs).toBe(50);
    expect(takeToken(empty, limit, 100).retryAfterMs).toBeNull();
    expect(takeToken(empty, limit, 60_000).bucket.tokens).toBe(2);
    expect(isFull({ tokens: 0, at: 0 }, limit, 300)).toBe(true);
    expect(isFull({ tokens: 0, at: 0 }, limit, 200)).toBe(false);
  });
});
