import { describe, expect, it } from 'vitest';
import { assignKeys, without } from '../../daemon/core/copy.ts';

describe('without', () => {
  it('gives what object rest gives: the other keys, in order, values shared, the record untouched', () => {
    const nested = { uid: 1 };
    const record = { a: 1, owner: nested, b: undefined, token: 't', c: 'x' };
    const { token: _t, a: _a, ...rest } = record;
    const copy = without(record, ['token', 'a']);
    expect(copy).toStrictEqual(rest);
    expect(Object.keys(copy)).toEqual(['owner', 'b', 'c']);
    expect(copy.owner).toBe(nested);
    expect(Object.keys(record)).toEqual(['a', 'owner', 'b', 'token', 'c']);
  });
});

describe('assignKeys', () => {
  it('lays keys out as a spread of both does: existing keys keep their place, new ones follow', () => {
    const target = { a: 1, b: 2 };
    const source = { c: 3, a: 9 };
    const spread = { ...target, ...source };
    const out = assignKeys(target, source);
    expect(out).toBe(target);
    expect(out).toStrictEqual(spread);
    expect(Object.keys(out)).toEqual(Object.keys(spread));
  });
});
