// Text for humans: colours, tables, durations. Pure functions of their
// arguments (colour is a flag the caller decides), so tests use plain data.

/**
 * Colour on a terminal unless NO_COLOR is set to anything (no-color.org) or
 * TERM=dumb; FORCE_COLOR (not "0"/"false") forces it on, even in a pipe, and
 * wins over both, as in Node's own tty.hasColors().
 */
export function shouldColor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>>): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR || env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

export interface Paint {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** ANSI styles when `color`, identity functions otherwise. */
export function paint(color: boolean): Paint {
  if (!color) return { red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain };
  return { red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), cyan: sgr(36, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** The width a string takes on screen, not counting colour codes. */
export function visibleWidth(s: string): number {
  return s.replace(ANSI, '').length;
}

export type Align = 'left' | 'right';

/**
 * Columns padded to their widest cell, separated by two spaces; no trailing
 * blanks. `align` gives per-column alignment (numbers read best on the right).
 */
export function table(headers: string[], rows: string[][], align: Align[] = []): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, c) => Math.max(...all.map((r) => visibleWidth(r[c] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => {
        const pad = ' '.repeat((widths[c] ?? 0) - visibleWidth(cell));
        return align[c] === 'right' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return all.map((r) => line(headers.map((_, c) => r[c] ?? ''))).join('\n');
}

/** Seconds as the two largest units: "3d 4h", "2h 5m", "4m 3s", "42s". */
export function formatDuration(totalSec: number): string {
  const sec = Math.max(0, Math.floor(totalSec));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = sec;
  for (const [name, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${name}`);
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return '0s';
  return parts.filter((p, i) => i === 0 || !p.startsWith('0')).join(' ');
}

/** How long ago an ISO time was, relative to `now` (ms): "5m ago"; "-" for none. */
export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return '-';
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const sec = (now - then) / 1000;
  return sec < 0 ? `in ${formatDuration(-sec)}` : `${formatDuration(sec)} ago`;
}

/** A key/value block with the keys aligned, e.g. the daemon part of `status`. */
export function keyValues(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${v}`).join('\n');
}
