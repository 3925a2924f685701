// Carries out a Plan: writes the files (atomically, so re-running install is
// safe), makes the group and reloads the manager. With `root` the files go
// under that directory and no command runs (packaging, tests).
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { escapeControl } from '../escape.ts';
import { packageRoot } from '../version.ts';
import type { Plan, Templates } from './plan.ts';

export interface RunResult {
  code: number;
  output: string;
}

export type Runner = (argv: string[]) => Promise<RunResult>;

/** Runs a command without a shell; a missing program is exit 127, as in a shell. */
export const runCommand: Runner = (argv) =>
  new Promise((resolve) => {
    execFile(argv[0] as string, argv.slice(1), { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 127) : 0;
      resolve({ code, output: `${stdout}${stderr}`.trim() });
    });
  });

/** The unit and plist templates shipped with this package. */
export async function packageTemplates(): Promise<Templates> {
  const root = packageRoot();
  const names = [
    'systemd/portmand.socket',
    'systemd/portmand.service',
    'systemd/portmand-user.socket',
    'systemd/portmand-user.service',
    'launchd/portmand-system.plist',
    'launchd/portmand-user.plist',
  ];
  const texts = new Map(await Promise.all(names.map(async (n) => [n, await readFile(path.join(root, n), 'utf8')] as const)));
  return (name) => {
    const text = texts.get(name);
    if (text === undefined) throw new Error(`no template ${name}`);
    return text;
  };
}

export interface ApplyOptions {
  root?: string;
  run: Runner;
  say(line: string): void;
}

/** Writes the plan's files and runs its commands; resolves to false if a command failed. */
export async function applyInstall(plan: Plan, opts: ApplyOptions): Promise<boolean> {
  const at = (p: string) => (opts.root ? path.join(opts.root, p) : p);
  for (const dir of plan.dirs) await mkdir(at(dir), { recursive: true, mode: 0o755 });
  for (const file of plan.files) {
    const target = at(file.path);
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    const tmp = `${target}.tmp-${process.pid}`;
    await writeFile(tmp, file.text, { mode: 0o644 });
    await rename(tmp, target);
    opts.say(`wrote ${target}`);
  }
  const commands: string[][] = [];
  if (plan.group) {
    if (opts.root || (await opts.run(plan.group.exists)).code !== 0) commands.push(plan.group.create);
    else opts.say(`group ${plan.group.name} exists`);
  }
  commands.push(...plan.reload);
  return runAll(commands, opts);
}

/** Stops the service, removes the files, reloads; a file already gone is fine. */
export async function applyUninstall(
  plan: { files: string[]; stop: string[][]; reload: string[][] },
  opts: ApplyOptions,
): Promise<boolean> {
  // Stopping fails when it was never started or loaded: not a reason to keep the files.
  if (!opts.root) for (const argv of plan.stop) await opts.run(argv);
  for (const file of plan.files) {
    const target = opts.root ? path.join(opts.root, file) : file;
    await rm(target, { force: true });
    opts.say(`removed ${target}`);
  }
  return runAll(plan.reload, opts);
}

async function runAll(commands: string[][], opts: ApplyOptions): Promise<boolean> {
  let ok = true;
  for (const argv of commands) {
    if (opts.root) {
      opts.say(`not run (--root): ${argv.join(' ')}`);
      continue;
    }
    const r = await opts.run(argv);
    if (r.code === 0) opts.say(`ran ${argv.join(' ')}`);
    else {
      ok = false;
      opts.say(
        `failed (exit ${r.code}): ${argv.join(' ')}${r.output ? `\n  ${r.output.split('\n').map(escapeControl).join('\n  ')}` : ''}`,
      );
    }
  }
  return ok;
}
