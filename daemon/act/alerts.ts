// Runs the configured alerts (config `alerts`, core/alerts.ts decides which):
// a command gets the event's JSON on stdin, a webhook gets it as a POST with
// a timeout and a bounded retry. Alerts run in the background: none ever
// holds up a request, a publisher or another alert, and a failure is logged
// and announced as alert_failed, never thrown.
import type { PortmandEvent } from '../../client/protocol.ts';
import { alertsFor, type AlertRule } from '../core/alerts.ts';
import type { EmittedEvent } from '../core/state.ts';
import type { RunCommand } from '../host/run-command.ts';
import { runError } from '../core/restart-policy.ts';

/** Attempts per webhook delivery, and the pause before the second (doubled after). */
export const WEBHOOK_ATTEMPTS = 3;
const RETRY_MS = 500;
/** Alerts running at once; beyond that, new ones are dropped (and said to have failed) rather than queued without bound. */
const MAX_RUNNING = 32;

export type PostJson = (url: string, body: string, timeoutMs: number) => Promise<number>;

/** A POST with fetch; resolves to the HTTP status. */
export const postJson: PostJson = async (url, body, timeoutMs) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  });
  await res.body?.cancel();
  return res.status;
};

export interface AlerterDeps {
  rules: readonly AlertRule[];
  run: RunCommand;
  post: PostJson;
  publish: (e: EmittedEvent) => void;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export class Alerter {
  private running = 0;

  constructor(private readonly deps: AlerterDeps) {}

  /** Called with every event as published (seq and time stamped). */
  observe(event: PortmandEvent): void {
    for (const i of alertsFor(this.deps.rules, event as EmittedEvent)) {
      const name = `alerts[${i}]`;
      if (this.running >= MAX_RUNNING) {
        this.fail(name, `more than ${MAX_RUNNING} alerts running; this one was dropped`);
        continue;
      }
      this.running++;
      void this.deliver(this.deps.rules[i]!, JSON.stringify(event))
        .then(
          (error) => error && this.fail(name, error),
          (err: Error) => this.fail(name, err.message),
        )
        .finally(() => this.running--);
    }
  }

  /** Resolves to an error message, or null when every target took the event. */
  private async deliver(rule: AlertRule, body: string): Promise<string | null> {
    const errors: string[] = [];
    if (rule.command) {
      const o = await this.deps.run({ argv: rule.command, env: {}, timeoutMs: rule.timeoutMs, stdin: `${body}\n` });
      const error = runError(o, Math.ceil(rule.timeoutMs / 1000));
      if (error) errors.push(`command: ${error}`);
    }
    if (rule.webhook) {
      const error = await this.post(rule.webhook, body, rule.timeoutMs);
      if (error) errors.push(`webhook: ${error}`);
    }
    return errors.length > 0 ? errors.join('; ') : null;
  }

  private async post(url: string, body: string, timeoutMs: number): Promise<string | null> {
    let last = '';
    for (let attempt = 1; attempt <= WEBHOOK_ATTEMPTS; attempt++) {
      try {
        const status = await this.deps.post(url, body, timeoutMs);
        if (status >= 200 && status < 300) return null;
        last = `HTTP ${status}`;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        last = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
      }
      if (attempt < WEBHOOK_ATTEMPTS) await new Promise((r) => setTimeout(r, RETRY_MS * 2 ** (attempt - 1)));
    }
    return `${last} (after ${WEBHOOK_ATTEMPTS} attempts)`;
  }

  private fail(alert: string, error: string): void {
    this.deps.log.warn({ alert, error }, 'alert failed');
    this.deps.publish({ type: 'alert_failed', data: { alert, error } });
  }
}
