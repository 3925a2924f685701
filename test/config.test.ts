import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../daemon/config.ts';

const user = { platform: 'linux', uid: 1000, home: '/home/ada' };
const file = (json: Record<string, unknown>) => ({ path: '/etc/portmand.json', json });

describe('buildConfig', () => {
  it('runs with embedded defaults and no file: user paths, 10 s scans, background sync', () => {
    const c = buildConfig({ XDG_RUNTIME_DIR: '/run/user/1000' }, null, user);
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

  it('uses the root paths of the contract as root', () => {
    const c = buildConfig({}, null, { ...user, uid: 0 });
    expect(c.socketPath).toBe('/run/portmand/portmand.sock');
    expect(c.stateDir).toBe('/var/lib/portmand');
  });

  it('takes ranges and reservations from the file; environment wins over the file', () => {
    const c = buildConfig({ PORTMAND_SCAN_INTERVAL: '3', PORTMAND_SYNC: 'ack' }, file({ scanIntervalSec: 20, ranges: [{ name: 'web', start: 8000, end: 8099 }], reservations: [{ port: 5432, for: 'postgres' }] }), user);
    expect(c.scanIntervalSec).toBe(3);
    expect(c.sync).toBe('ack');
    expect(c.ranges.at(-1)).toEqual({ name: 'web', start: 8000, end: 8099, purpose: 'configured' });
    expect(c.reservations).toEqual([{ port: 5432, protocol: 'tcp', for: 'postgres' }]);
  });

  it('reads every setting from the environment first, then the file; an empty variable is unset', () => {
    const c = buildConfig(
      { PORTMAND_LOG_LEVEL: '', PORTMAND_HEALTH_INTERVAL: ' 7 ' },
      file({ logLevel: 'warn', healthIntervalSec: 60, groupAccess: true, avoidEphemeral: false, sync: 'ack' }),
      user,
    );
    expect(c).toMatchObject({ logLevel: 'warn', healthIntervalSec: 7, groupAccess: true, avoidEphemeral: false, sync: 'ack' });
    expect(buildConfig({ PORTMAND_LOG_LEVEL: 'debug' }, file({ logLevel: 'warn' }), user).logLevel).toBe('debug');
  });

  const bad: Array<[string, Record<string, string>, Record<string, unknown> | null, RegExp]> = [
    ['a scan interval that is not a number', { PORTMAND_SCAN_INTERVAL: 'abc' }, null, /PORTMAND_SCAN_INTERVAL/],
    ['a zero health interval', { PORTMAND_HEALTH_INTERVAL: '0' }, null, /PORTMAND_HEALTH_INTERVAL/],
    ['an unknown sync mode', { PORTMAND_SYNC: 'always' }, null, /^PORTMAND_SYNC must be one of "ack", "background", got "always"$/],
    ['an unknown log level in the environment', { PORTMAND_LOG_LEVEL: 'loud' }, null, /^PORTMAND_LOG_LEVEL must be one of "fatal", .*"silent", got "loud"$/],
    ['an unknown log level in the file', {}, { logLevel: 'loud' }, /^\/etc\/portmand\.json: logLevel must be one of .*, got "loud"$/],
    ['a log level of the wrong type in the file', {}, { logLevel: 5 }, /logLevel must be one of/],
    ['a scan interval in hex', { PORTMAND_SCAN_INTERVAL: '0x10' }, null, /^PORTMAND_SCAN_INTERVAL must be a whole number of seconds from 1 to 86400, got "0x10"$/],
    ['a scan interval too long for a timer', {}, { scanIntervalSec: 3_000_000 }, /^\/etc\/portmand\.json: scanIntervalSec must be a whole number of seconds/],
    ['a health interval of a fraction in the file', {}, { healthIntervalSec: 1.5 }, /healthIntervalSec must be a whole number/],
    ['groupAccess that is not a boolean', {}, { groupAccess: 'yes' }, /^\/etc\/portmand\.json: groupAccess must be true or false, got "yes"$/],
    ['avoidEphemeral that is not a boolean', {}, { avoidEphemeral: 0 }, /avoidEphemeral must be true or false, got 0/],
    ['a sync mode of the wrong case in the file', {}, { sync: 'ACK' }, /^\/etc\/portmand\.json: sync must be one of/],
    ['a range purpose that is not a string', {}, { ranges: [{ name: 'x', start: 1, end: 2, purpose: 7 }] }, /ranges\[0\]\.purpose must be a string/],
    ['a reservation that is not an object', {}, { reservations: [5432] }, /reservations\[0\] must be an object/],
    ['a reservation for a non-string', {}, { reservations: [{ port: 5432, for: ['pg'] }] }, /reservations\[0\]\.for must be a string/],
    ['a reservation protocol unknown', {}, { reservations: [{ port: 5432, protocol: 'sctp' }] }, /reservations\[0\]\.protocol must be one of "tcp", "udp"/],
    ['a range named like a built-in one', {}, { ranges: [{ name: 'system', start: 1, end: 2 }] }, /built-in/],
    ['a range backwards', {}, { ranges: [{ name: 'x', start: 9, end: 2 }] }, /after end/],
    ['a reservation off the port scale', {}, { reservations: [{ port: 70000 }] }, /reservations\[0\]\.port/],
    ['a socket path too long for a Unix socket', { PORTMAND_SOCKET: `/tmp/${'a'.repeat(120)}/s.sock` }, null, /shorter path/],
  ];
  it.each(bad)('refuses %s with a message that names it', (_, env, json, message) => {
    expect(() => buildConfig(env, json ? file(json) : null, user)).toThrow(ConfigError);
    expect(() => buildConfig(env, json ? file(json) : null, user)).toThrow(message);
  });
});

describe('the health key', () => {
  it('defaults to local checks only; allowRemote lets checks reach other hosts', () => {
    expect(buildConfig({}, null, user).health).toEqual({ allowRemote: false });
    expect(buildConfig({}, file({ health: { allowRemote: true, failuresBeforeUnhealthy: 3 } }), user).health).toEqual({ allowRemote: true, failuresBeforeUnhealthy: 3 });
  });

  it.each([
    [{ health: true }, /health must be an object/],
    [{ health: { allowRemote: 'yes' } }, /health\.allowRemote must be true or false, got "yes"/],
    [{ health: { successesBeforeHealthy: 0 } }, /health\.successesBeforeHealthy must be a whole number 1\.\.100/],
    [{ health: { allowremote: true } }, /health\.allowremote is not a known key/],
  ])('%o is a configuration error naming the key', (json, message) => {
    expect(() => buildConfig({}, file(json), user)).toThrow(ConfigError);
    expect(() => buildConfig({}, file(json), user)).toThrow(message);
  });
});
