// When global-setup rebuilds dist/: the bundle is stale once anything it was made from is newer.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { upToDate } from './global-setup.ts';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const OLD = new Date('2020-01-01T00:00:00Z');
const BUILT = new Date('2021-01-01T00:00:00Z');
const NEW = new Date('2022-01-01T00:00:00Z');

/** A checkout whose every input is older than its build. */
function checkout(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pm-setup-'));
  roots.push(root);
  const files = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'esbuild.config.mjs',
    'client/cli.ts',
    'daemon/main.ts',
    'node_modules/.package-lock.json',
  ];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '');
  }
  for (const f of [...files, 'client', 'daemon']) utimesSync(path.join(root, f), OLD, OLD);
  mkdirSync(path.join(root, 'dist/bin'), { recursive: true });
  writeFileSync(path.join(root, 'dist/bin/portmand.js'), '');
  utimesSync(path.join(root, 'dist/bin/portmand.js'), BUILT, BUILT);
  return root;
}

describe('global setup: is dist/ up to date', () => {
  it('yes when everything it was made from is older', () => {
    expect(upToDate(checkout())).toBe(true);
  });

  it.each(['client/cli.ts', 'daemon/main.ts', 'esbuild.config.mjs', 'package.json'])('no when %s is newer', (file) => {
    const root = checkout();
    utimesSync(path.join(root, file), NEW, NEW);
    expect(upToDate(root)).toBe(false);
  });

  it.each(['package-lock.json', 'node_modules/.package-lock.json'])(
    'no when %s is newer: the bundle holds the dependencies an install changed',
    (file) => {
      const root = checkout();
      utimesSync(path.join(root, file), NEW, NEW);
      expect(upToDate(root)).toBe(false);
    },
  );

  it('a checkout without node_modules/.package-lock.json (another package manager) is judged on the rest', () => {
    const root = checkout();
    rmSync(path.join(root, 'node_modules/.package-lock.json'));
    utimesSync(path.join(root, 'node_modules'), OLD, OLD);
    expect(upToDate(root)).toBe(true);
  });
});
