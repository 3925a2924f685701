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

  const bad: Array<[string, Record<string, string>, Record<string, unknown> | null, RegExp]> = [
    ['a scan interval that is not a number', { PORTMAND_SCAN_INTERVAL: 'abc' }, null, /PORTMAND_SCAN_INTERVAL/],
    ['a zero health interval', { PORTMAND_HEALTH_INTERVAL: '0' }, null, /PORTMAND_HEALTH_INTERVAL/],
    ['an unknown sync mode', { PORTMAND_SYNC: 'always' }, null, /"ack" or "background"/],
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
