// Tokens drawn from a shared pool of randomness: each one distinct, of the
// same shape as before, across refills of the pool; hashes as sha256 hex.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashToken, newGrant } from '../../daemon/access/guard.ts';

describe('newGrant', () => {
  it('gives distinct tokens across several refills of the pool, each hashed as sha256 hex', () => {
    const grants = Array.from({ length: 1000 }, () => newGrant());
    expect(new Set(grants.map((g) => g.token)).size).toBe(1000);
    for (const g of grants) {
      expect(g.token).toMatch(/^pmt_[A-Za-z0-9_-]{32}$/);
      expect(g.hash).toBe(createHash('sha256').update(g.token).digest('hex'));
    }
  });

  it('hashToken is sha256 hex', () => {
    expect(hashToken('pmt_x')).toBe(createHash('sha256').update('pmt_x').digest('hex'));
  });
});
