// Which socket a client talks to when none is named.
import { describe, expect, it } from 'vitest';
import { clientSocket, defaultSocketPath } from '../client/paths.ts';

const ada = { platform: 'linux', uid: 1000, home: '/home/ada' };
const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
const USER = '/run/user/1000/portmand/portmand.sock';
const SYSTEM = '/run/portmand/portmand.sock';
const present =
  (...paths: string[]) =>
  (p: string) =>
    paths.includes(p);

describe('clientSocket', () => {
  it('$PORTMAND_SOCKET wins over everything', () => {
    expect(clientSocket({ ...env, PORTMAND_SOCKET: '/tmp/x.sock' }, ada, present(USER, SYSTEM))).toEqual({
      path: '/tmp/x.sock',
      source: 'env',
    });
  });
  it('a non-root client takes its per-user socket when it is there', () => {
    expect(clientSocket(env, ada, present(USER, SYSTEM))).toEqual({ path: USER, source: 'user' });
  });
  it('else the system socket when that is there', () => {
    expect(clientSocket(env, ada, present(SYSTEM))).toEqual({ path: SYSTEM, source: 'system' });
  });
  it('else the per-user path, so "not running" names what `portmand daemon` would bind', () => {
    expect(clientSocket(env, ada, present())).toEqual({ path: USER, source: 'user' });
  });
  it('root talks to the system daemon; on macOS under /var/run', () => {
    expect(clientSocket(env, { ...ada, uid: 0 }, present(USER))).toEqual({ path: SYSTEM, source: 'system' });
    expect(clientSocket({}, { platform: 'darwin', uid: 501, home: '/Users/ada' }, present('/var/run/portmand/portmand.sock'))).toEqual({
      path: '/var/run/portmand/portmand.sock',
      source: 'system',
    });
    expect(defaultSocketPath({}, { platform: 'darwin', uid: 0, home: '/var/root' })).toBe('/var/run/portmand/portmand.sock');
  });
});
