// The daemon validates params with checks generated ahead of time from the
// schemas (daemon/rpc/checks.generated.ts): a schema changed without
// `npm run gen` would let the daemon judge by the old one while rpc.discover
// and the refusals' wording follow the new one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKS_FILE, checksModule } from '../tools/gen-checks.ts';

describe('checks.generated.ts', () => {
  it('is what `npm run gen` writes from the schemas today (run it after changing a schema)', () => {
    const committed = readFileSync(new URL(`../../${CHECKS_FILE}`, import.meta.url), 'utf8');
    expect(committed === checksModule(), `${CHECKS_FILE} is stale: run npm run gen`).toBe(true);
  });
});
