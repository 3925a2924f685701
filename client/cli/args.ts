// Command-line parsing: find the verb, parse its options strictly with
// node:util parseArgs, and turn every mistake into a UsageError (exit 2).
import { parseArgs } from 'node:util';
import { EVENT_TYPES, PROTOCOLS, type EventType, type Protocol } from '../protocol.ts';
import type { PortmandClient, ClientOptions } from '../client.ts';

/** A mistake on the command line; the CLI exits 2 and points at --help. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** The verb whose --help the hint should point at, when known. */
  verb: string | undefined;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value's name in help, e.g. "N" for --port N. */
  value?: string;
  help: string;
}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
  /** The terminal's width when stdout is one (tables are fitted to it); undefined otherwise. */
  columns?: number;
  env: Readonly<Record<string, string | undefined>>;
  now(): number;
  /** Resolves when the user asks a long-running verb to stop (SIGINT/SIGTERM). */
  untilStopped(): Promise<void>;
}

/** What a verb gets: the parsed line, output, and a client made on first use. */
export interface Context {
  io: Io;
  json: boolean;
  socketPath: string;
  /** How socketPath was chosen: --socket, $PORTMAND_SOCKET, or found (per-user, then system). */
  socketSource?: 'flag' | 'env' | 'user' | 'system';
  /** --timeout in ms (0: none): each call's limit, and how long watch waits for a silent daemon. */
  timeoutMs: number;
  values: Values;
  positionals: string[];
  client(options?: Pick<ClientOptions, 'onConnectionState'>): PortmandClient;
}

export interface Verb {
  name: string;
  /** Positional part of the usage line, e.g. "<name>". */
  args?: string;
  summary: string;
  /** Extra lines for `portmand <verb> --help`. */
  details?: string;
  options: Record<string, OptionSpec>;
  positionals: { min: number; max: number };
  /** Resolves to the exit code (0 when nothing is returned). */
  run(ctx: Context): Promise<number | void>;
}

/** Options several verbs take, spelled the same everywhere. */
export const PROTOCOL_OPTION = { type: 'string', value: 'P', help: 'tcp (default) or udp' } as const;
export const RANGE_OPTION = { type: 'string', value: 'R', help: 'a range name (see range.list) or START-END' } as const;

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  socket: {
    type: 'string',
    value: 'PATH',
    help: 'daemon socket (default: $PORTMAND_SOCKET, else the per-user socket if present, else the system one)',
  },
  json: { type: 'boolean', help: 'machine-readable JSON output' },
  timeout: {
    type: 'string',
    value: 'SECONDS',
    help: 'give up (exit 3) on a daemon that does not answer within SECONDS (default 60; 0.5 ok; 0 waits forever)',
  },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', help: 'print the version' },
};

export type CommandLine =
  | { kind: 'verb'; verb: Verb; values: Values; positionals: string[] }
  | { kind: 'help'; values: Values; verb?: Verb }
  | { kind: 'version'; values: Values };

/** Splits argv into a verb and its options; global options may come before or after the verb. */
export function parseCommandLine(argv: string[], verbs: readonly Verb[]): CommandLine {
  const at = findVerb(argv);
  if (at < 0) {
    const values = strictParse(argv, GLOBAL_OPTIONS).values;
    if (values.version && !values.help) return { kind: 'version', values };
    // Bare `portmand` is a question, not a mistake: the answer is the help.
    return { kind: 'help', values };
  }
  const name = argv[at] as string;
  if (name === 'help') return parseHelpLine([...argv.slice(0, at), ...argv.slice(at + 1)], verbs);
  const verb = verbs.find((v) => v.name === name);
  if (!verb) throw new UsageError(`unknown command "${name}"`);
  try {
    return parseVerbLine([...argv.slice(0, at), ...argv.slice(at + 1)], verb);
  } catch (err) {
    if (err instanceof UsageError) err.verb = verb.name;
    throw err;
  }
}

// `portmand help [verb]`.
function parseHelpLine(args: string[], verbs: readonly Verb[]): CommandLine {
  const { values, positionals } = strictParse(args, VERB_GLOBAL_OPTIONS);
  if (positionals.length > 1) throw new UsageError(`help: unexpected argument "${positionals[1]}"`);
  const name = positionals[0];
  if (name === undefined) return { kind: 'help', values };
  const verb = verbs.find((v) => v.name === name);
  if (!verb) throw new UsageError(`help: unknown command "${name}"`);
  return { kind: 'help', values, verb };
}

/** The global options a verb takes: --version stands alone, so `status --version` is a usage error. */
export const VERB_GLOBAL_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  Object.entries(GLOBAL_OPTIONS).filter(([name]) => name !== 'version'),
);

function parseVerbLine(args: string[], verb: Verb): CommandLine {
  const { values, positionals } = strictParse(args, { ...VERB_GLOBAL_OPTIONS, ...verb.options });
  if (!values.help) {
    const { min, max } = verb.positionals;
    if (positionals.length < min) throw new UsageError(`${verb.name}: missing ${verb.args ?? 'argument'}`);
    if (positionals.length > max) throw new UsageError(`${verb.name}: unexpected argument "${positionals[max]}"`);
  }
  return { kind: 'verb', verb, values, positionals };
}

// The first argument that is neither an option nor the value of --socket.
function findVerb(argv: string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') return i + 1 < argv.length ? i + 1 : -1;
    if (GLOBAL_OPTIONS[a.slice(2)]?.type === 'string') i++;
    else if (!a.startsWith('-')) return i;
  }
  return -1;
}

function strictParse(args: string[], options: Record<string, OptionSpec>): { values: Values; positionals: string[] } {
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      { type: o.type, ...(o.short && { short: o.short }), ...(o.multiple && { multiple: true }) },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({ args, options: config, strict: true, allowPositionals: true });
    return { values: values as Values, positionals };
  } catch (err) {
    // parseArgs's messages name the flag; drop its advice about "--" which does not fit here.
    throw new UsageError((err as Error).message.replace(/\s*To specify a positional argument.*$/s, ''));
  }
}

/** An integer option or argument within [min, max], or a UsageError naming it. */
export function int(text: string | boolean | string[] | undefined, name: string, min: number, max: number): number;
export function int(
  text: string | boolean | string[] | undefined,
  name: string,
  min: number,
  max: number,
  optional: true,
): number | undefined;
export function int(
  text: string | boolean | string[] | undefined,
  name: string,
  min: number,
  max: number,
  optional = false,
): number | undefined {
  if (text === undefined && optional) return undefined;
  const n = typeof text === 'string' && /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text ?? '')}`);
  }
  return n;
}

/** A number of seconds (fractions allowed) as milliseconds, or a UsageError naming it. */
export function seconds(text: string | boolean | string[] | undefined, name: string, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const n = typeof text === 'string' && /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 86_400)) throw new UsageError(`${name} must be a number of seconds from 0 to 86400, got ${JSON.stringify(text)}`);
  return Math.round(n * 1000);
}

export function port(text: string | boolean | string[] | undefined, name: string): number {
  return int(text, name, 1, 65535);
}

/** One of a fixed set of words, or a UsageError listing them. */
export function oneOf<T extends string>(text: string | boolean | string[] | undefined, name: string, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'string' && (allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
}

export function protocol(values: Values): Protocol | undefined {
  return oneOf(values.protocol, '--protocol', PROTOCOLS);
}

/** "a,b" -> event types, checked against the contract's list. */
export function eventTypes(text: string | boolean | string[] | undefined): EventType[] | undefined {
  if (typeof text !== 'string') return undefined;
  const types = text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of types) oneOf(t, '--types', EVENT_TYPES);
  return types as EventType[];
}

export function str(value: string | boolean | string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
