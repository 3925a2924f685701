// The result schemas (client/schema/results.ts) and the result interfaces of
// client/protocol.ts describe the same values: each pair is checked by the
// compiler (`npx tsc`), so a field added to one and not the other fails the
// typecheck. The test below only keeps vitest aware that the file exists.
import type { Static, TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { HEALTH_CHECK_TYPES, HealthCheck, MethodName, ResultOf } from '../../client/protocol.ts';
import { RESULTS } from '../../client/schema/methods.ts';

/** True when the two types are identical (optional fields too), not merely assignable to each other. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Every method whose result schema and result type differ (never when all agree). */
type Drift = { [M in MethodName]: Same<Static<(typeof RESULTS)[M]>, ResultOf<M>> extends true ? never : M }[MethodName];

const noDrift: [Drift] extends [never] ? true : Drift = true;
const checkTypes: Same<HealthCheck['type'], (typeof HEALTH_CHECK_TYPES)[number]> = true;

describe('result schemas', () => {
  it('agree with the contract types (checked by the compiler)', () => {
    expect([noDrift, checkTypes]).toEqual([true, true]);
    expect(Object.values(RESULTS).every((s: TSchema) => typeof s === 'object')).toBe(true);
  });
});
