// Wiring only: config, store, registry, scanner, server, signals. This is the
// one place that builds concrete objects; everything else receives them.
import { packageVersion } from '../client/version.ts';
import { ConfigError, readConfig, type Config } from './config.ts';
import { BROWSER_UNSAFE_PORTS } from './core/allocate.ts';
import { portKey } from './core/state.ts';
import { reserveEffects } from './core/service-effects.ts';
import { listConflicts } from './ops/conflicts.ts';
import { Allocator } from './ops/allocator.ts';
import { Reconciler } from './ops/reconciler.ts';
import { EventBus } from './events.ts';
import { HealthMonitor, realProbe } from './health.ts';
import { ephemeralRange, pidAlive } from './host/process.ts';
import { createJsonRpc } from './transport/jsonrpc.ts';
import { createLog, withAudit, type Log } from './log.ts';
import { bindProbe } from './host/bind-probe.ts';
import { Registry } from './registry.ts';
import type { RpcContext } from './rpc/app.ts';
import { methodTable } from './rpc/table.ts';
import { defaultScanSource, Scanner } from './scanner.ts';
import { SocketInUseError, SocketPathError, startServer } from './transport/server.ts';
import { StateDirInUseError, StateSchemaTooNewError, Store } from './store/store.ts';
import { sweepExpired } from './ops/sweep.ts';

/** How often expired leases and reservations are looked for. */
const SWEEP_MS = 1000;

/** Errors that mean "cannot start" and deserve a one-line message, not a stack. */
const STARTUP_ERRORS = [ConfigError, StateDirInUseError, StateSchemaTooNewError, SocketInUseError, SocketPathError];

export interface RunningDaemon {
  config: Config;
  stop(): Promise<void>;
}

/** Starts the daemon with the given configuration and returns once it accepts connections. */
export async function startDaemon(config: Config, log: Log): Promise<RunningDaemon> {
  const store = await Store.open({
    dir: config.stateDir,
    sync: config.sync,
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m), error: (m) => log.error(m) },
  });
  for (const w of store.warnings) log.error({ stateDir: config.stateDir }, w);
  const bus = new EventBus(Date.now, undefined, Date.now() * 1000);
  const registry = new Registry({
    store,
    publish: (e) => bus.publish(e),
    now: Date.now,
    onFatal: (err) => {
      log.fatal({ err }, 'cannot persist state; exiting so that nothing unsaved is acknowledged');
      process.exit(70);
    },
  });
  const allocator = new Allocator({
    registry,
    probe: bindProbe,
    policy: { ephemeral: config.avoidEphemeral ? await ephemeralRange() : null, unsafe: BROWSER_UNSAFE_PORTS },
    ranges: config.ranges,
  });
  const reconciler = new Reconciler({ registry, pidAlive });
  await registry.mutate((tx) => {
    for (const r of config.reservations) {
      if (!tx.state.reservations[portKey(r.protocol, r.port)]) {
        tx.apply(reserveEffects({ ...r, reason: r.reason ?? `from ${config.configFile}`, createdAt: new Date().toISOString() }));
      }
    }
  });

  const scanner = new Scanner({
    source: defaultScanSource(),
    intervalSec: config.scanIntervalSec,
    now: Date.now,
    onScan: async (scan) => {
      await reconciler.ingest(scan);
    },
    log,
  });
  const health = new HealthMonitor({ registry, probe: realProbe, intervalSec: config.healthIntervalSec, log });
  await scanner.scanNow().catch((err: Error) => log.warn({ err }, 'first scan failed; allocation relies on bind probes until one succeeds'));

  const rpc = createJsonRpc<RpcContext>({
    methods: withAudit(log, methodTable({
      registry,
      allocator,
      reconciler,
      bus,
      version: packageVersion(),
      startedAt: Date.now(),
      socketPath: config.socketPath,
      stateFile: store.stateFile,
      detect: async () => {
        await scanner.scanNow();
        return listConflicts(registry, true);
      },
      checkHealth: (names) => health.checkNow(names),
    })),
    log,
  });
  const server = await startServer({
    socketPath: config.socketPath,
    groupAccess: config.groupAccess,
    log,
    handleLine: (line, conn) => rpc.handleLine(line, { conn }),
    onClose: (conn) => bus.detach(conn),
  });
  scanner.start();
  health.start();
  const sweep = setInterval(() => {
    sweepExpired(registry).catch((err: Error) => log.error({ err }, 'lease sweep failed'));
  }, SWEEP_MS);
  sweep.unref();
  log.info({ socket: config.socketPath, stateDir: config.stateDir, services: Object.keys(store.state.services).length }, 'portmand ready');

  return {
    config,
    async stop() {
      clearInterval(sweep);
      scanner.stop();
      health.stop();
      await server.close();
      await store.close();
    },
  };
}

/** `portmand daemon` / `npm start`: runs in the foreground until SIGINT or SIGTERM. */
export async function runDaemon(): Promise<void> {
  let config: Config;
  try {
    config = readConfig();
  } catch (err) {
    process.stderr.write(`portmand: ${(err as Error).message}\n`);
    process.exit(78);
  }
  const { log, reopen } = createLog({ level: config.logLevel, file: config.logFile });
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (err) {
    // Known refusals get their own sentence; anything else (EACCES on the state dir, ...) is said plainly too.
    const known = STARTUP_ERRORS.some((E) => err instanceof E);
    const message = known ? (err as Error).message : `cannot start: ${(err as Error).message}`;
    log.error(known ? {} : { err }, message);
    process.stderr.write(`portmand: ${message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    daemon.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    reopen();
    log.info('log file reopened');
  });
}
