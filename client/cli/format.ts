// Text for humans: colours, tables, durations. Pure functions of their
// arguments (colour is a flag the caller decides), so tests use plain data.
import { CONTROL, escapeChar, escapeControl } from '../escape.ts';

export { escapeControl };

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
  /** The terminal's width when output goes to one; tables are fitted to it. */
  columns?: number;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

type Style = Exclude<keyof Paint, 'columns'>;
/** SGR open and close codes of each style: the only escape sequences the CLI writes itself. */
const STYLES: Readonly<Record<Style, readonly [number, number]>> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};
const sgr =
  ([open, close]: readonly [number, number]) =>
  (s: string) =>
    `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** ANSI styles when `color`, identity functions otherwise; `columns` when drawing on a terminal. */
export function paint(color: boolean, columns?: number): Paint {
  const width = columns !== undefined && columns > 0 ? { columns } : {};
  if (!color) return { ...width, red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain };
  const { red, green, yellow, cyan, dim, bold } = STYLES;
  return { ...width, red: sgr(red), green: sgr(green), yellow: sgr(yellow), cyan: sgr(cyan), dim: sgr(dim), bold: sgr(bold) };
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** `value` with every string in it (keys too) passed through escapeControl. */
export function escapeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeControl(value) as T;
  if (Array.isArray(value)) return value.map((x: unknown) => escapeStrings(x)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [escapeControl(k), escapeStrings(v)])) as T;
  }
  return value;
}

// Exactly the sequences paint() writes; nothing else reaches the terminal raw.
const OWN_STYLE = new RegExp(`\\x1b\\[(?:${[...new Set(Object.values(STYLES).flat())].join('|')})m`, 'y');

/**
 * The last step before a line is written: control characters are escaped
 * except newlines and, when `color`, paint()'s own colour codes. The \uXXXX
 * form keeps JSON text valid JSON with the same value (JSON.stringify leaves
 * DEL, C1 and U+2028 raw), so --json output goes through here as well.
 */
export function terminalText(text: string, color: boolean): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(CONTROL)) {
    const at = m.index;
    if (at < last) continue;
    const c = m[0];
    out += text.slice(last, at);
    last = at + 1;
    if (c === '\n') out += c;
    else if (c === '\x1b' && color && ((OWN_STYLE.lastIndex = at), OWN_STYLE.test(text))) {
      out += text.slice(at, OWN_STYLE.lastIndex);
      last = OWN_STYLE.lastIndex;
    } else out += escapeChar(c);
  }
  return out + text.slice(last);
}

/** The width a string takes on screen, not counting colour codes. */
export function visibleWidth(s: string): number {
  return s.replace(ANSI, '').length;
}

export type Align = 'left' | 'right';

const GAP = 2;

/**
 * Columns padded to their widest cell, separated by two spaces; no trailing
 * blanks. `align` gives per-column alignment (numbers read best on the right).
 * With `maxWidth` (a terminal's columns) the widest columns are narrowed until
 * the table fits, and cells that no longer fit end in "…".
 */
export function table(headers: string[], rows: string[][], align: Align[] = [], maxWidth?: number): string {
  const all = [headers, ...rows];
  const natural = headers.map((_, c) => Math.max(...all.map((r) => visibleWidth(r[c] ?? ''))));
  const widths = maxWidth === undefined ? natural : fitWidths(natural, headers, maxWidth);
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => {
        const width = widths[c] ?? 0;
        const text = visibleWidth(cell) > width ? elide(cell, width) : cell;
        const pad = ' '.repeat(width - visibleWidth(text));
        return align[c] === 'right' ? pad + text : text + pad;
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return all.map((r) => line(headers.map((_, c) => r[c] ?? ''))).join('\n');
}

/**
 * Takes one column from the widest at a time until the columns and gaps fit
 * `maxWidth`. A column keeps at least its header's width (and 6): past that the
 * table is allowed to run over rather than become unreadable.
 */
export function fitWidths(natural: readonly number[], headers: readonly string[], maxWidth: number): number[] {
  const widths = [...natural];
  const floor = widths.map((w, c) => Math.min(w, Math.max(6, (headers[c] ?? '').length)));
  let excess = widths.reduce((a, b) => a + b, 0) + GAP * Math.max(0, widths.length - 1) - maxWidth;
  while (excess > 0) {
    let widest = -1;
    for (let c = 0; c < widths.length; c++) if (widths[c]! > floor[c]! && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  return widths;
}

// Colour is dropped from a cell that is cut: a cut-off code would bleed.
function elide(cell: string, width: number): string {
  const plainText = cell.replace(ANSI, '');
  return width <= 1 ? plainText.slice(0, width) : `${plainText.slice(0, width - 1)}…`;
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
