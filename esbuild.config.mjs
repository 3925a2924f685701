// Builds the `portmand` command (dist/bin/portmand.js) as one bundle with
// split chunks. Node 20 spends most of a start resolving, reading and
// linking modules one file at a time: the daemon loaded some 210 files and
// took ~600 ms of CPU to be ready, the bundle ~300 ms. Code that is loaded
// lazily (the daemon behind `portmand daemon`, the schemas that only word a
// refusal) stays in chunks of its own, loaded when needed.
//
// The library (`portmand/client`, `portmand/get-port`) is not bundled: tsc
// emits it with its type declarations (tsconfig.build.json).
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const outdir = 'dist/bin';

const result = await build({
  entryPoints: { portmand: 'client/cli.ts' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.6',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  metafile: true,
  // systeminformation is the scan source off Linux only, loaded lazily there: it stays the
  // installed package rather than a bundle we could not run on macOS here.
  external: ['systeminformation'],
  // Bundled CommonJS (pino, lowdb's deps) calls require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __portmandRequire } from 'node:module';\nconst require = __portmandRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Which sources went into which chunk: tests read it to tell what a process loaded.
writeFileSync(`${outdir}/meta.json`, JSON.stringify(result.metafile));

// Units and plists that `portmand service install` wrote before the command was bundled run
// dist/client/cli.js: after an upgrade they must still start the daemon, not fail to find it.
mkdirSync('dist/client', { recursive: true });
writeFileSync(
  'dist/client/cli.js',
  "#!/usr/bin/env node\n// The command's old path (units written before it was bundled): runs dist/bin/portmand.js.\nimport '../bin/portmand.js';\n",
  { mode: 0o755 },
);
