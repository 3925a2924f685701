import { describe, expect, it } from 'vitest';
import { excludedPorts, excludeParam, portNumbers, preferredPorts, Replayable } from '../../client/port-preferences.ts';

describe('portNumbers', () => {
  it.each([
    ['abc', 3000, TypeError],
    [3000, 'abc', TypeError],
    [3000.5, 3001, TypeError],
    [1023, 1024, RangeError],
    [65_536, 65_536, RangeError],
    [1024, 1023, RangeError],
    [65_535, 65_536, RangeError],
    [1025, 1024, RangeError],
  ])('portNumbers(%j, %j) throws %o', (from, to, kind) => {
    expect(() => portNumbers(from as number, to as number)).toThrow(kind);
  });

  it('yields from..to inclusive, as it is read', () => {
    expect([...portNumbers(1024, 1024)]).toEqual([1024]);
    expect([...portNumbers(65_534, 65_535)]).toEqual([65_534, 65_535]);
    const it = portNumbers(1024, 65_535)[Symbol.iterator]();
    expect(it.next().value).toBe(1024);
  });
});

describe('excludedPorts', () => {
  it.each([[42], ['x'], [{}]])('refuses %j, which is no iterable of numbers', (value) => {
    expect(() => excludedPorts(value)).toThrow(TypeError);
  });

  it.each([[['foo']], [[Number.NaN]], [[2 ** 53]], [[1.5]]])('refuses the entries %j', (value) => {
    expect(() => excludedPorts(value)).toThrow(TypeError);
  });

  it('reads any iterable; the daemon is told only real ports, sorted', () => {
    const set = excludedPorts(new Set([3000, -1, 70_000, 1024]));
    expect([...set].sort((a, b) => a - b)).toEqual([-1, 1024, 3000, 70_000]);
    expect(excludeParam(set)).toEqual([1024, 3000]);
    expect(excludeParam(excludedPorts(undefined))).toBeUndefined();
  });
});

describe('preferredPorts', () => {
  it('takes a number, an iterable, or nothing; 0 means any port and ends the list', () => {
    expect([...preferredPorts(undefined)]).toEqual([]);
    expect([...preferredPorts(0)]).toEqual([]);
    expect([...preferredPorts(8080)]).toEqual([8080]);
    expect([...preferredPorts([3000, 0, 3001])]).toEqual([3000]);
    expect([...preferredPorts(portNumbers(2000, 2002))]).toEqual([2000, 2001, 2002]);
  });

  it('reads NaN as no preference, as get-port does (Number(process.env.PORT) with PORT unset)', () => {
    expect([...preferredPorts(Number(undefined))]).toEqual([]);
    expect([...excludedPorts(Number.NaN)]).toEqual([]);
  });

  it('throws a RangeError when it reaches an entry that is no port, as listen() would', () => {
    expect(() => [...preferredPorts([3000, 70_000])]).toThrow(RangeError);
    expect(() => [...preferredPorts(['3000'])]).toThrow(RangeError);
    expect(() => preferredPorts('3000')).toThrow(TypeError);
  });
});

describe('Replayable', () => {
  it('reads a generator once and replays what was read, even after a reader stopped early', () => {
    let reads = 0;
    const source = (function* () {
      for (const p of [1, 2, 3]) {
        reads++;
        yield p;
      }
    })();
    const r = new Replayable(source);
    for (const p of r) if (p === 2) break;
    expect([...r]).toEqual([1, 2, 3]);
    expect([...r]).toEqual([1, 2, 3]);
    expect(reads).toBe(3);
  });
});
