// `portmand daemon`: runs the daemon in the foreground. The daemon's code is
// imported only here, lazily, so that the client never loads it otherwise.
import type { Verb } from './args.ts';

export const daemon: Verb = {
  name: 'daemon',
  summary: 'run the daemon in the foreground (until SIGINT/SIGTERM)',
  details: [
    'Environment:',
    '  PORTMAND_SOCKET           socket path',
    '  PORTMAND_STATE_DIR        state directory (registry, journal, lock)',
    '  PORTMAND_LOG_FILE         log file (default: stdout only); reopened on SIGHUP',
    '  PORTMAND_LOG_FORMAT       pretty or json (default: pretty on a terminal)',
    '  PORTMAND_SOCKET_GROUP     give the socket to this group, mode 0660',
    '  PORTMAND_SCAN_INTERVAL    seconds between host scans (default 10)',
    '  PORTMAND_HEALTH_INTERVAL  seconds between health checks (default 30)',
    '  PORTMAND_CONFIG           JSON config file (default: /etc/portmand/config.json as root, else',
    '                            $XDG_CONFIG_HOME/portmand/config.json; see `portmand config --help`)',
    '  PORTMAND_SYNC             ack (sync to disk before each reply) or background (default: right after it)',
    '  PORTMAND_LOG_LEVEL        pino log level: trace, debug, info (default), warn, error, fatal',
  ].join('\n'),
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    // The daemon reads its socket path from the environment; --socket wins.
    if (typeof ctx.values.socket === 'string') process.env.PORTMAND_SOCKET = ctx.values.socket;
    // The daemon answers for its own output (runDaemon): the command's quiet exit 0 when its reader goes away
    // (cli.ts) would end it without stopping it, and tell a supervisor that all went well.
    for (const stream of [process.stdout, process.stderr]) stream.removeAllListeners('error');
    const { runDaemon } = await import('../../daemon/main.ts');
    await runDaemon();
  },
};
