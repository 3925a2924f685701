// `portmand service install|uninstall|status`: the daemon as this host's
// service (systemd socket + service on Linux, a launchd plist on macOS).
import os from 'node:os';
import path from 'node:path';
import { escapeControl } from '../escape.ts';
import { packageRoot } from '../version.ts';
import { applyInstall, applyUninstall, packageTemplates, runCommand, type Runner } from '../service/apply.ts';
import { InstallError, planInstall, planUninstall, scopeFor, statusCommand, type Host, type Scope } from '../service/plan.ts';
import { str, UsageError, type Context, type Verb } from './args.ts';

const ACTIONS = ['install', 'uninstall', 'status'] as const;

/** This process's host, for the plan (the real paths of this installation). */
export function currentHost(env: Readonly<Record<string, string | undefined>>): Host {
  const xdg = env.XDG_CONFIG_HOME;
  return {
    platform: process.platform,
    uid: process.getuid?.() ?? -1,
    home: os.homedir(),
    node: process.execPath,
    cli: path.join(packageRoot(), 'dist/bin/portmand.js'),
    ...(xdg && xdg.startsWith('/') && { xdgConfigHome: xdg }),
  };
}

export const service: Verb = {
  name: 'service',
  args: 'install|uninstall|status',
  summary: "install the daemon as this host's service (systemd units on Linux, a launchd plist on macOS)",
  details: [
    "install    write the units (or plist) with this installation's node and CLI paths,",
    '           create the socket group if missing, reload the manager, print the next command',
    'uninstall  stop the service and remove what install wrote',
    "status     the service manager's view (systemctl status / launchctl print)",
    '',
    'Default scope: --system as root, --user otherwise. Re-running install is safe.',
  ].join('\n'),
  options: {
    user: { type: 'boolean', help: 'per-user service (systemctl --user, a LaunchAgent)' },
    system: { type: 'boolean', help: 'system-wide service (root; a LaunchDaemon on macOS)' },
    print: { type: 'boolean', help: 'write nothing: print the files and the commands' },
    'socket-group': { type: 'string', value: 'NAME', help: 'who may connect to the system socket (default: portmand; staff on macOS)' },
    root: { type: 'string', value: 'DIR', help: 'write under DIR instead of / and run no command (packaging, tests)' },
  },
  positionals: { min: 1, max: 1 },
  run: (ctx) => runService(ctx, currentHost(ctx.io.env), runCommand),
};

/** The verb with its host and command runner given: tests pass a fake OS. */
export async function runService(ctx: Context, host: Host, run: Runner): Promise<number> {
  const action = ctx.positionals[0] as string;
  if (!(ACTIONS as readonly string[]).includes(action))
    throw new UsageError(`service: unknown action "${action}" (install, uninstall, status)`);
  const v = ctx.values;
  let scope: Scope;
  try {
    scope = scopeFor(host, { user: v.user === true, system: v.system === true });
    if (action === 'status') {
      const r = await run(statusCommand(host, scope));
      ctx.io.out(r.output.split('\n').map(escapeControl).join('\n'));
      return r.code === 0 ? 0 : 1;
    }
    const say = (line: string) => ctx.io.out(line);
    const root = str(v.root);
    if (action === 'uninstall') return (await applyUninstall(planUninstall(host, scope), { root, run, say })) ? 0 : 1;
    const plan = planInstall(host, scope, str(v['socket-group']), await packageTemplates());
    if (v.print === true) {
      if (ctx.json) return (ctx.io.out(JSON.stringify(plan, null, 2)), 0);
      for (const f of plan.files) ctx.io.out(`# ${f.path}\n${f.text}`);
      if (plan.group) ctx.io.out(`# if group ${plan.group.name} is missing: ${plan.group.create.join(' ')}`);
      for (const c of plan.reload) ctx.io.out(`# then: ${c.join(' ')}`);
      ctx.io.out(`# next: ${plan.next.join('\n#       ')}`);
      return 0;
    }
    const ok = await applyInstall(plan, { root, run, say });
    ctx.io.out(`\nNext${scope === 'system' ? ', as root' : ''}:\n${plan.next.map((c) => `  ${c}`).join('\n')}`);
    return ok ? 0 : 1;
  } catch (err) {
    if (err instanceof InstallError) throw new UsageError(err.message);
    throw err;
  }
}
