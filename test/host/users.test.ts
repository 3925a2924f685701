import { describe, expect, it } from 'vitest';
import { isPrivateGroup } from '../../daemon/host/users.ts';

const PASSWD = ['root:x:0:0:root:/root:/bin/bash', 'ann:x:1000:1000::/home/ann:/bin/bash', 'bob:x:1001:100::/home/bob:/bin/sh'].join('\n');
const ANN = { uid: 1000, name: 'ann' };

describe('isPrivateGroup', () => {
  it.each<[string, number, string, string, boolean]>([
    ['ann’s own group, no members listed', 1000, PASSWD, 'ann:x:1000:\nusers:x:100:bob', true],
    ['ann’s own group, listing only ann', 1000, PASSWD, 'ann:x:1000:ann', true],
    ['a group that also lists bob', 1000, PASSWD, 'ann:x:1000:ann,bob', false],
    ['a group that is another account’s primary group too', 1000, `${PASSWD}\ncarl:x:1002:1000::/home/carl:/bin/sh`, 'ann:x:1000:', false],
    ['a group that is not ann’s primary group', 100, PASSWD, 'users:x:100:', false],
    ['blank member list and a trailing newline', 1000, `${PASSWD}\n`, 'ann:x:1000:\n', true],
    // NIS compat: a "+" line brings in accounts or groups the local file does not show, any of which may have gid 1000.
    ['passwd takes more accounts from NIS', 1000, `${PASSWD}\n+::::::`, 'ann:x:1000:', false],
    ['passwd takes one account from NIS, its primary group from there', 1000, `${PASSWD}\n+carl::::::`, 'ann:x:1000:', false],
    ['group takes more groups from NIS', 1000, PASSWD, 'ann:x:1000:\n+:::', false],
  ])('%s', (_, gid, passwd, group, expected) => {
    expect(isPrivateGroup(gid, ANN, passwd, group)).toBe(expected);
  });

  it.each<[string, string, string, boolean]>([
    [
      'root’s group with no other member is private',
      'root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh',
      'root:x:0:\nann:x:1000:',
      true,
    ],
    ['root’s group listing ann is not', 'root:x:0:0::/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh', 'root:x:0:ann', false],
    [
      'root’s group as another account’s primary (Fedora’s operator) is not',
      'root:x:0:0::/root:/bin/sh\noperator:x:11:0::/root:/sbin/nologin',
      'root:x:0:',
      false,
    ],
  ])('root: %s', (_, passwd, group, expected) => {
    expect(isPrivateGroup(0, { uid: 0, name: 'root' }, passwd, group)).toBe(expected);
  });
});
