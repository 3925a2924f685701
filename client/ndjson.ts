// The one NDJSON line framer both ends use: bytes in, whole lines out. It
// works on bytes, not strings, so the size cap counts bytes and a multi-byte
// UTF-8 character split across two chunks is decoded whole. A trailing "\r"
// is stripped, so CRLF senders are understood.

export interface FramerOptions {
  /** The longest line accepted, in bytes, without its line ending. */
  maxLineBytes: number;
  onLine(line: string): void;
  /** Called once when a line grows past the cap; the framer then drops all further input. */
  onOverflow(): void;
}

export class LineFramer {
  #parts: Buffer[] = [];
  #bytes = 0;
  #overflowed = false;

  constructor(private readonly opts: FramerOptions) {}

  get overflowed(): boolean {
    return this.#overflowed;
  }

  /** Bytes of a line begun but not yet ended. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  /** Feeds one chunk; calls onLine for each line it completes, in order. */
  push(chunk: Buffer): void {
    const max = this.opts.maxLineBytes;
    let start = 0;
    while (!this.#overflowed) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      // A line of exactly the cap may still end in "\r\n": the "\r" belongs to the line ending.
      const cr = (end > start ? chunk[end - 1] === 0x0d : this.#endsWithCr()) ? 1 : 0;
      if (this.#bytes + end - start - cr > max) return this.#overflow();
      if (nl === -1) {
        if (end > start) this.#parts.push(chunk.subarray(start));
        this.#bytes += end - start;
        return;
      }
      const piece = chunk.subarray(start, nl);
      const bytes = this.#parts.length === 0 ? piece : Buffer.concat([...this.#parts, piece]);
      this.#parts = [];
      this.#bytes = 0;
      start = nl + 1;
      this.opts.onLine(stripCr(bytes.toString('utf8')));
    }
  }

  /**
   * The end of the stream: an unterminated last line is still a line (as
   * `printf '{...}' | nc -U` sends it). Returns whether there was one.
   */
  end(): boolean {
    if (this.#overflowed || this.#bytes === 0) return false;
    const bytes = Buffer.concat(this.#parts);
    this.#parts = [];
    this.#bytes = 0;
    this.opts.onLine(stripCr(bytes.toString('utf8')));
    return true;
  }

  #endsWithCr(): boolean {
    const last = this.#parts.at(-1);
    return last !== undefined && last[last.length - 1] === 0x0d;
  }

  #overflow(): void {
    this.#overflowed = true;
    this.#parts = [];
    this.#bytes = 0;
    this.opts.onOverflow();
  }
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
