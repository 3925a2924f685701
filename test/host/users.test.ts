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
  ])('%s', (_, gid, passwd, group, expected) => {
    expect(isPrivateGroup(gid, ANN, passwd, group)).toBe(expected);
  });
});
