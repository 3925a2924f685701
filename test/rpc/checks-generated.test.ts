// The daemon validates params and its config file with checks generated ahead
// of time from the schemas (daemon/rpc/checks.generated.ts,
// daemon/config/check.generated.ts): a schema changed without `npm run gen`
// would let the daemon judge by the old one while rpc.discover and the
// refusals' wording follow the new one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CHECKS_FILE, checksModule, CONFIG_CHECK_FILE, configCheckModule } from '../tools/gen-checks.ts';

describe('the generated checks', () => {
  it.each([
    [CHECKS_FILE, checksModule],
    [CONFIG_CHECK_FILE, configCheckModule],
  ])('%s is what `npm run gen` writes from the schemas today (run it after changing a schema)', (file, generate) => {
    const committed = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
    expect(committed === generate(), `${file} is stale: run npm run gen`).toBe(true);
  });
});
