// Health checks: HTTP and TCP probes of registered services, on a schedule
// (each service's intervalSec, else PORTMAND_HEALTH_INTERVAL) and on demand,
// with bounded concurrency and never two probes of one service at once.
import net from 'node:net';
import cron, { type ScheduledTask } from 'node-cron';
import type { HealthResult } from '../client/protocol.ts';
import { checkTarget, dueForCheck, healthEffects, healthResult, type CheckTarget, type ProbeOutcome } from './core/health.ts';
import type { Registry } from './registry.ts';

export type HealthProbe = (target: CheckTarget) => Promise<ProbeOutcome>;

/** How many probes run at once; the rest wait their turn. */
const CONCURRENCY = 8;

const elapsed = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

async function probeHttp(t: Extract<CheckTarget, { type: 'http' }>): Promise<ProbeOutcome> {
  const t0 = performance.now();
  try {
    const res = await fetch(t.url, { signal: AbortSignal.timeout(t.timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    const latencyMs = elapsed(t0);
    return res.status < 400 ? { ok: true, latencyMs } : { ok: false, latencyMs, error: `HTTP ${res.status}` };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${t.timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, latencyMs: null, error: why };
  }
}

function probeTcp(t: Extract<CheckTarget, { type: 'tcp' }>): Promise<ProbeOutcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.host, port: t.port });
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, latencyMs: null, error: `no connection within ${t.timeoutMs} ms` }), t.timeoutMs);
    socket.once('connect', () => done({ ok: true, latencyMs: elapsed(t0) }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, latencyMs: null, error: err.code ?? err.message }));
  });
}

export const realProbe: HealthProbe = (t) => (t.type === 'http' ? probeHttp(t) : probeTcp(t));

export interface HealthOptions {
  registry: Registry;
  probe: HealthProbe;
  intervalSec: number;
  log: { warn(obj: object, msg: string): void };
}

export class HealthMonitor {
  private readonly lastCheckedAt = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<HealthResult | null>>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private task: ScheduledTask | null = null;

  constructor(private readonly opts: HealthOptions) {}

  /** Ticks every second and checks whatever is due. */
  start(): void {
    if (this.task) return;
    this.task = cron.schedule('* * * * * *', () => void this.checkDue(), {
      suppressMissedWarning: true,
      logger: { info: () => {}, debug: () => {}, warn: () => {}, error: (msg) => this.opts.log.warn({ err: msg }, 'node-cron error') },
    });
  }

  stop(): void {
    this.task?.destroy();
    this.task = null;
  }

  /** Checks the named services now (all with a check when none are named); resolves to their results. */
  async checkNow(names?: string[]): Promise<HealthResult[]> {
    const state = this.opts.registry.state;
    const targets = names ?? Object.values(state.services).filter((s) => s.healthCheck).map((s) => s.name);
    const results = await Promise.all(targets.map((n) => this.check(n)));
    return results.filter((r): r is HealthResult => r !== null);
  }

  private async checkDue(): Promise<void> {
    const { registry, intervalSec } = this.opts;
    this.forgetGone();
    const due = dueForCheck(registry.state, this.lastCheckedAt, registry.now(), intervalSec).filter((n) => !this.inFlight.has(n));
    await Promise.all(due.map((n) => this.check(n))).catch((err: Error) => this.opts.log.warn({ err }, 'health check round failed'));
  }

  // One probe per service at a time: a second caller shares the first's result.
  private check(name: string): Promise<HealthResult | null> {
    const running = this.inFlight.get(name);
    if (running) return running;
    const p = this.run(name).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  private async run(name: string): Promise<HealthResult | null> {
    const { registry } = this.opts;
    await this.slot();
    try {
      const service = registry.state.services[name];
      const target = service && checkTarget(service);
      if (!target) return null;
      this.lastCheckedAt.set(name, registry.now());
      const outcome = await this.opts.probe(target);
      return await registry.mutate((tx) => {
        if (!tx.state.services[name]) return null; // unregistered while probing
        const result = healthResult(name, outcome, registry.now(), registry.health.get(name));
        registry.health.set(name, result);
        tx.apply(healthEffects(tx.state, result, registry.now()));
        return result;
      });
    } finally {
      this.release();
    }
  }

  private forgetGone(): void {
    const { registry } = this.opts;
    for (const name of [...registry.health.keys()]) {
      if (!registry.state.services[name]?.healthCheck) {
        registry.health.delete(name);
        this.lastCheckedAt.delete(name);
      }
    }
  }

  private slot(): Promise<void> {
    if (this.running < CONCURRENCY) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }
}
