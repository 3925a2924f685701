// Help text, generated from the verb table so it cannot drift from the parser.
import { GLOBAL_OPTIONS, VERB_GLOBAL_OPTIONS, type OptionSpec, type Verb } from './args.ts';

export const EXIT_CODES = `Exit codes:
  0  success (check exits 0 whether or not the port is available, unless -q)
  1  the daemon answered with an error (with --json: {"error":{code,message,data}} on stdout);
     check -q: the port is not available
  2  usage error: unknown command or option, bad value
  3  the daemon is not reachable (start it with \`portmand daemon\` or \`npm start\`),
     or did not answer within --timeout
  78 config, config check: the configuration has problems (each is named)`;

export function globalHelp(verbs: readonly Verb[]): string {
  const width = Math.max(...verbs.map((v) => usageHead(v).length));
  const commands = verbs.map((v) => `  ${usageHead(v).padEnd(width)}  ${v.summary}`).join('\n');
  return [
    'portmand: a local port-management daemon and its command-line client',
    '',
    'Usage: portmand <command> [options]',
    '',
    'Commands:',
    commands,
    '',
    'Global options:',
    optionLines(GLOBAL_OPTIONS),
    '',
    EXIT_CODES,
    '',
    "Run 'portmand help <command>' or 'portmand <command> --help' for a command's options.",
  ].join('\n');
}

export function verbHelp(verb: Verb): string {
  const own = Object.keys(verb.options).length > 0;
  return [
    `Usage: portmand ${usageHead(verb)}${own ? ' [options]' : ''}`,
    '',
    verb.summary,
    ...(verb.details ? ['', verb.details.replace(/^/gm, '  ')] : []),
    ...(own ? ['', 'Options:', optionLines(verb.options)] : []),
    '',
    'Global options:',
    optionLines(VERB_GLOBAL_OPTIONS),
  ].join('\n');
}

function usageHead(verb: Verb): string {
  return verb.args ? `${verb.name} ${verb.args}` : verb.name;
}

function optionLines(options: Record<string, OptionSpec>): string {
  const heads = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [o.multiple ? `${flag}...` : flag, o.help] as const;
  });
  const width = Math.max(...heads.map(([h]) => h.length));
  return heads.map(([h, text]) => `  ${h.padEnd(width)}  ${text}`).join('\n');
}

/** The line after a usage error. */
export function usageHint(verb: string | undefined): string {
  return verb ? `Run 'portmand ${verb} --help' for usage.` : "Run 'portmand --help' for usage.";
}
