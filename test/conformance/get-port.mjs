#!/usr/bin/env node
// Runs get-port's own test suite (its test.js, which we do not ship: fetch
// it from sindresorhus/get-port) twice on this machine: against get-port
// itself, then against portmand/get-port with a daemon on a temp socket. Only
// the test file's import line is changed. Passes when every test that
// get-port passes here passes against portmand too.
//
//   npm install --prefix /tmp/gp get-port@7.1.0 ava   # outside the project
//   npm run build
//   node test/conformance/get-port.mjs --deps /tmp/gp path/to/get-port/test.js
//
// --deps: a directory whose node_modules holds ava and get-port.
// --only get-port|portmand: one run instead of both.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/bin/portmand.js');
/** The one line the runs differ in: get-port's test imports its module from './index.js'. */
const IMPORT_LINE = /^(import\s+getPort\s*,\s*\{[^}]*\}\s+from\s+)'\.\/index\.js'(;?)\s*$/m;

function usage(message) {
  console.error(`${message}\nusage: node test/conformance/get-port.mjs --deps DIR [--only get-port|portmand] TEST_JS`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  options: { deps: { type: 'string' }, only: { type: 'string' } },
  allowPositionals: true,
});
if (positionals.length !== 1) usage("give the path of get-port's test.js");
if (!values.deps) usage('--deps is required');
const deps = path.resolve(values.deps);
const ava = path.join(deps, 'node_modules/ava/entrypoints/cli.mjs');
if (!existsSync(ava)) usage(`no ava in ${deps}/node_modules (npm install --prefix ${deps} ava get-port@7.1.0)`);
if (values.only && !['get-port', 'portmand'].includes(values.only)) usage('--only is get-port or portmand');

const source = readFileSync(positionals[0], 'utf8');
if ((source.match(new RegExp(IMPORT_LINE.source, 'gm')) ?? []).length !== 1)
  usage("the test file has no single `import getPort, {...} from './index.js'` line to point elsewhere");

const targets = values.only ? [values.only] : ['get-port', 'portmand'];
const results = {};
for (const target of targets) results[target] = await run(target);

for (const [target, r] of Object.entries(results)) {
  console.log(`\n${target}: ${r.passed.length} passed, ${r.failed.length} failed${r.failed.length ? `: ${r.failed.join('; ')}` : ''}`);
}
if (results['get-port'] && results.portmand) {
  const regressions = results['get-port'].passed.filter((name) => !results.portmand.passed.includes(name));
  const both = results['get-port'].failed.filter((name) => results.portmand.failed.includes(name));
  if (both.length) console.log(`failing for both (this machine, not portmand): ${both.join('; ')}`);
  if (regressions.length) {
    console.log(`FAIL: passed with get-port, not with portmand/get-port: ${regressions.join('; ')}`);
    process.exit(1);
  }
  console.log('OK: every test get-port passes here passes against portmand/get-port');
} else {
  process.exit(Object.values(results).some((r) => r.failed.length > 0 || r.passed.length === 0) ? 1 : 0);
}

/** One run of the suite against `target`: the names of the tests that passed and failed. */
async function run(target) {
  console.log(`\n== ${target} ==`);
  const work = mkdtempSync(path.join(deps, 'run-'));
  const daemonDir = mkdtempSync(path.join(os.tmpdir(), 'pmc-'));
  let daemon = null;
  try {
    // Inside `deps`, so that the test finds ava and get-port in deps/node_modules.
    writeFileSync(path.join(work, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const module = target === 'portmand' ? 'portmand/get-port' : 'get-port';
    writeFileSync(path.join(work, 'test.js'), source.replace(IMPORT_LINE, `$1'${module}'$2`));
    const env = { ...process.env };
    if (target === 'portmand') {
      if (!existsSync(path.join(ROOT, 'dist/client/get-port.js'))) usage('dist/ is not built: run `npm run build` first');
      mkdirSync(path.join(work, 'node_modules'));
      symlinkSync(ROOT, path.join(work, 'node_modules/portmand'), 'dir');
      daemon = await startDaemon(daemonDir);
      env.PORTMAND_SOCKET = daemon.socket;
    } else {
      delete env.PORTMAND_SOCKET;
    }
    return await runAva(work, env);
  } finally {
    if (daemon) await daemon.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(daemonDir, { recursive: true, force: true });
  }
}

/** ava with its TAP reporter: each `ok`/`not ok` line names a test. */
function runAva(cwd, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ava, '--tap', 'test.js'], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const passed = [];
    const failed = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      console.log(line);
      const m = /^(not ok|ok) \d+ - (.*?)(?: # .*)?$/.exec(line);
      if (m) (m[1] === 'ok' ? passed : failed).push(m[2]);
    });
    child.on('error', reject);
    child.on('close', () => resolve({ passed, failed }));
  });
}

/** The compiled daemon on a temp socket and state dir, with an empty config (root would read /etc/portmand). */
function startDaemon(dir) {
  const socket = path.join(dir, 'pm.sock');
  const config = path.join(dir, 'config.json');
  writeFileSync(config, '{}\n');
  const env = { ...process.env, PORTMAND_SOCKET: socket, PORTMAND_STATE_DIR: path.join(dir, 'state'), PORTMAND_CONFIG: config };
  const proc = spawn(process.execPath, [CLI, 'daemon'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).on('line', (line) => {
      if (!line.includes('"portmand ready"')) return;
      resolve({
        socket,
        stop: () => {
          if (proc.exitCode === null) proc.kill('SIGTERM');
          return exited;
        },
      });
    });
    exited.then((code) => reject(new Error(`the daemon exited with ${code} before it was ready`)));
  });
}
