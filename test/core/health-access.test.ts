import { describe, expect, it } from 'vitest';
import { isLocalAddress, targetRefusal } from '../../daemon/core/health-access.ts';

// What os.networkInterfaces() might list on a host with one LAN and one IPv6 address.
const LOCAL = ['127.0.0.1', '::1', '192.168.1.20', 'fe80::1c2a:3bff:fe4d:5e6f', '2001:db8::20'];

describe('isLocalAddress', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true], // all of 127/8 is loopback
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['0.0.0.0', true],
    ['::', true],
    ['::ffff:127.0.0.1', true],
    ['192.168.1.20', true],
    ['::ffff:192.168.1.20', true],
    ['fe80::1c2a:3bff:fe4d:5e6f%eth0', true],
    ['2001:DB8:0:0:0:0:0:20', true],
    ['[2001:db8::20]', true],
    ['169.254.169.254', false],
    ['192.168.1.21', false],
    ['10.0.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['fd00:ec2::254', false],
    ['2001:db8::21', false],
    ['not-an-address', false],
  ])('%s -> %s', (address, want) => expect(isLocalAddress(address, LOCAL)).toBe(want));
});

describe('targetRefusal', () => {
  it('allows a host whose every address is local', () => {
    expect(targetRefusal('localhost', ['127.0.0.1', '::1'], LOCAL, false)).toBeNull();
    expect(targetRefusal('192.168.1.20', ['192.168.1.20'], LOCAL, false)).toBeNull();
  });

  it('refuses the cloud metadata address and says how to allow it', () => {
    expect(targetRefusal('169.254.169.254', ['169.254.169.254'], LOCAL, false)).toBe(
      '169.254.169.254 is not an address of this host; health checks reach only this host unless the config file sets "health": { "allowRemote": true }',
    );
  });

  it('refuses a name when any of its addresses is remote, naming that address', () => {
    expect(targetRefusal('mixed.example', ['127.0.0.1', '203.0.113.9'], LOCAL, false)).toMatch(
      /^mixed\.example \(203\.0\.113\.9\) is not an address of this host/,
    );
  });

  it('refuses a name that resolves to nothing', () => {
    expect(targetRefusal('nothing.example', [], LOCAL, false)).toBe('nothing.example resolves to no address');
  });

  it('allows anything when the operator set health.allowRemote', () => {
    expect(targetRefusal('169.254.169.254', ['169.254.169.254'], LOCAL, true)).toBeNull();
    expect(targetRefusal('db.example', ['203.0.113.9'], [], true)).toBeNull();
  });
});
