// Integration tests run the built CLI (the bundle in dist/bin/) and the
// compiled library, as users and systemd do: build them first so a test never
// runs yesterday's dist/. A build takes seconds, so it
// is skipped when dist/ is newer than every source file, folder and tsconfig
// (a folder's time changes when a file in it is added, renamed or removed).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = 'dist/bin/portmand.js';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (upToDate(root)) return;
  try {
    // The package's own build (package.json): it clears dist/, so nothing of an older layout is left to run.
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  } catch (err) {
    // tsc emits despite type errors: mark dist/ stale so the next run builds, and fails, again.
    try {
      utimesSync(path.join(root, BIN), 0, 0);
    } catch {
      // nothing was built
    }
    throw err;
  }
}

/** True when the build in dist/ is newer than everything it was made from. */
export function upToDate(root: string): boolean {
  let built: number;
  try {
    // The bundle is written last, so it is as old as the last whole build.
    built = statSync(path.join(root, BIN)).mtimeMs;
  } catch {
    return false;
  }
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'esbuild.config.mjs'].map((f) => path.join(root, f));
  for (const dir of ['client', 'daemon']) inputs.push(...tree(path.join(root, dir)));
  // The bundle holds its dependencies' code too (pino, lowdb, node-cron, ...): an install that changed
  // them (npm rewrites node_modules/.package-lock.json) or the lock file calls for a new one.
  const installed = ['package-lock.json', 'node_modules/.package-lock.json'].map((f) => path.join(root, f)).filter((f) => existsSync(f));
  return [...inputs, ...installed].every((f) => statSync(f).mtimeMs < built);
}

/** A folder, its subfolders and their files. */
function tree(dir: string): string[] {
  const out = [dir];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(...(e.isDirectory() ? tree(p) : [p]));
  }
  return out;
}
