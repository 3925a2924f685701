// What `portmand service install|uninstall|status` does on this OS, as data:
// the files to write (from the templates in systemd/ and launchd/, filled
// with this installation's real paths), the commands to run, the next step.
// Pure: the host is an argument, so both OS branches are tested anywhere.

export interface Host {
  platform: string;
  uid: number;
  home: string;
  /** The node binary (process.execPath). */
  node: string;
  /** This package's compiled CLI (…/dist/bin/portmand.js). */
  cli: string;
  /** $XDG_CONFIG_HOME when set to an absolute path. */
  xdgConfigHome?: string;
}

export type Scope = 'system' | 'user';

export interface PlannedFile {
  path: string;
  text: string;
}

export interface Plan {
  manager: 'systemd' | 'launchd';
  scope: Scope;
  files: PlannedFile[];
  /** Directories the manager will not create itself (launchd's log directory). */
  dirs: string[];
  /** The socket group: a command that succeeds when it exists, and one that creates it. */
  group: { name: string; exists: string[]; create: string[] } | null;
  /** Makes the manager read the new files. */
  reload: string[][];
  /** The commands to run next, exactly. */
  next: string[];
}

export type Templates = (name: string) => string;

const LABEL = 'dev.portmand';

export class InstallError extends Error {
  override name = 'InstallError';
}

/** The scope asked for, else system for root and user for everyone else. */
export function scopeFor(host: Host, asked: { user?: boolean; system?: boolean }): Scope {
  if (asked.user && asked.system) throw new InstallError('--user and --system exclude each other');
  if (asked.user) return 'user';
  if (asked.system) return 'system';
  return host.uid === 0 ? 'system' : 'user';
}

export function planInstall(host: Host, scope: Scope, socketGroup: string | undefined, templates: Templates): Plan {
  if (socketGroup !== undefined && scope === 'user')
    throw new InstallError("--socket-group is for --system: a per-user socket is its user's alone (0600)");
  if (socketGroup !== undefined && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(socketGroup))
    throw new InstallError(`--socket-group must be a group name, got ${JSON.stringify(socketGroup)}`);
  return host.platform === 'darwin' ? launchdPlan(host, scope, socketGroup, templates) : systemdPlan(host, scope, socketGroup, templates);
}

function systemdPlan(host: Host, scope: Scope, socketGroup: string | undefined, templates: Templates): Plan {
  const exec = [host.node, host.cli].map(systemdQuote).join(' ');
  if (scope === 'system') {
    const group = socketGroup ?? 'portmand';
    const dir = '/etc/systemd/system';
    return {
      manager: 'systemd',
      scope,
      files: [
        { path: `${dir}/portmand.socket`, text: fill(templates('systemd/portmand.socket'), { GROUP: group }) },
        { path: `${dir}/portmand.service`, text: fill(templates('systemd/portmand.service'), { EXEC: exec }) },
      ],
      dirs: [],
      group: { name: group, exists: ['getent', 'group', group], create: ['groupadd', '--system', group] },
      reload: [['systemctl', 'daemon-reload']],
      next: [
        'systemctl enable --now portmand.socket',
        `usermod -aG ${group} USER   # for each USER who may connect; it applies from their next login`,
      ],
    };
  }
  const dir = `${host.xdgConfigHome ?? `${host.home}/.config`}/systemd/user`;
  return {
    manager: 'systemd',
    scope,
    files: [
      { path: `${dir}/portmand.socket`, text: fill(templates('systemd/portmand-user.socket'), {}) },
      { path: `${dir}/portmand.service`, text: fill(templates('systemd/portmand-user.service'), { EXEC: exec }) },
    ],
    dirs: [],
    group: null,
    reload: [['systemctl', '--user', 'daemon-reload']],
    next: ['systemctl --user enable --now portmand.socket'],
  };
}

function launchdPlan(host: Host, scope: Scope, socketGroup: string | undefined, templates: Templates): Plan {
  const paths = { NODE: xmlEscape(host.node), CLI: xmlEscape(host.cli), HOME: xmlEscape(host.home) };
  if (scope === 'system') {
    // Every local account on a Mac is in staff; name another group to narrow it.
    const group = socketGroup ?? 'staff';
    const file = `/Library/LaunchDaemons/${LABEL}.plist`;
    return {
      manager: 'launchd',
      scope,
      files: [{ path: file, text: fill(templates('launchd/portmand-system.plist'), { ...paths, GROUP: xmlEscape(group) }) }],
      dirs: ['/Library/Logs/portmand'],
      group: { name: group, exists: ['dscl', '.', '-read', `/Groups/${group}`], create: ['dseditgroup', '-o', 'create', group] },
      reload: [],
      next: [`launchctl bootout system/${LABEL} 2>/dev/null; launchctl bootstrap system ${shellQuote(file)}`],
    };
  }
  const file = `${host.home}/Library/LaunchAgents/${LABEL}.plist`;
  return {
    manager: 'launchd',
    scope,
    files: [{ path: file, text: fill(templates('launchd/portmand-user.plist'), paths) }],
    dirs: [`${host.home}/Library/Logs/portmand`],
    group: null,
    reload: [],
    next: [`launchctl bootout gui/${host.uid}/${LABEL} 2>/dev/null; launchctl bootstrap gui/${host.uid} ${shellQuote(file)}`],
  };
}

/** What uninstall removes, and the commands that stop the service first and reload after. */
export function planUninstall(host: Host, scope: Scope): { files: string[]; stop: string[][]; reload: string[][] } {
  const plan = planInstall(host, scope, undefined, () => '');
  if (plan.manager === 'launchd') {
    const target = scope === 'system' ? `system/${LABEL}` : `gui/${host.uid}/${LABEL}`;
    return { files: plan.files.map((f) => f.path), stop: [['launchctl', 'bootout', target]], reload: [] };
  }
  const user = scope === 'user' ? ['--user'] : [];
  return {
    files: plan.files.map((f) => f.path),
    stop: [['systemctl', ...user, 'disable', '--now', 'portmand.socket', 'portmand.service']],
    reload: plan.reload,
  };
}

/** The manager's own view of the service. */
export function statusCommand(host: Host, scope: Scope): string[] {
  if (host.platform === 'darwin') return ['launchctl', 'print', scope === 'system' ? `system/${LABEL}` : `gui/${host.uid}/${LABEL}`];
  return ['systemctl', ...(scope === 'user' ? ['--user'] : []), 'status', '--no-pager', 'portmand.socket', 'portmand.service'];
}

function fill(template: string, values: Record<string, string>): string {
  const text = template.replace(/@([A-Z]+)@/g, (whole, key: string) => values[key] ?? whole);
  const left = /@[A-Z]+@/.exec(text);
  if (left) throw new InstallError(`template placeholder ${left[0]} has no value`);
  return text;
}

/** One ExecStart= word: systemd splits on blanks, expands % and $, and undoes C escapes inside quotes. */
export function systemdQuote(word: string): string {
  if (/[\n\r]/.test(word)) throw new InstallError(`a path with a line break cannot go into a unit: ${JSON.stringify(word)}`);
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@+=:,./%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** For the printed next command only: a path as one shell word. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
