import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJsonRpc, type Handler } from '../../daemon/transport/jsonrpc.ts';
import { notFound } from '../../daemon/core/errors.ts';

interface Ctx {
  conn: number;
}

const methods: Record<string, Handler<Ctx>> = {
  echo: (params) => params,
  nothing: () => undefined,
  whoami: (_params, ctx) => ctx.conn,
  missing: async () => {
    throw notFound('service', 'web');
  },
  crash: () => {
    throw new Error('secret: /etc/shadow');
  },
  bigint: () => 1n,
};

function setup() {
  const log = { error: vi.fn(), debug: vi.fn() };
  const rpc = createJsonRpc<Ctx>({ methods, log });
  const call = async (line: string) => {
    const out = await rpc.handleLine(line, { conn: 7 });
    return out === null ? null : JSON.parse(out);
  };
  return { log, call };
}

const invalid = (id: unknown, field: string) => ({
  jsonrpc: '2.0',
  id,
  error: { code: -32600, message: expect.any(String), data: { field, problem: expect.any(String) } },
});

let warn: ReturnType<typeof vi.spyOn>;
beforeEach(() => {
  warn = vi.spyOn(console, 'warn');
});
afterEach(() => {
  expect(warn).not.toHaveBeenCalled();
  warn.mockRestore();
});

describe('single requests', () => {
  const cases: Array<[string, string, unknown]> = [
    ['named params echo', '{"jsonrpc":"2.0","id":1,"method":"echo","params":{"a":1}}', { jsonrpc: '2.0', id: 1, result: { a: 1 } }],
    ['absent params are {}', '{"jsonrpc":"2.0","id":"x","method":"echo"}', { jsonrpc: '2.0', id: 'x', result: {} }],
    ['undefined result is null', '{"jsonrpc":"2.0","id":2,"method":"nothing"}', { jsonrpc: '2.0', id: 2, result: null }],
    ['ctx reaches the handler', '{"jsonrpc":"2.0","id":3,"method":"whoami"}', { jsonrpc: '2.0', id: 3, result: 7 }],
    ['null id is answered', '{"jsonrpc":"2.0","id":null,"method":"nothing"}', { jsonrpc: '2.0', id: null, result: null }],
    [
      'not JSON',
      '{"jsonrpc":"2.0",',
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: expect.stringContaining('parse error') } },
    ],
    ['a number', '42', invalid(null, 'request')],
    ['a string', '"hi"', invalid(null, 'request')],
    ['null', 'null', invalid(null, 'request')],
    ['missing jsonrpc', '{"id":1,"method":"echo"}', invalid(1, 'jsonrpc')],
    ['wrong jsonrpc', '{"jsonrpc":"1.0","id":1,"method":"echo"}', invalid(1, 'jsonrpc')],
    ['non-string method', '{"jsonrpc":"2.0","id":1,"method":5}', invalid(1, 'method')],
    ['missing method', '{"jsonrpc":"2.0","id":1}', invalid(1, 'method')],
    ['string params', '{"jsonrpc":"2.0","id":1,"method":"echo","params":"str"}', invalid(1, 'params')],
    ['null params', '{"jsonrpc":"2.0","id":1,"method":"echo","params":null}', invalid(1, 'params')],
    ['object id', '{"jsonrpc":"2.0","id":{},"method":"echo"}', invalid(null, 'id')],
    ['boolean id', '{"jsonrpc":"2.0","id":true,"method":"echo"}', invalid(null, 'id')],
    ['invalid without id still answered', '{"foo":"bar"}', invalid(null, 'jsonrpc')],
    [
      'array params',
      '{"jsonrpc":"2.0","id":4,"method":"echo","params":[1,2]}',
      {
        jsonrpc: '2.0',
        id: 4,
        error: { code: -32602, message: expect.any(String), data: { field: 'params', problem: 'must be an object (named parameters)' } },
      },
    ],
    [
      'unknown method',
      '{"jsonrpc":"2.0","id":5,"method":"nope"}',
      { jsonrpc: '2.0', id: 5, error: { code: -32601, message: expect.any(String), data: { method: 'nope' } } },
    ],
    [
      'inherited property is not a method',
      '{"jsonrpc":"2.0","id":5,"method":"toString"}',
      { jsonrpc: '2.0', id: 5, error: { code: -32601, message: expect.any(String), data: { method: 'toString' } } },
    ],
    [
      'DomainError keeps its code, message and data',
      '{"jsonrpc":"2.0","id":6,"method":"missing"}',
      { jsonrpc: '2.0', id: 6, error: { code: -32001, message: 'no service "web"', data: { kind: 'service', key: 'web' } } },
    ],
    [
      'unserialisable result',
      '{"jsonrpc":"2.0","id":8,"method":"bigint"}',
      { jsonrpc: '2.0', id: 8, error: { code: -32603, message: 'internal error' } },
    ],
  ];

  it.each(cases)('%s', async (_name, line, expected) => {
    const { call } = setup();
    expect(await call(line)).toStrictEqual(expected);
  });

  it('answers an unexpected throw with -32603, logs the stack, leaks nothing', async () => {
    const { call, log } = setup();
    const out = await call('{"jsonrpc":"2.0","id":9,"method":"crash"}');
    expect(out).toStrictEqual({ jsonrpc: '2.0', id: 9, error: { code: -32603, message: 'internal error' } });
    expect(JSON.stringify(out)).not.toContain('secret');
    expect(log.error).toHaveBeenCalledOnce();
    const [obj] = log.error.mock.calls[0]!;
    expect(obj.err.stack).toContain('secret');
    expect(obj.method).toBe('crash');
  });
});

describe('notifications', () => {
  const silent = [
    ['a call', '{"jsonrpc":"2.0","method":"echo","params":{}}'],
    ['an unknown method', '{"jsonrpc":"2.0","method":"nope"}'],
    ['array params', '{"jsonrpc":"2.0","method":"echo","params":[1]}'],
    ['a DomainError', '{"jsonrpc":"2.0","method":"missing"}'],
    ['a crash', '{"jsonrpc":"2.0","method":"crash"}'],
  ];
  it.each(silent)('%s gets no response', async (_name, line) => {
    const { call } = setup();
    expect(await call(line!)).toBeNull();
  });

  it('still logs a crash', async () => {
    const { call, log } = setup();
    await call('{"jsonrpc":"2.0","method":"crash"}');
    expect(log.error).toHaveBeenCalledOnce();
  });
});

describe('batches', () => {
  it('a batch of one is answered with an array of one', async () => {
    const { call } = setup();
    expect(await call('[{"jsonrpc":"2.0","id":1,"method":"echo","params":{"n":1}}]')).toStrictEqual([
      { jsonrpc: '2.0', id: 1, result: { n: 1 } },
    ]);
  });

  it('an empty batch is one -32600 error, not an array', async () => {
    const { call } = setup();
    expect(await call('[]')).toStrictEqual(invalid(null, 'batch'));
  });

  it('answers each request, skips notifications, rejects bad members', async () => {
    const { call } = setup();
    const line = JSON.stringify([
      { jsonrpc: '2.0', id: 1, method: 'echo', params: { a: 1 } },
      { jsonrpc: '2.0', method: 'echo' },
      1,
      { jsonrpc: '2.0', id: 2, method: 'nope' },
      [],
      { jsonrpc: '2.0', id: 3, method: 'missing' },
    ]);
    expect(await call(line)).toStrictEqual([
      { jsonrpc: '2.0', id: 1, result: { a: 1 } },
      invalid(null, 'request'),
      { jsonrpc: '2.0', id: 2, error: { code: -32601, message: expect.any(String), data: { method: 'nope' } } },
      invalid(null, 'request'),
      { jsonrpc: '2.0', id: 3, error: { code: -32001, message: expect.any(String), data: { kind: 'service', key: 'web' } } },
    ]);
  });

  it('an all-notification batch produces no line', async () => {
    const { call } = setup();
    const line = '[{"jsonrpc":"2.0","method":"echo"},{"jsonrpc":"2.0","method":"crash"}]';
    expect(await call(line)).toBeNull();
  });

  it('one unserialisable result does not lose the others', async () => {
    const { call } = setup();
    const line = '[{"jsonrpc":"2.0","id":1,"method":"bigint"},{"jsonrpc":"2.0","id":2,"method":"nothing"}]';
    expect(await call(line)).toStrictEqual([
      { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'internal error' } },
      { jsonrpc: '2.0', id: 2, result: null },
    ]);
  });
});

describe('a large batch', () => {
  it('starts its items a slice at a time, letting other connections in between, and answers all in order', async () => {
    let started = 0;
    const rpc = createJsonRpc<Ctx>({ methods: { count: () => ++started }, log: { error: vi.fn() } });
    const batch = Array.from({ length: 2000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'count' }));
    let seenByOtherWork = -1;
    const answer = rpc.handleLine(JSON.stringify(batch), { conn: 1 });
    // Another client's request, or a signal, waiting for its turn of the event loop.
    setImmediate(() => (seenByOtherWork = started));
    const out = JSON.parse((await answer)!) as Array<{ id: number; result: number }>;
    expect(out.map((r) => r.id)).toEqual(batch.map((r) => r.id));
    expect(out.map((r) => r.result)).toEqual(batch.map((_, i) => i + 1));
    expect(seenByOtherWork).toBeGreaterThan(0);
    expect(seenByOtherWork).toBeLessThan(2000);
  });
});
