// The package version, for `portmand --version` and daemon.status.
import { readFileSync } from 'node:fs';

/** Reads package.json next to the sources (client/) or the build (dist/client/). */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portmand' && pkg.version) return pkg.version;
    } catch {
      // the layout differs between source and dist/: try the next candidate
    }
  }
  return 'unknown';
}
