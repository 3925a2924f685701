// The package version, for `portmand --version` and daemon.status.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Reads package.json above the sources (client/), the library (dist/client/) or the bundled bin (dist/bin/, dist/bin/chunks/). */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portmand' && pkg.version) return pkg.version;
    } catch {
      // the layout differs between source and dist/: try the next candidate
    }
  }
  return 'unknown';
}

/** The installed package's root directory (holding package.json, dist/, systemd/, launchd/). */
export function packageRoot(): string {
  for (const rel of ['../', '../../', '../../../']) {
    const dir = new URL(rel, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string };
      if (pkg.name === 'portmand') return fileURLToPath(dir).replace(/\/$/, '');
    } catch {
      // the layout differs between source and dist/: try the next candidate
    }
  }
  throw new Error('cannot find the portmand package directory');
}
