// Wiring only: config, store, registry, scanner, server, signals. This is the
// one place that builds concrete objects; everything else receives them.
import { packageVersion } from '../client/version.ts';
import { ConfigError, readConfig, type Config } from './config/config.ts';
import { effectiveConfig } from './config/report.ts';
import { BROWSER_UNSAFE_PORTS } from './core/allocate.ts';
import { portKey, type EmittedEvent } from './core/state.ts';
import { reserveEffects } from './core/service-effects.ts';
import { listConflicts } from './ops/conflicts.ts';
import { Allocator } from './ops/allocator.ts';
import { Reconciler } from './ops/reconciler.ts';
import { EventBus } from './events.ts';
import { HealthMonitor } from './health/monitor.ts';
import { hostAccess, probeThrough, vetTarget } from './host/health-probe.ts';
import { InFlight } from './inflight.ts';
import { ephemeralRange, pidAlive, processStart, processStarts, processUids } from './host/process.ts';
import { createJsonRpc } from './transport/jsonrpc.ts';
import { createLog, routeCronLogs, withAudit, type Log } from './log/log.ts';
import { groupId, UnknownGroupError } from './host/groups.ts';
import { bindProbe, isLocalAddress } from './host/bind-probe.ts';
import { Registry } from './registry.ts';
import type { RpcContext } from './rpc/app.ts';
import { CHECKS } from './rpc/checks.generated.ts';
import { withParams } from './rpc/params.ts';
import { methodTable, untyped } from './rpc/table.ts';
import { defaultScanSource, Scanner } from './scan/scanner.ts';
import { SocketInUseError, SocketPathError, startServer } from './transport/server.ts';
import { StateDirInUseError, StateSchemaTooNewError, Store } from './store/store.ts';
import { sweepExpired } from './ops/sweep.ts';
import { RequestStats } from './core/request-stats.ts';
import { withTiming } from './rpc/timing.ts';
import { SeriesSchedule } from './series-schedule.ts';
import { daemonUser } from './host/self.ts';
import { UnsafePathError } from './host/trusted-dir.ts';
import path from 'node:path';
import { Callers } from './access/callers.ts';
import { withAccess } from './access/guard.ts';
import { Limiter } from './access/limiter.ts';
import { commandUser, ownerOf, restartRefusal, type AccessPolicy } from './core/access.ts';
import { PeerLookup, socketFd, socketIsPrivate } from './host/peer-cred.ts';
import { groupsOf, primaryGid, userName } from './host/users.ts';
import { adoptOwnerless } from './ops/ownership.ts';
import { Restarter } from './act/restarter.ts';
import { runCommand, sendSignal } from './host/run-command.ts';
import { AutoResolver } from './act/auto-resolver.ts';
import { descendsFrom } from './host/ancestry.ts';
import { Alerter, postJson } from './act/alerts.ts';
import { autoResolve, planNow } from './ops/auto-resolve.ts';
import { PortserverAddressInUseError, startPortserver } from './transport/portserver.ts';
import { PortserverLeases } from './ops/portserver.ts';

/** How often expired leases and reservations are looked for. */
const SWEEP_MS = 1000;

/** Errors that mean "cannot start" and deserve a one-line message, not a stack. */
const STARTUP_ERRORS = [
  ConfigError,
  UnknownGroupError,
  StateDirInUseError,
  StateSchemaTooNewError,
  SocketInUseError,
  SocketPathError,
  UnsafePathError,
  PortserverAddressInUseError,
];

/** Start-up errors a restart would only repeat: the units do not restart on EX_CONFIG. */
const CONFIG_ERRORS = [ConfigError, UnknownGroupError, SocketPathError, UnsafePathError];

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
  let health: HealthMonitor | undefined;
  let restarter: Restarter | undefined;
  let autoResolver: AutoResolver | undefined;
  let alerter: Alerter | undefined;
  const publish = (e: EmittedEvent) => {
    const stamped = bus.publish(e); // not inside alerter?.(...): that would skip publishing when there are no alerts
    alerter?.observe(stamped);
    health?.observe(e);
    restarter?.observe(e);
    autoResolver?.observe(e);
  };
  const registry = new Registry({
    store,
    publish,
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
  const reconciler = new Reconciler({ registry, pidAlive, processStarts });
  await registry.mutate((tx) => {
    for (const r of config.reservations) {
      if (!tx.state.reservations[portKey(r.protocol, r.port)]) {
        const now = Date.now();
        tx.apply(
          reserveEffects(
            { ...r, reason: r.reason ?? `from ${config.configFile}`, createdAt: new Date(now).toISOString() },
            { now, why: 'config' },
          ),
        );
      }
    }
  });

  const policy: AccessPolicy = {
    daemonUid: process.getuid?.() ?? 0,
    daemonUser: daemonUser(),
    adminGid: config.access.adminGroup === null ? null : await groupId(config.access.adminGroup),
  };
  const adopted = await adoptOwnerless(registry, { uid: policy.daemonUid, user: policy.daemonUser! });
  if (adopted > 0) log.info({ records: adopted, owner: policy.daemonUser }, 'records without an owner now belong to the daemon user');
  const peers = new PeerLookup();
  // The mode of a socket file the daemon binds itself (the main socket, and the portserver's path).
  const socketFileMode = config.socket.mode ?? (config.groupAccess ? 0o660 : 0o600);
  const callers = new Callers({
    policy,
    privateSocket: await socketIsPrivate(config.socketPath, config.listenFd !== null ? null : socketFileMode),
    peerOf: async (socket) => {
      const fd = socketFd(socket);
      return fd === null ? null : peers.peerOf(fd);
    },
    userName,
    groupsOf,
    challengeDir: path.join(path.dirname(config.socketPath), '.portmand-auth'),
    maxConnectionsPerUser: config.limits.maxConnectionsPerUser,
    log,
  });
  const limiter = new Limiter({ perSec: config.limits.mutationsPerSec, burst: config.limits.burst }, Date.now);

  const scanner = new Scanner({
    source: defaultScanSource(),
    intervalSec: config.scanIntervalSec,
    now: Date.now,
    onScan: async (scan) => {
      await reconciler.ingest(scan);
      await autoResolver?.kick();
    },
    log,
  });
  if (config.alerts.length > 0) alerter = new Alerter({ rules: config.alerts, run: runCommand, post: postJson, publish, log });
  restarter = new Restarter({
    state: registry.state,
    run: runCommand,
    signal: sendSignal,
    pidStart: processStart,
    pidUids: processUids,
    ownerUid: (s) => ownerOf(s, policy).uid,
    publish,
    // A root daemon runs each command as the service's owner; a per-user daemon runs only its own user's.
    runAs: (s) => {
      const as = commandUser(s, policy, process.getuid?.() === 0);
      return as === 'self' || as === null ? as : { uid: as.uid, gid: primaryGid(as.uid) };
    },
    log,
  });
  const policyDeps = {
    policy: config.conflicts,
    pidAlive,
    descendsFrom,
    listeners: () => (reconciler.lastScan ? registry.index.allListeners() : null),
    allocator,
    log,
  };
  autoResolver = new AutoResolver(() =>
    autoResolve(registry, policyDeps).catch((err: Error) => log.error({ err }, 'automatic resolution pass failed')),
  );
  const access = hostAccess(config.health.allowRemote);
  const monitor = new HealthMonitor({
    registry,
    probe: probeThrough(access),
    intervalSec: config.healthIntervalSec,
    log,
    thresholds: config.health,
    onRestartDue: (name) => void restarter!.request(name, 'unhealthy'),
  });
  health = monitor;
  await scanner
    .scanNow()
    .catch((err: Error) => log.warn({ err }, 'first scan failed; allocation relies on bind probes until one succeeds'));

  const inflight = new InFlight();
  const requests = new RequestStats();
  const series = new SeriesSchedule({ registry, ranges: allocator.ranges, health: () => monitor.results.values(), log });
  const rpc = createJsonRpc<RpcContext>({
    methods: inflight.gate(
      withTiming(
        requests,
        Date.now,
        withAudit(
          log,
          (ctx) => callers.known(ctx.conn),
          // Params are checked against their schemas before anything else looks at them; a refusal is still audited.
          withParams(
            CHECKS,
            withAccess(
              { callers, limiter, registry, maxPortsPerUser: config.limits.maxPortsPerUser },
              untyped(
                methodTable({
                  registry,
                  allocator,
                  reconciler,
                  bus,
                  version: packageVersion(),
                  startedAt: Date.now(),
                  socketPath: config.socketPath,
                  stateFile: store.stateFile,
                  journalFile: store.journalFile,
                  user: daemonUser(),
                  requests,
                  detect: async () => {
                    await scanner.scanNow();
                    return listConflicts(registry, true);
                  },
                  health: monitor,
                  healthTargetRefusal: async (target) => {
                    const vetted = await vetTarget(target, access);
                    return 'refused' in vetted ? vetted.refused : null;
                  },
                  isLocalAddress,
                  config: effectiveConfig(config),
                  callers,
                  restarter,
                  conflictPlan: () => planNow(registry, policyDeps),
                  restartRefusal: (ctx, service) => restartRefusal(ctx.caller, service, policy),
                }),
              ),
            ),
            log,
          ),
        ),
      ),
    ),
    log,
  });
  const socketGid = config.socket.group === null ? undefined : await groupId(config.socket.group);
  // Who asks the portserver: the daemon's user on a socket only it can open (an abstract name has no permissions), else the peer.
  const portserverPrivate = config.portserver !== null && !config.portserver.address.startsWith('@') && (socketFileMode & 0o077) === 0;
  const leases = new PortserverLeases({
    registry,
    allocator,
    pidAlive,
    processUids,
    userName,
    limit: (uid) => limiter.take(uid),
    maxPortsPerUser: config.limits.maxPortsPerUser,
    policy,
    log,
  });
  // Google's portserver protocol, for portpicker and PORTSERVER_ADDRESS: each answer is a lease like port.allocate's.
  const portserver =
    config.portserver &&
    (await startPortserver({
      address: config.portserver.address,
      answer: async (pid, socket) => leases.answer(pid, await callers.ofSocket(socket, portserverPrivate)),
      log,
      idleTimeoutMs: config.limits.idleTimeoutSec * 1000,
      maxConnections: config.limits.maxConnections,
      socketMode: socketFileMode,
      ...(socketGid !== undefined && { socketGid }),
    }));
  const server = await startServer({
    socketPath: config.socketPath,
    groupAccess: config.groupAccess,
    socketMode: config.socket.mode ?? undefined,
    socketGid,
    listenFd: config.listenFd ?? undefined,
    log,
    handleLine: (line, conn) => inflight.track(rpc.handleLine(line, { conn })),
    maxConnections: config.limits.maxConnections,
    idleTimeoutMs: config.limits.idleTimeoutSec * 1000,
    onConnect: (conn, socket) => callers.attach(conn, socket),
    onClose: (conn) => {
      bus.detach(conn);
      callers.detach(conn);
    },
  }).catch(async (err: unknown) => {
    await portserver?.close();
    throw err;
  });
  scanner.start();
  monitor.start();
  // Catch up after downtime: prune what aged out, write the hours whose minutes remain.
  await series
    .prune('all')
    .then(() => series.record())
    .catch((err: Error) => log.warn({ err }, 'time series catch-up failed'));
  series.start();
  // One sweep at a time, and the one running is awaited by stop().
  let sweeping: Promise<void> | null = null;
  const sweep = setInterval(() => {
    sweeping ??= sweepExpired(registry)
      .catch((err: Error) => log.error({ err }, 'lease sweep failed'))
      .finally(() => (sweeping = null));
  }, SWEEP_MS);
  sweep.unref();
  log.info({ socket: config.socketPath, stateDir: config.stateDir, services: Object.keys(store.state.services).length }, 'portmand ready');

  return {
    config,
    // Nothing may write once the store closes: new requests are refused, the
    // schedules stop, and the requests, scans, probes and sweep already
    // running finish (probes are aborted) before the store is closed.
    async stop() {
      clearInterval(sweep);
      await Promise.all([
        inflight.close(),
        portserver?.close(),
        scanner.stop(),
        monitor.stop(),
        series.stop(),
        sweeping,
        autoResolver?.stop(),
      ]);
      await server.close();
      await store.close();
    },
  };
}

/** sysexits' EX_CONFIG: the units do not restart on it (RestartPreventExitStatus=78), as a restart would fail the same way. */
const EX_CONFIG = 78;

/** A log file that cannot be opened is a configuration error: it names the setting. */
function openLog(config: Config): ReturnType<typeof createLog> {
  try {
    return createLog({ level: config.logLevel, file: config.logFile, output: config.logOutput });
  } catch (err) {
    throw new ConfigError(`cannot open the log file ${config.logFile} (PORTMAND_LOG_FILE): ${(err as Error).message}`);
  }
}

/** `portmand daemon` / `npm start`: runs in the foreground until SIGINT or SIGTERM. */
export async function runDaemon(): Promise<void> {
  let config: Config;
  let logging: ReturnType<typeof createLog>;
  try {
    config = await readConfig();
    logging = openLog(config);
  } catch (err) {
    // One line per problem, each a whole sentence naming its variable or key.
    const lines = err instanceof ConfigError ? err.problems : [(err as Error).message];
    process.stderr.write(lines.map((line) => `portmand: ${line}\n`).join(''));
    process.exit(err instanceof ConfigError ? EX_CONFIG : 1);
  }
  const { log, reopen } = logging;
  routeCronLogs(log);
  // A signal during start-up is taken once the daemon is up (the default action would leave the lock behind).
  let started: Promise<RunningDaemon> | undefined;
  let stopping = false;
  const stop = (why: { signal: string } | { reason: string }, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info(why, 'stopping');
    void started!.then(
      (daemon) =>
        daemon.stop().then(
          () => process.exit(code),
          (err: Error) => {
            log.error({ err }, 'unclean stop');
            process.exit(1);
          },
        ),
      () => undefined, // start-up failed: reported below, and that path exits
    );
  };
  process.on('SIGINT', () => stop({ signal: 'SIGINT' }));
  process.on('SIGTERM', () => stop({ signal: 'SIGTERM' }));
  // The reader of stdout is gone (`portmand daemon | head`, a log pipe that died): all the daemon logs there is
  // lost from now on. Stop cleanly, as on SIGTERM, but exit 1, so that a supervisor (Restart=on-failure) starts
  // it again with an output that works. Any other write error stays the crash it was.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stop({ reason: 'stdout closed (EPIPE)' }, 1);
  });
  process.on('SIGHUP', () => {
    reopen();
    log.info('log file reopened');
  });
  try {
    started = startDaemon(config, log);
    await started;
  } catch (err) {
    // Known refusals get their own sentence; anything else (EACCES on the state dir, ...) is said plainly too.
    const known = STARTUP_ERRORS.some((E) => err instanceof E);
    const message = known ? (err as Error).message : `cannot start: ${(err as Error).message}`;
    log.error(known ? {} : { err }, message);
    process.stderr.write(`portmand: ${message}\n`);
    // A missing socket group or an unsafe path is a configuration error too: restarting cannot fix it.
    process.exit(CONFIG_ERRORS.some((E) => err instanceof E) ? EX_CONFIG : 1);
  }
}
