// The config keys of the access issue: `access` and `limits`.
import { describe, expect, it } from 'vitest';
import { buildConfig, DEFAULT_LIMITS } from '../../daemon/config/config.ts';

const user = { platform: 'linux', uid: 1000, home: '/home/ada' };
const build = (json: Record<string, unknown>) =>
  buildConfig({ XDG_RUNTIME_DIR: '/run/user/1000' }, { path: '/etc/portmand.json', json }, user);

describe('config access and limits', () => {
  it('default to no admin group and limits far above any test or bench', async () => {
    const c = await build({});
    expect(c.access).toEqual({ adminGroup: null });
    expect(c.limits).toEqual(DEFAULT_LIMITS);
  });
  it('take what the file gives, keeping the defaults for the rest', async () => {
    const c = await build({ access: { adminGroup: 'portmand-admin' }, limits: { mutationsPerSec: 50, idleTimeoutSec: 5 } });
    expect(c.access.adminGroup).toBe('portmand-admin');
    expect(c.limits).toEqual({ ...DEFAULT_LIMITS, mutationsPerSec: 50, idleTimeoutSec: 5 });
  });
  it.each([
    [{ access: { adminGroup: 'a b' } }, /access\.adminGroup must be a group name/],
    [{ access: { admins: 'x' } }, /access\.admins is not a known key/],
    [{ access: 'wheel' }, /access must be an object/],
    [{ limits: { burst: 0 } }, /limits\.burst must be a whole number/],
    [{ limits: { maxConnections: -1 } }, /limits\.maxConnections must be a whole number/],
    [{ limits: { perSecond: 1 } }, /limits\.perSecond is not a known key/],
  ])('%j is refused, naming the key path', async (json, message) => {
    await expect(build(json)).rejects.toThrow(message);
  });
});
