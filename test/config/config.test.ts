import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFilePath } from '../../client/paths.ts';
import { buildConfig, ConfigError, loadConfig, readConfigFile } from '../../daemon/config/config.ts';
import { checkConfigFile, effectiveConfig } from '../../daemon/config/report.ts';
import { abstractRefusal, abstractSocketsWork } from '../../daemon/config/portserver.ts';

const user = { platform: 'linux', uid: 1000, home: '/home/ada' };
const file = (json: Record<string, unknown>) => ({ path: '/etc/portmand.json', json });

describe('buildConfig', () => {
  it('runs with embedded defaults and no file: user paths, 10 s scans, background sync', async () => {
    const c = await buildConfig({ XDG_RUNTIME_DIR: '/run/user/1000' }, null, user);
    expect(c).toMatchObject({
      socketPath: '/run/user/1000/portmand/portmand.sock',
      stateDir: '/home/ada/.local/state/portmand',
      scanIntervalSec: 10,
      healthIntervalSec: 30,
      sync: 'background',
      groupAccess: false,
      logFile: null,
    });
    expect(c.ranges.map((r) => r.name)).toEqual(['system', 'registered', 'dynamic']);
  });

  it('uses the root paths of the contract as root', async () => {
    const c = await buildConfig({}, null, { ...user, uid: 0 });
    expect(c.socketPath).toBe('/run/portmand/portmand.sock');
    expect(c.stateDir).toBe('/var/lib/portmand');
  });

  it('takes ranges and reservations from the file; environment wins over the file', async () => {
    const c = await buildConfig(
      { PORTMAND_SCAN_INTERVAL: '3', PORTMAND_SYNC: 'ack' },
      file({ scanIntervalSec: 20, ranges: [{ name: 'web', start: 8000, end: 8099 }], reservations: [{ port: 5432, for: 'postgres' }] }),
      user,
    );
    expect(c.scanIntervalSec).toBe(3);
    expect(c.sync).toBe('ack');
    expect(c.ranges.at(-1)).toEqual({ name: 'web', start: 8000, end: 8099, purpose: 'configured' });
    expect(c.reservations).toEqual([{ port: 5432, protocol: 'tcp', for: 'postgres' }]);
  });

  it('reads every setting from the environment first, then the file; an empty variable is unset', async () => {
    const c = await buildConfig(
      { PORTMAND_LOG_LEVEL: '', PORTMAND_HEALTH_INTERVAL: ' 7 ' },
      file({ logLevel: 'warn', healthIntervalSec: 60, groupAccess: true, avoidEphemeral: false, sync: 'ack' }),
      user,
    );
    expect(c).toMatchObject({ logLevel: 'warn', healthIntervalSec: 7, groupAccess: true, avoidEphemeral: false, sync: 'ack' });
    expect((await buildConfig({ PORTMAND_LOG_LEVEL: 'debug' }, file({ logLevel: 'warn' }), user)).logLevel).toBe('debug');
  });

  const bad: Array<[string, Record<string, string>, Record<string, unknown> | null, RegExp]> = [
    ['a scan interval that is not a number', { PORTMAND_SCAN_INTERVAL: 'abc' }, null, /PORTMAND_SCAN_INTERVAL/],
    ['a zero health interval', { PORTMAND_HEALTH_INTERVAL: '0' }, null, /PORTMAND_HEALTH_INTERVAL/],
    ['an unknown sync mode', { PORTMAND_SYNC: 'always' }, null, /^PORTMAND_SYNC must be one of "ack", "background", got "always"$/],
    [
      'an unknown log level in the environment',
      { PORTMAND_LOG_LEVEL: 'loud' },
      null,
      /^PORTMAND_LOG_LEVEL must be one of "fatal", .*"silent", got "loud"$/,
    ],
    ['an unknown log level in the file', {}, { logLevel: 'loud' }, /^\/etc\/portmand\.json: logLevel must be one of .*, got "loud"$/],
    ['a log level of the wrong type in the file', {}, { logLevel: 5 }, /logLevel must be one of/],
    [
      'a scan interval in hex',
      { PORTMAND_SCAN_INTERVAL: '0x10' },
      null,
      /^PORTMAND_SCAN_INTERVAL must be a whole number of seconds from 1 to 86400, got "0x10"$/,
    ],
    [
      'a scan interval too long for a timer',
      {},
      { scanIntervalSec: 3_000_000 },
      /^\/etc\/portmand\.json: scanIntervalSec must be a whole number of seconds/,
    ],
    ['a health interval of a fraction in the file', {}, { healthIntervalSec: 1.5 }, /healthIntervalSec must be a whole number/],
    [
      'groupAccess that is not a boolean',
      {},
      { groupAccess: 'yes' },
      /^\/etc\/portmand\.json: groupAccess must be true or false, got "yes"$/,
    ],
    ['avoidEphemeral that is not a boolean', {}, { avoidEphemeral: 0 }, /avoidEphemeral must be true or false, got 0/],
    ['a sync mode of the wrong case in the file', {}, { sync: 'ACK' }, /^\/etc\/portmand\.json: sync must be one of/],
    [
      'a range purpose that is not a string',
      {},
      { ranges: [{ name: 'x', start: 1, end: 2, purpose: 7 }] },
      /ranges\[0\]\.purpose must be a string/,
    ],
    ['a reservation that is not an object', {}, { reservations: [5432] }, /reservations\[0\] must be an object/],
    [
      'a reservation for a non-string',
      {},
      { reservations: [{ port: 5432, for: ['pg'] }] },
      /reservations\[0\]\.for must be 1-63 characters of a-z 0-9 \. _ -.*, got \["pg"\]$/,
    ],
    [
      'a reservation protocol unknown',
      {},
      { reservations: [{ port: 5432, protocol: 'sctp' }] },
      /reservations\[0\]\.protocol must be one of "tcp", "udp"/,
    ],
    ['a range named like a built-in one', {}, { ranges: [{ name: 'system', start: 1, end: 2 }] }, /built-in/],
    ['a range backwards', {}, { ranges: [{ name: 'x', start: 9, end: 2 }] }, /after end/],
    ['a reservation off the port scale', {}, { reservations: [{ port: 70000 }] }, /reservations\[0\]\.port/],
    [
      'a socket group in the environment that is not a group name',
      { PORTMAND_SOCKET_GROUP: 'a b' },
      null,
      /^PORTMAND_SOCKET_GROUP must be a group name, got "a b"$/,
    ],
    ['a socket path too long for a Unix socket', { PORTMAND_SOCKET: `/tmp/${'a'.repeat(120)}/s.sock` }, null, /shorter path/],
  ];
  it.each(bad)('refuses %s with a message that names it', async (_, env, json, message) => {
    await expect(buildConfig(env, json ? file(json) : null, user)).rejects.toThrow(ConfigError);
    await expect(buildConfig(env, json ? file(json) : null, user)).rejects.toThrow(message);
  });
});

describe('the health key', () => {
  it('defaults to local checks only; allowRemote lets checks reach other hosts', async () => {
    expect((await buildConfig({}, null, user)).health).toEqual({ allowRemote: false });
    expect((await buildConfig({}, file({ health: { allowRemote: true, failuresBeforeUnhealthy: 3 } }), user)).health).toEqual({
      allowRemote: true,
      failuresBeforeUnhealthy: 3,
    });
  });

  it.each([
    [{ health: true }, /health must be an object/],
    [{ health: { allowRemote: 'yes' } }, /health\.allowRemote must be true or false, got "yes"/],
    [{ health: { successesBeforeHealthy: 0 } }, /health\.successesBeforeHealthy must be a whole number from 1 to 100, got 0$/],
    [{ health: { allowremote: true } }, /health\.allowremote is not a known key/],
  ])('%o is a configuration error naming the key', async (json, message) => {
    await expect(buildConfig({}, file(json), user)).rejects.toThrow(ConfigError);
    await expect(buildConfig({}, file(json), user)).rejects.toThrow(message);
  });
});

describe('where each value came from', () => {
  it('records the environment, the file (with its path and key) and the default, per key path', async () => {
    const c = await buildConfig(
      { PORTMAND_SCAN_INTERVAL: '3', PORTMAND_SOCKET: '/tmp/pm.sock', PORTMAND_SOCKET_GROUP: 'ops', PORTMAND_LOG_LEVEL: '' },
      file({
        scanIntervalSec: 20,
        healthIntervalSec: 60,
        logLevel: 'warn',
        ranges: [{ name: 'web', start: 8000, end: 8099 }],
        socket: { mode: '0660' },
        health: { allowRemote: true },
      }),
      user,
    );
    expect(c.sources).toMatchObject({
      scanIntervalSec: { from: 'env', variable: 'PORTMAND_SCAN_INTERVAL' },
      healthIntervalSec: { from: 'file', path: '/etc/portmand.json', key: 'healthIntervalSec' },
      logLevel: { from: 'file', path: '/etc/portmand.json', key: 'logLevel' },
      sync: { from: 'default' },
      socketPath: { from: 'env', variable: 'PORTMAND_SOCKET' },
      stateDir: { from: 'default' },
      ranges: { from: 'file', path: '/etc/portmand.json', key: 'ranges' },
      reservations: { from: 'default' },
      'socket.group': { from: 'env', variable: 'PORTMAND_SOCKET_GROUP' },
      'socket.mode': { from: 'file', path: '/etc/portmand.json', key: 'socket.mode' },
      'health.allowRemote': { from: 'file', path: '/etc/portmand.json', key: 'health.allowRemote' },
      'health.failuresBeforeUnhealthy': { from: 'default' },
    });
  });

  it('shows every setting of Config, in its order, with the socket mode as the file writes it', async () => {
    const view = effectiveConfig(await buildConfig({ PORTMAND_LOG_LEVEL: 'debug' }, file({ socket: { group: 'portmand' } }), user));
    expect(view.file).toEqual({ path: '/etc/portmand.json', from: 'default', found: true });
    expect(view.settings.map((s) => s.key)).toEqual([
      'socketPath',
      'stateDir',
      'logFile',
      'logLevel',
      'scanIntervalSec',
      'healthIntervalSec',
      'ranges',
      'reservations',
      'groupAccess',
      'socket.group',
      'socket.mode',
      'sync',
      'avoidEphemeral',
      'health.allowRemote',
      'health.failuresBeforeUnhealthy',
      'health.successesBeforeHealthy',
      'access.adminGroup',
      'limits.mutationsPerSec',
      'limits.burst',
      'limits.maxConnections',
      'limits.maxConnectionsPerUser',
      'limits.maxPortsPerUser',
      'limits.idleTimeoutSec',
      'conflicts',
      'alerts',
      'portserver',
    ]);
    expect(view.settings.find((s) => s.key === 'socket.mode')).toEqual({ key: 'socket.mode', value: '0660', source: { from: 'default' } });
    expect(view.settings.find((s) => s.key === 'logLevel')).toEqual({
      key: 'logLevel',
      value: 'debug',
      source: { from: 'env', variable: 'PORTMAND_LOG_LEVEL' },
    });
    expect(view.settings.find((s) => s.key === 'logFile')).toEqual({ key: 'logFile', value: null, source: { from: 'default' } });
  });

  it('says when there was no file at the default location', async () => {
    expect(effectiveConfig(await buildConfig({}, null, user)).file).toEqual({
      path: '/home/ada/.config/portmand/config.json',
      from: 'default',
      found: false,
    });
  });
});

describe('unknown keys', () => {
  it.each([
    ['at the top level', { colour: 'red' }, '/etc/portmand.json: colour is not a known key (expected: ranges, reservations'],
    ['in socket', { socket: { owner: 'x' } }, '/etc/portmand.json: socket.owner is not a known key (expected: group, mode)'],
    ['in health', { health: { allowremote: true } }, '/etc/portmand.json: health.allowremote is not a known key'],
    [
      'in a range',
      { ranges: [{ name: 'web', start: 1, end: 2, colour: 'x' }] },
      '/etc/portmand.json: ranges[0].colour is not a known key (expected: name, start, end, purpose)',
    ],
    [
      'in a reservation',
      { reservations: [{ port: 1 }, { port: 2, owner: 'x' }] },
      '/etc/portmand.json: reservations[1].owner is not a known key (expected: port, protocol, for, reason)',
    ],
    ['that is not a plain name', { 'log level': 'x' }, '/etc/portmand.json: ["log level"] is not a known key'],
  ])('%s is an error naming its path', async (_, json, message) => {
    await expect(buildConfig({}, file(json), user)).rejects.toThrow(message);
  });

  it('accepts the keys other parts of the contract name', async () => {
    const json = { access: { adminGroup: 'wheel' }, limits: {}, conflicts: {}, alerts: [], portserver: { address: '@pm' } };
    await expect(buildConfig({}, file(json), user)).resolves.not.toThrow();
  });
});

describe('every problem at once', () => {
  it('reports each bad key of a file, not only the first', async () => {
    const json = {
      logLevel: 'loud',
      colour: 'red',
      scanIntervalSec: 0,
      ranges: [
        { name: 'a', start: 9, end: 2 },
        { name: 'b', start: 1, end: 70000 },
      ],
      health: { allowRemote: 'no', x: 1 },
    };
    let err: ConfigError | undefined;
    try {
      await buildConfig({}, file(json), user);
    } catch (e) {
      err = e as ConfigError;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toHaveLength(7);
    for (const key of ['colour', 'ranges[0]', 'ranges[1].end', 'logLevel', 'scanIntervalSec', 'health.allowRemote', 'health.x']) {
      expect(err!.problems.some((p) => p.startsWith(`/etc/portmand.json: ${key}`))).toBe(true);
    }
    expect(err!.message).toBe(err!.problems.join('\n'));
  });
});

describe('the config file location', () => {
  it.each([
    ['a Linux system daemon', {}, { platform: 'linux', uid: 0, home: '/root' }, '/etc/portmand/config.json'],
    ['a Linux user', {}, user, '/home/ada/.config/portmand/config.json'],
    ['a Linux user with XDG_CONFIG_HOME', { XDG_CONFIG_HOME: '/cfg/' }, user, '/cfg/portmand/config.json'],
    [
      'a Linux user with a relative XDG_CONFIG_HOME (ignored, as the spec says)',
      { XDG_CONFIG_HOME: 'cfg' },
      user,
      '/home/ada/.config/portmand/config.json',
    ],
    ['a macOS system daemon', {}, { platform: 'darwin', uid: 0, home: '/var/root' }, '/Library/Application Support/portmand/config.json'],
    [
      'a macOS user',
      {},
      { platform: 'darwin', uid: 501, home: '/Users/ada' },
      '/Users/ada/Library/Application Support/portmand/config.json',
    ],
    [
      'a macOS user with XDG_CONFIG_HOME',
      { XDG_CONFIG_HOME: '/cfg' },
      { platform: 'darwin', uid: 501, home: '/Users/ada' },
      '/cfg/portmand/config.json',
    ],
  ])('%s: %s', async (_, env, ctx, expected) => {
    expect(configFilePath(env, ctx)).toEqual({ path: expected, from: 'default' });
    expect((await buildConfig(env, null, ctx)).configLocation).toEqual({ path: expected, from: 'default' });
  });

  it('PORTMAND_CONFIG wins, as root too', async () => {
    expect(configFilePath({ PORTMAND_CONFIG: 'my.json' }, { platform: 'linux', uid: 0, home: '/root' })).toEqual({
      path: 'my.json',
      from: 'env',
    });
  });

  describe('reading it', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'pm-cfg-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const ctx = () => ({ platform: 'linux', uid: 1000, home: dir });

    it('a missing file at the default location means embedded defaults', async () => {
      expect(readConfigFile({}, ctx())).toBeNull();
      expect((await loadConfig({}, ctx())).configFile).toBeNull();
    });

    it('a file at the default location is read', async () => {
      mkdirSync(path.join(dir, '.config/portmand'), { recursive: true });
      writeFileSync(path.join(dir, '.config/portmand/config.json'), '{"scanIntervalSec": 7}');
      const c = await loadConfig({}, ctx());
      expect(c.scanIntervalSec).toBe(7);
      expect(c.sources.scanIntervalSec).toEqual({
        from: 'file',
        path: path.join(dir, '.config/portmand/config.json'),
        key: 'scanIntervalSec',
      });
    });

    it('config check: no file at the default location is not a problem; one named and missing is', async () => {
      expect(await checkConfigFile(undefined, {}, ctx())).toEqual({
        path: path.join(dir, '.config/portmand/config.json'),
        found: false,
        problems: [],
      });
      const named = await checkConfigFile(path.join(dir, 'nope.json'), {}, ctx());
      expect(named.problems).toEqual([expect.stringContaining(`cannot read config file ${path.join(dir, 'nope.json')}`)]);
    });

    it('a missing file named by PORTMAND_CONFIG is an error naming the variable', async () => {
      expect(() => readConfigFile({ PORTMAND_CONFIG: path.join(dir, 'nope.json') }, ctx())).toThrow(
        /cannot read config file .*nope\.json \(PORTMAND_CONFIG\)/,
      );
    });
  });
});

describe("daemon.config never shows an alert webhook's secrets", () => {
  it('keeps scheme and host; drops user-info, path, query and fragment', async () => {
    const json = {
      alerts: [
        { on: ['conflict_detected'], webhook: 'https://bot:s3cret@hooks.example/notify?token=t0ken#x' },
        // Slack's and Discord's incoming webhooks carry their secret in the path.
        { on: ['conflict_detected'], webhook: 'https://hooks.slack.example/services/T0000/B0000/pathS3cret' },
        { on: ['conflict_detected'], webhook: 'http://127.0.0.1:9000/' },
      ],
    };
    const view = effectiveConfig(await buildConfig({}, file(json), user));
    const alerts = view.settings.find((s) => s.key === 'alerts')!.value as Array<{ webhook: string }>;
    expect(alerts.map((a) => a.webhook)).toEqual([
      'https://hooks.example (path, credentials, query and fragment not shown)',
      'https://hooks.slack.example (path, credentials, query and fragment not shown)',
      'http://127.0.0.1:9000',
    ]);
    expect(JSON.stringify(view)).not.toMatch(/s3cret|t0ken|bot:|S3cret|notify/);
  });
});

describe('the conflicts and alerts keys', () => {
  const problem = async (json: Record<string, unknown>): Promise<string> => {
    try {
      await buildConfig({}, file(json), user);
    } catch (e) {
      return (e as ConfigError).problems.join('\n');
    }
    return '';
  };

  it('are read with their defaults, and a good file gives what it says', async () => {
    const config = await buildConfig(
      {},
      file({
        conflicts: { autoResolve: [{ type: 'foreign_listener', strategy: 'auto' }], maxMovesPerHour: 5 },
        alerts: [{ on: ['conflict_detected'], command: ['true'] }],
      }),
      user,
    );
    expect(config.conflicts).toEqual({ autoResolve: [{ type: 'foreign_listener', strategy: 'auto' }], maxMovesPerHour: 5 });
    expect(config.alerts).toEqual([{ on: ['conflict_detected'], command: ['true'], timeoutMs: 5000 }]);
    expect(await buildConfig({}, file({}), user)).toMatchObject({ conflicts: { autoResolve: [], maxMovesPerHour: 3 }, alerts: [] });
  });

  it.each([
    [{ conflicts: { autoResolve: [{ type: 'nope', strategy: 'auto' }] } }, 'conflicts.autoResolve[0].type must be one of'],
    [{ conflicts: { autoResolve: [{ type: 'drift' }] } }, 'conflicts.autoResolve[0].strategy is required'],
    [{ conflicts: { maxMovesPerHour: -1 } }, 'conflicts.maxMovesPerHour must be a whole number from 0 to 1000'],
    [{ conflicts: { often: 1 } }, 'conflicts.often is not a known key'],
    [{ alerts: [{ on: ['conflict_detected'] }] }, 'alerts[0] needs a command or a webhook'],
    [{ alerts: [{ on: ['nope'], command: ['x'] }] }, 'alerts[0].on[0] must be one of'],
    [{ alerts: [{ on: ['conflict_detected'], webhook: 'ftp://x' }] }, 'alerts[0].webhook must be an http:// or https:// URL'],
    [{ alerts: {} }, 'alerts must be an array of'],
  ])('%j is refused naming its key path', async (json, said) => {
    expect(await problem(json)).toContain(`/etc/portmand.json: ${said}`);
  });
});

describe('the portserver key', () => {
  const problem = async (json: Record<string, unknown>, ctx = user): Promise<string> => {
    try {
      await buildConfig({}, file(json), ctx);
    } catch (e) {
      return (e as ConfigError).problems.join('\n');
    }
    return '';
  };

  it('is null when absent, and takes a path, or an abstract name on Linux', async () => {
    expect((await buildConfig({}, file({}), user)).portserver).toBeNull();
    expect((await buildConfig({}, file({ portserver: { address: '/run/portserver.sock' } }), user)).portserver).toEqual({
      address: '/run/portserver.sock',
    });
    expect((await buildConfig({}, file({ portserver: { address: '@portserver' } }), user)).portserver).toEqual({ address: '@portserver' });
    expect((await buildConfig({}, file({ portserver: { address: '/tmp/ps.sock' } }), { ...user, platform: 'darwin' })).portserver).toEqual({
      address: '/tmp/ps.sock',
    });
  });

  it.each<[string, Record<string, unknown>, string, string?]>([
    ['not an object', { portserver: '@x' }, 'portserver must be an object { address }'],
    ['an unknown key', { portserver: { address: '@x', pid: 1 } }, 'portserver.pid is not a known key'],
    ['no address', { portserver: {} }, 'portserver.address is required'],
    ['a number', { portserver: { address: 5 } }, 'portserver.address must be an absolute socket path, or "@name"'],
    ['a relative path', { portserver: { address: 'ps.sock' } }, 'portserver.address must be an absolute socket path'],
    ['a bare @', { portserver: { address: '@' } }, 'portserver.address "@" needs a name'],
    ['a control character', { portserver: { address: '@a\nb' } }, 'portserver.address must not contain control characters'],
    ['too long', { portserver: { address: `/${'x'.repeat(120)}` } }, 'portserver.address is 121 bytes'],
    [
      'an abstract name off Linux',
      { portserver: { address: '@x' } },
      'portserver.address "@x" names an abstract socket, which only Linux has',
      'darwin',
    ],
  ])('%s is refused naming its key path', async (_, json, said, platform) => {
    expect(await problem(json, platform ? { ...user, platform } : user)).toContain(`/etc/portmand.json: ${said}`);
  });

  it.each([
    ['1.46.0', false],
    ['1.47.9', false],
    ['1.48.0', true],
    ['1.51.0', true],
    ['2.0.0', true],
  ])('abstract names work with libuv %s: %s', async (uv, works) => {
    expect(abstractSocketsWork(uv)).toBe(works);
    expect(abstractRefusal({ address: '@ps' }, uv) === null).toBe(works);
    expect(abstractRefusal({ address: '/run/ps.sock' }, uv)).toBeNull();
  });

  it("may not be the daemon's own socket", async () => {
    const env = { PORTMAND_SOCKET: '/tmp/pm.sock' };
    await expect(buildConfig(env, file({ portserver: { address: '/tmp/pm.sock' } }), user)).rejects.toThrow("is the daemon's own socket");
  });
});
