// What the config file's schema cannot say, checked in code after it: a range
// that ends before it starts, takes a built-in name or is defined twice; an
// alert with nothing to do; a portserver address this platform cannot bind.
// It runs on a file that failed its schema too (every problem is reported in
// one run), so each check looks only at values of the right type: a value of
// the wrong type is the schema's to report.
import { BUILTIN_RANGES } from '../core/ranges.ts';
import { portserverProblems } from './portserver.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const entries = (v: unknown): Array<[Json, number]> =>
  Array.isArray(v) ? v.flatMap((e: unknown, i) => (isObject(e) ? [[e, i] as [Json, number]] : [])) : [];

/** Each such problem of the file, as `key.path problem`. */
export function semanticProblems(json: Json, platform: string, socketPath: string): string[] {
  return [...rangeProblems(json.ranges), ...alertProblems(json.alerts), ...portserverProblems(json.portserver, platform, socketPath)];
}

function rangeProblems(ranges: unknown): string[] {
  const problems: string[] = [];
  const named = new Set<string>();
  for (const [r, i] of entries(ranges)) {
    if (typeof r.name === 'string') {
      if (BUILTIN_RANGES.some((b) => b.name === r.name)) problems.push(`ranges[${i}].name "${r.name}" is a built-in range name`);
      else if (named.has(r.name)) problems.push(`ranges[${i}].name: range ${JSON.stringify(r.name)} is defined twice`);
      named.add(r.name);
    }
    if (typeof r.start === 'number' && typeof r.end === 'number' && r.start > r.end)
      problems.push(`ranges[${i}]: start ${r.start} is after end ${r.end}`);
  }
  return problems;
}

function alertProblems(alerts: unknown): string[] {
  return entries(alerts)
    .filter(([a]) => a.command === undefined && a.webhook === undefined)
    .map(([, i]) => `alerts[${i}] needs a command or a webhook`);
}
