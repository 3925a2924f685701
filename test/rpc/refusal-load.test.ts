// The refusal wording is loaded on the first refusal (rpc/refusal.ts pulls in
// TypeBox and the schemas). If that load fails (EMFILE, a broken install),
// bad params must still get -32602, not an internal error, and the next
// refusal must try the load again rather than fail forever.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHECKS } from '../../daemon/rpc/checks.generated.ts';

const REFUSAL = '../../daemon/rpc/refusal.ts';

afterEach(() => {
  vi.doUnmock(REFUSAL);
  vi.resetModules();
});

describe('a refusal whose wording cannot be loaded', () => {
  it('is still -32602, logged, and the load is tried again at the next refusal', async () => {
    vi.doMock(REFUSAL, () => {
      throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    });
    vi.resetModules();
    const { withParams } = await import('../../daemon/rpc/params.ts');
    const errors: object[] = [];
    let called = 0;
    const methods = withParams(CHECKS, { 'port.get': () => ++called }, { error: (o) => errors.push(o) });

    // Several at once, as the first refusals of a burst arrive: each is answered -32602.
    const first = await Promise.allSettled([1, 2, 3].map(() => methods['port.get']!({ port: 0 }, {})));
    for (const r of first) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: -32602, data: { field: 'params' } });
    }
    expect(called).toBe(0);
    expect(errors.length).toBeGreaterThan(0);

    vi.doUnmock(REFUSAL);
    await expect(methods['port.get']!({ port: 0 }, {})).rejects.toMatchObject({
      code: -32602,
      data: { field: 'port', problem: 'must be a whole number 1..65535' },
    });
  });
});
