// The NDJSON line framer both ends use, on plain bytes: no sockets.
import { describe, expect, it } from 'vitest';
import { LineFramer } from '../client/ndjson.ts';

function frame(maxLineBytes: number, chunks: Array<string | Buffer>, end = false) {
  const lines: string[] = [];
  let overflows = 0;
  const framer = new LineFramer({ maxLineBytes, onLine: (l) => lines.push(l), onOverflow: () => overflows++ });
  for (const c of chunks) framer.push(typeof c === 'string' ? Buffer.from(c) : c);
  if (end) framer.end();
  return { lines, overflows, framer };
}

describe('LineFramer', () => {
  it('joins a line split across chunks and splits several lines in one chunk', () => {
    expect(frame(100, ['{"a":', '1}\n{"b":2}\n{"c"', ':3}\n']).lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('decodes a multi-byte UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('"héllo €😀"\n');
    // Every split point, including inside the 2-, 3- and 4-byte sequences.
    for (let i = 1; i < bytes.length; i++) {
      expect(frame(100, [bytes.subarray(0, i), bytes.subarray(i)]).lines).toEqual(['"héllo €😀"']);
    }
    const oneByteAtATime = [...bytes].map((b) => Buffer.from([b]));
    expect(frame(100, oneByteAtATime).lines).toEqual(['"héllo €😀"']);
  });

  it('strips the \\r of CRLF, also when \\r and \\n arrive in different chunks, and keeps empty lines', () => {
    expect(frame(100, ['a\r\nb\r', '\nc\n\r\n']).lines).toEqual(['a', 'b', 'c', '']);
  });

  it('counts the cap in bytes, not characters, and accepts exactly the cap (with CRLF too)', () => {
    const euro = '€'.repeat(10); // 30 bytes
    expect(frame(30, [euro + '\n']).lines).toEqual([euro]);
    expect(frame(30, [euro + '\r', '\n']).lines).toEqual([euro]);
    const over = frame(29, [euro + '\n']);
    expect(over).toMatchObject({ lines: [], overflows: 1 });
  });

  it('reports an over-cap line once, before its end arrives, and ignores everything after', () => {
    const r = frame(10, ['ok\n', '0123456789', 'x', 'more\nlater\n']);
    expect(r.lines).toEqual(['ok']);
    expect(r.overflows).toBe(1);
    expect(r.framer.overflowed).toBe(true);
  });

  it('hands over an unterminated last line at the end of the stream', () => {
    expect(frame(100, ['a\n', 'b'], true).lines).toEqual(['a', 'b']);
    expect(frame(100, ['a\n'], true).lines).toEqual(['a']);
  });
});
