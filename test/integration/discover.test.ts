// rpc.discover and `portmand api`: the OpenRPC document of the running
// daemon, generated from the schemas that validate every request. What the
// document's params schemas reject, the daemon rejects, and the other way
// round (checked with a JSON Schema checker independent of TypeBox).
import { describe, expect, it } from 'vitest';
import { ErrorCode, type MethodName } from '../../client/protocol.ts';
import { PortmandError } from '../../client/errors.ts';
import { fitsConfigSchema } from '../../daemon/config/check.generated.ts';
import { paramsSchema, valid } from './json-schema.ts';
import { useDaemon } from './harness.ts';

const daemon = useDaemon();

type Method = { name: string; paramStructure: string; params: Array<{ name: string; required: boolean; schema: Record<string, unknown> }> };

describe('rpc.discover', () => {
  it('returns an OpenRPC document naming every method, with params and result schemas and the error codes', async () => {
    const pm = daemon().client();
    const doc = await pm.rpc.discover();
    const { version } = await pm.daemon.status();
    expect(doc.openrpc).toMatch(/^1\.\d+\.\d+$/);
    expect(doc.info).toMatchObject({ title: 'portmand', version });
    const methods = doc.methods as unknown as Array<Method & { result: { schema: unknown } }>;
    expect(methods.map((m) => m.name)).toContain('rpc.discover');
    expect(methods.map((m) => m.name)).toContain('service.register');
    for (const m of methods) {
      expect(m.paramStructure, m.name).toBe('by-name');
      expect(m.result.schema, m.name).toEqual(expect.any(Object));
      for (const p of m.params) expect(p.schema, `${m.name} ${p.name}`).not.toHaveProperty('problem');
    }
    const register = methods.find((m) => m.name === 'service.register')!;
    expect(register.params.find((p) => p.name === 'name')).toMatchObject({ required: true, schema: { type: 'string' } });
    expect(doc.components?.errors).toEqual(
      Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [name, expect.objectContaining({ code })])),
    );
  });

  it('says that a param a method does not list is refused, and the daemon does refuse it', async () => {
    const pm = daemon().client();
    const doc = await pm.rpc.discover();
    expect(doc.info.description).toMatch(/a param the method does not list is refused with -32602/);
    const error = await pm.call('port.get', { port: 8080, colour: 'blue' } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PortmandError);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams, data: { field: 'colour' } });
  });

  it('`portmand api` prints the same document, with or without --json; --help says what it is', async () => {
    const doc = await daemon().client().rpc.discover();
    for (const args of [['api'], ['api', '--json']]) {
      const r = await daemon().cliInProcess(args);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(doc);
    }
    const help = await daemon().cliInProcess(['api', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('OpenRPC');
  });
});

describe("the document's params schemas reject what the daemon rejects", () => {
  const cases: Array<[MethodName, Record<string, unknown>]> = [
    ['service.register', { name: 'disc-ok' }],
    ['service.register', { name: 'Disc' }],
    ['service.register', { name: 'disc-x', port: 0 }],
    ['service.register', { name: 'disc-x', bogus: 1 }],
    ['service.register', { name: 'disc-x', healthCheck: { type: 'http' } }],
    ['service.register', { name: 'disc-x', healthCheck: { type: 'tcp', every: 5 } }],
    ['service.register', { name: 'disc-x', tags: ['a b'] }],
    ['service.register', { name: 'disc-x', restart: { signal: 'SIGKILL' } }],
    ['service.register', { name: 'disc-x', restart: { command: ['echo'], env: { PORT: '1' } } }],
    ['service.register', { name: 'disc-x', process: 'a\u0007b' }],
    ['port.reserve', { port: 70000 }],
    ['port.reserve', { port: 1, reason: 'x\u009b' }],
    ['port.reserve', { port: 1, for: 'Disc' }],
    ['port.reserve', { port: 1, ttlSec: 0 }],
    ['events.subscribe', { types: ['nope'] }],
    ['events.subscribe', { sinceSeq: -1 }],
    ['events.subscribe', { types: ['port_assigned'] }],
    ['stats.series', { metric: 'conflicts.open', step: 90 }],
    ['stats.series', { metric: 'conflicts.open', step: 120 }],
  ];

  it.each(cases)('%s %j', async (method, params) => {
    const pm = daemon().client({ sendPid: false });
    const doc = await pm.rpc.discover();
    const schema = paramsSchema((doc.methods as unknown as Method[]).find((m) => m.name === method)!);
    const error = await pm.call(method, params as never).then(
      () => null,
      (e: unknown) => e,
    );
    const daemonRejects = error instanceof PortmandError && error.code === ErrorCode.InvalidParams;
    if (error !== null && !daemonRejects) throw error;
    expect(valid(schema, params)).toBe(!daemonRejects);
  });
});

describe("the document's config file schema", () => {
  // The schema the daemon checks its config file with, as a client reads it; a file passes it as `config check` passes the file.
  it.each<[string, Record<string, unknown>, boolean]>([
    ['an empty file', {}, true],
    ['ranges and limits', { ranges: [{ name: 'web', start: 8000, end: 8099 }], limits: { burst: 10 } }, true],
    ['an unknown key at depth', { conflicts: { autoResolve: [{ strategy: 'auto', when: 'now' }] } }, false],
    ['a port off the scale', { reservations: [{ port: 70000 }] }, false],
    ['an unknown event type', { alerts: [{ on: ['nope'], command: ['true'] }] }, false],
  ])('%s', async (_, file, ok) => {
    const doc = await daemon().client().rpc.discover();
    const schema = (doc.components?.schemas as Record<string, Record<string, unknown>>).ConfigFile!;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false });
    expect(schema).not.toHaveProperty('properties.scanIntervalSec.problem');
    expect(valid(schema, file)).toBe(ok);
    expect(fitsConfigSchema(file)).toBe(ok);
  });
});
