// Reading the daemon's log file: the last N matching lines, and following it
// as it grows, across a rotation (the file renamed and a new one created at
// the path after SIGHUP) and a truncation (logrotate's copytruncate).
import { open, stat, type FileHandle } from 'node:fs/promises';

const CHUNK = 64 * 1024;

/** The last `n` lines that `keep` accepts, oldest first, reading the file backwards. */
export async function lastLines(fh: FileHandle, n: number, keep: (line: string) => boolean): Promise<{ lines: string[]; size: number }> {
  const { size } = await fh.stat();
  const found: string[] = [];
  let end = size;
  let carry = Buffer.alloc(0);
  while (end > 0 && found.length < n) {
    const start = Math.max(0, end - CHUNK);
    const buf = Buffer.alloc(end - start);
    await fh.read(buf, 0, buf.length, start);
    const joined = Buffer.concat([buf, carry]);
    // The first piece may be the tail of a line that starts in an earlier chunk.
    const cut = start === 0 ? -1 : joined.indexOf(0x0a);
    end = start;
    if (start > 0 && cut < 0) {
      carry = joined; // all of it is inside one long line
      continue;
    }
    carry = cut < 0 ? Buffer.alloc(0) : joined.subarray(0, cut);
    const lines = joined
      .subarray(cut + 1)
      .toString('utf8')
      .split('\n');
    for (let i = lines.length - 1; i >= 0 && found.length < n; i--) {
      const line = lines[i] as string;
      if (line !== '' && keep(line)) found.push(line);
    }
  }
  return { lines: found.reverse(), size };
}

export interface FollowOptions {
  /** Start reading here (the size lastLines saw), so no line is shown twice. */
  from: number;
  /** How often to look for new lines and for a new file at the path. */
  pollMs?: number;
  stopped: Promise<void>;
}

/**
 * Calls onLine for each complete line appended from `from` on, until stopped.
 * Takes the handle lastLines read (and closes it): the file may be rotated
 * away between the two, and its last lines must not be lost.
 */
export async function followFile(file: string, handle: FileHandle, onLine: (line: string) => void, opts: FollowOptions): Promise<void> {
  let fh = handle;
  let ino = (await fh.stat()).ino;
  let pos = opts.from;
  let partial = '';
  let stop = false;
  void opts.stopped.then(() => (stop = true));

  const drain = async () => {
    const { size } = await fh.stat();
    if (size < pos) pos = 0; // truncated in place
    while (pos < size) {
      const buf = Buffer.alloc(Math.min(CHUNK, size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const lines = (partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n');
      partial = lines.pop() as string;
      for (const line of lines) if (line !== '') onLine(line);
    }
  };

  try {
    while (!stop) {
      await drain();
      // A different file at the path: the old one was rotated away. Finish it, then start the new one at 0.
      const now = await stat(file).catch(() => null);
      if (now && now.ino !== ino) {
        await drain();
        if (partial) onLine(partial);
        partial = '';
        await fh.close();
        fh = await open(file, 'r');
        ino = (await fh.stat()).ino;
        pos = 0;
        continue;
      }
      await Promise.race([opts.stopped, new Promise((r) => setTimeout(r, opts.pollMs ?? 200))]);
    }
    await drain();
  } finally {
    await fh.close();
  }
}
