// A strict reader of the Prometheus text format 0.0.4, written from the
// format's rules for the tests: it throws on anything a scraper would reject
// or misread (a TYPE after samples, a family split in two, an unknown escape,
// an unquoted or unterminated label value, a duplicate series).
export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]Inf)$/;

export function parseProm(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  let current: ParsedFamily | null = null;
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1} ${JSON.stringify(line)}`;
      const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (help) {
        if (families.has(help[1]!)) throw new Error(`${where}: family ${help[1]} appears twice`);
        current = { name: help[1]!, help: unescape(help[2]!, false, where), type: 'untyped', samples: [] };
        families.set(current.name, current);
        return;
      }
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
      if (type) {
        if (!current || current.name !== type[1]) throw new Error(`${where}: TYPE without its HELP`);
        if (current.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        current.type = type[2]!;
        return;
      }
      if (line.startsWith('#')) throw new Error(`${where}: unexpected comment`);
      const sample = parseSample(line, where);
      if (!current || current.name !== sample.name) throw new Error(`${where}: sample outside its family`);
      const key = JSON.stringify(Object.entries(sample.labels).sort());
      if (current.samples.some((s) => JSON.stringify(Object.entries(s.labels).sort()) === key))
        throw new Error(`${where}: duplicate series`);
      current.samples.push(sample);
    });
  return families;
}

function parseSample(line: string, where: string): ParsedFamily['samples'][number] {
  const name = NAME.exec(line)?.[0];
  if (!name) throw new Error(`${where}: no metric name`);
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const label = LABEL.exec(rest)?.[0];
      if (!label) throw new Error(`${where}: bad label name`);
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      rest = rest.slice(label.length);
      if (!rest.startsWith('="')) throw new Error(`${where}: label value not quoted`);
      rest = rest.slice(2);
      let raw = '';
      for (;;) {
        if (rest.length === 0) throw new Error(`${where}: unterminated label value`);
        const c = rest[0]!;
        if (c === '"') break;
        if (c === '\\') {
          raw += rest.slice(0, 2);
          rest = rest.slice(2);
        } else {
          raw += c;
          rest = rest.slice(1);
        }
      }
      labels[label] = unescape(raw, true, where);
      rest = rest.slice(1);
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or }`);
    }
    rest = rest.slice(1);
  }
  const m = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!m || !VALUE.test(m[1]!)) throw new Error(`${where}: bad value`);
  const v = m[1]!;
  return { name, labels, value: v === 'NaN' ? NaN : v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) };
}

/** HELP allows \\ and \n; label values also \". Any other escape is an error. */
function unescape(text: string, label: boolean, where: string): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === '"' && label) return '"';
    throw new Error(`${where}: bad escape \\${c}`);
  });
}
