import { describe, expect, it } from 'vitest';
import { probeErrorText } from '../../daemon/core/probe-error.ts';

describe('probeErrorText', () => {
  it.each([
    ['HTTP 503', 'HTTP 503'],
    ['ECONNREFUSED', 'ECONNREFUSED'],
    [
      'Request cannot be constructed from a URL that includes credentials: http://user:s3cret@127.0.0.1:1/x?y',
      'Request cannot be constructed from a URL that includes credentials: http://***@127.0.0.1:1/x?y',
    ],
    ['https://a:b@c@host:8/ and http://tok@h/', 'https://***@host:8/ and http://***@h/'],
    ['http://x:\x1b[2J@127.0.0.1:1/', 'http://***@127.0.0.1:1/'],
    ['bad \x1b[2J\x9b\x7f', 'bad \\u001b[2J\\u009b\\u007f'],
  ])('%j -> %j', (error, text) => {
    expect(probeErrorText(error)).toBe(text);
  });

  it('caps the length', () => {
    expect(probeErrorText('x'.repeat(1000))).toHaveLength(300);
  });
});
