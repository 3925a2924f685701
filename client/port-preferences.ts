// get-port's `port` and `exclude` options and its portNumbers(), read with
// get-port's rules and errors, so code written for get-port behaves the same
// against portmand: a wrong option is a TypeError or RangeError thrown before
// any port is looked at.

/** get-port 7's port options: a preferred port or an iterable of them, and ports never to return. */
export interface PortPreferences {
  readonly port?: number | Iterable<number>;
  readonly exclude?: Iterable<number>;
}

const LOWEST = 1024;
const HIGHEST = 65_535;

/**
 * The ports `from`..`to` (inclusive), in order, made as they are read: a
 * preference list for `port` (or a list for `exclude`). Both ends must be
 * whole numbers in 1024..65535, and `from` <= `to`.
 */
export function portNumbers(from: number, to: number): Iterable<number> {
  if (!Number.isInteger(from) || !Number.isInteger(to)) throw new TypeError('portNumbers(from, to) takes two whole numbers');
  if (from < LOWEST || from > HIGHEST) throw new RangeError(`portNumbers: from (${from}) is outside ${LOWEST}..${HIGHEST}`);
  if (to < LOWEST || to > HIGHEST) throw new RangeError(`portNumbers: to (${to}) is outside ${LOWEST}..${HIGHEST}`);
  if (to < from) throw new RangeError(`portNumbers: to (${to}) is below from (${from})`);
  return (function* () {
    for (let port = from; port <= to; port++) yield port;
  })();
}

/**
 * The `exclude` option as a set. Like get-port, it must be iterable and hold
 * only safe integers; numbers that are no port are kept (they simply never
 * match one).
 */
export function excludedPorts(exclude: unknown): Set<number> {
  // get-port tests `if (options.exclude)`: every falsy value (NaN too) means none.
  if (!exclude) return new Set();
  if (typeof (exclude as Iterable<unknown>)[Symbol.iterator] !== 'function')
    throw new TypeError('the exclude option must be an iterable of port numbers');
  const out = new Set<number>();
  for (const x of exclude as Iterable<unknown>) {
    if (typeof x !== 'number') throw new TypeError(`the exclude option holds ${typeof x} ${String(x)}; each entry must be a port number`);
    if (!Number.isSafeInteger(x)) throw new TypeError(`the exclude option holds ${x}, which is not a safe integer`);
    out.add(x);
  }
  return out;
}

/** The excluded ports the daemon can be told about (1..65535), sorted; others can never be chosen anyway. */
export function excludeParam(exclude: ReadonlySet<number>): number[] | undefined {
  const ports = [...exclude].filter((p) => p >= 1 && p <= HIGHEST).sort((a, b) => a - b);
  return ports.length > 0 ? ports : undefined;
}

/**
 * The `port` option as the ports to try in order, read lazily (a preference
 * list may be a long generator). A falsy option means no preference, as in
 * get-port. An entry that is no port throws a RangeError when it is reached,
 * as get-port's listen() would; 0 means "any port" and ends the list.
 */
export function preferredPorts(port: unknown): Iterable<number> {
  // get-port tests `if (options.port)`: NaN, from Number(process.env.PORT) with PORT unset, means none too.
  if (!port) return [];
  if (typeof port === 'number') return checked([port]);
  if (typeof port === 'object' && typeof (port as Iterable<unknown>)[Symbol.iterator] === 'function')
    return checked(port as Iterable<unknown>);
  throw new TypeError('the port option must be a port number or an iterable of port numbers');
}

function* checked(ports: Iterable<unknown>): Generator<number> {
  for (const p of ports) {
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > HIGHEST)
      throw new RangeError(`the port option holds ${String(p)}; a port is a whole number 0..${HIGHEST}`);
    if (p === 0) return;
    yield p;
  }
}

/**
 * An iterable read once whose values, once read, can be read again: the local
 * fallback walks the same preference list the daemon was asked about, even a
 * generator, and from its start.
 */
export class Replayable implements Iterable<number> {
  private readonly seen: number[] = [];
  private readonly source: Iterator<number>;
  private done = false;

  constructor(source: Iterable<number>) {
    this.source = source[Symbol.iterator]();
  }

  *[Symbol.iterator](): Generator<number> {
    for (let i = 0; ; i++) {
      if (i < this.seen.length) {
        yield this.seen[i]!;
        continue;
      }
      // Read by next(), never for..of, so a reader that stops early does not close the source for the next one.
      if (this.done) return;
      const next = this.source.next();
      if (next.done) {
        this.done = true;
        return;
      }
      this.seen.push(next.value);
      yield next.value;
    }
  }
}
