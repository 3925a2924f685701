// Pictures for a terminal: sparklines, bars and a line chart. Pure: numbers
// in, text out, at a width the caller gives, so tests compare them to fixed
// snapshots. Callers draw them only when pictures() says so, and print the
// plain numbers otherwise.
import type { Io } from './args.ts';

/** Pictures on a terminal only, and never with NO_COLOR (the same rule as colour; see format.ts). */
export function pictures(io: Pick<Io, 'color'>): boolean {
  return io.color;
}

const TICKS = '▁▂▃▄▅▆▇█';

/**
 * One character per value, from ▁ (min) to █ (max); a space where there is no
 * value. `min`/`max` fix the scale (an uptime share is 0..1 whatever the data).
 */
export function sparkline(values: ReadonlyArray<number | null>, scale: { min?: number; max?: number } = {}): string {
  const known = values.filter((v): v is number => v !== null);
  const min = scale.min ?? Math.min(...known);
  const max = scale.max ?? Math.max(...known);
  return values
    .map((v) => {
      if (v === null) return ' ';
      if (!(max > min)) return TICKS[known.length > 0 && max > 0 ? TICKS.length - 1 : 0];
      const i = Math.round(((Math.min(max, Math.max(min, v)) - min) / (max - min)) * (TICKS.length - 1));
      return TICKS[i];
    })
    .join('');
}

/** `width` cells: full blocks for the share used, light shade for the rest (at least one block for any use above zero). */
export function bar(share: number, width: number): string {
  const s = Math.min(1, Math.max(0, share));
  const full = s > 0 ? Math.max(1, Math.round(s * width)) : 0;
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** Fits `values` into `width` columns by averaging neighbours (or keeps them when they fit). */
export function fit(values: ReadonlyArray<number | null>, width: number): Array<number | null> {
  if (values.length <= width) return [...values];
  const out: Array<number | null> = [];
  for (let c = 0; c < width; c++) {
    const part = values
      .slice(Math.floor((c * values.length) / width), Math.floor(((c + 1) * values.length) / width))
      .filter((v): v is number => v !== null);
    out.push(part.length > 0 ? part.reduce((a, b) => a + b, 0) / part.length : null);
  }
  return out;
}

/**
 * A line chart in the manner of asciichart: `height` rows, a labelled axis on
 * the left, the line drawn with box-drawing characters, gaps left blank.
 */
export function lineChart(values: ReadonlyArray<number | null>, opts: { height: number; format?: (x: number) => string }): string {
  const known = values.filter((v): v is number => v !== null);
  if (known.length === 0) return '(no data)';
  const format = opts.format ?? ((x: number) => String(Math.round(x * 100) / 100));
  let min = Math.min(...known);
  let max = Math.max(...known);
  if (min === max) [min, max] = [min - 1, max + 1];
  const rows = Math.max(2, opts.height);
  const rowOf = (v: number) => Math.round(((v - min) / (max - min)) * (rows - 1));
  const grid = Array.from({ length: rows }, () => new Array<string>(values.length).fill(' '));
  const put = (row: number, col: number, ch: string) => (grid[rows - 1 - row]![col] = ch);
  for (let x = 0; x < values.length; x++) {
    const v = values[x];
    if (v === null || v === undefined) continue;
    const y = rowOf(v);
    const prev = x > 0 ? values[x - 1] : null;
    if (prev === null || prev === undefined) {
      put(y, x, '─');
      continue;
    }
    const p = rowOf(prev);
    if (p === y) put(y, x, '─');
    else {
      // Going up: the corner at the old level turns up, the line arrives at the new level from below.
      put(p, x, y > p ? '╯' : '╮');
      put(y, x, y > p ? '╭' : '╰');
      for (let r = Math.min(p, y) + 1; r < Math.max(p, y); r++) put(r, x, '│');
    }
  }
  const labels = grid.map((_, i) => format(max - ((max - min) * i) / (rows - 1)));
  const w = Math.max(...labels.map((l) => l.length));
  return grid.map((cells, i) => `${labels[i]!.padStart(w)} ┤${cells.join('')}`.trimEnd()).join('\n');
}
