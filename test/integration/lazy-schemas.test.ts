// Starting the daemon and running the CLI load no TypeBox and no schema:
// importing them cost about 180 ms of CPU at every start. The daemon checks
// params with generated code and loads the schemas only to word a refusal
// (or for rpc.discover). A resolve hook (module-log.mjs) lists what each
// process loads; the command is a bundle, so each chunk it loads stands for
// the sources esbuild put in it (dist/bin/meta.json).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../client/protocol.ts';
import { ROOT, tempDir, useDaemon } from './harness.ts';

const HOOK = fileURLToPath(new URL('./module-log.mjs', import.meta.url));
const logs = tempDir();
const daemonLog = path.join(logs, 'daemon');
// A config file too: the daemon checks it with generated code, and loads its schema only to word a refused one.
const configFile = path.join(logs, 'config.json');
writeFileSync(configFile, JSON.stringify({ ranges: [{ name: 'web', start: 8000, end: 8099 }], limits: { maxConnections: 100 } }));
const daemon = useDaemon({ env: { NODE_OPTIONS: `--import=${HOOK}`, MODULE_LOG: daemonLog, PORTMAND_CONFIG: configFile } });

const meta = JSON.parse(readFileSync(path.join(ROOT, 'dist/bin/meta.json'), 'utf8')) as {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
};
/** The sources in a loaded file: a chunk of the bundle stands for what went into it. */
const sourcesOf = (url: string): string[] => {
  if (!url.startsWith('file://')) return [url];
  const rel = path.relative(ROOT, fileURLToPath(url));
  const output = meta.outputs[rel];
  return output ? Object.keys(output.inputs).map((input) => `bundled:/${input}`) : [url];
};
const loaded = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').flatMap(sourcesOf) : []);
const schemaModules = (file: string) =>
  loaded(file).filter((url) => /\/@sinclair\/typebox\/|\/client\/schema\/|\/daemon\/config\/(schema|problems)\./.test(url));

describe('what is loaded when', () => {
  it('the daemon reads its config file and answers requests that fit without loading TypeBox or the schemas', async () => {
    const pm = daemon().client();
    await pm.daemon.ping();
    await pm.port.get({ port: 1 });
    expect(
      loaded(daemonLog).some((url) => url.endsWith('/daemon/main.ts')),
      'the hook saw the daemon load',
    ).toBe(true);
    expect(schemaModules(daemonLog)).toEqual([]);
  });

  it('the first refusal loads them, to word data.field and data.problem', async () => {
    const error = await daemon()
      .client()
      .call('port.get', { port: 0 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.InvalidParams, data: { field: 'port', problem: 'must be a whole number 1..65535' } });
    expect(schemaModules(daemonLog)).not.toEqual([]);
  });

  it.each([['status'], ['api'], ['ports']])('`portmand %s` loads neither', async (verb) => {
    const cliLog = path.join(logs, verb);
    const r = await daemon().cli([verb], { env: { MODULE_LOG: cliLog } });
    expect(r.code, r.stderr).toBe(0);
    expect(
      loaded(cliLog).some((url) => url.endsWith('/client/cli.ts')),
      'the hook saw the CLI load',
    ).toBe(true);
    expect(schemaModules(cliLog)).toEqual([]);
  });

  it('`portmand config check` loads the config schema only to word the problems of a refused file', async () => {
    const goodLog = path.join(logs, 'check-good');
    const good = await daemon().cli(['config', 'check', configFile], { env: { MODULE_LOG: goodLog } });
    expect(good.code, good.stderr).toBe(0);
    expect(schemaModules(goodLog)).toEqual([]);
    const bad = path.join(logs, 'bad.json');
    writeFileSync(bad, JSON.stringify({ limits: { maxConnections: 0 } }));
    const badLog = path.join(logs, 'check-bad');
    const refused = await daemon().cli(['config', 'check', bad], { env: { MODULE_LOG: badLog } });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain('limits.maxConnections must be a whole number from 1 to 1000000, got 0');
    expect(schemaModules(badLog).some((url) => url.endsWith('/daemon/config/problems.ts'))).toBe(true);
  });
});
