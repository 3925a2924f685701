// Where the daemon's log lines go, decided from the environment alone (pure):
// a person at a terminal reads pretty lines; the journal, a pipe or a file
// get one JSON object per line that `portmand logs` and jq can read back.
import { shouldColor } from '../../client/cli/format.ts';

type Env = Readonly<Record<string, string | undefined>>;

export interface LogOutput {
  /** 'pretty' on a terminal, 'json' elsewhere; PORTMAND_LOG_FORMAT overrides. */
  format: 'pretty' | 'json';
  /** Colour the pretty lines (NO_COLOR, FORCE_COLOR, TERM=dumb as the CLI). */
  color: boolean;
  /** stdout is the systemd journal ($JOURNAL_STREAM is set by the manager). */
  journal: boolean;
}

export function logOutput(env: Env, stdoutIsTTY: boolean): LogOutput {
  const journal = Boolean(env.JOURNAL_STREAM) && !stdoutIsTTY;
  const asked = env.PORTMAND_LOG_FORMAT;
  const format = asked === 'json' || asked === 'pretty' ? asked : stdoutIsTTY ? 'pretty' : 'json';
  return {
    format,
    color: format === 'pretty' && shouldColor({ isTTY: stdoutIsTTY }, env),
    journal,
  };
}
