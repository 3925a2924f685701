// The network side of health checks: HTTP and TCP probes that stop when told
// to (an AbortSignal), and the address check every probe passes first. A
// host name is resolved once, every address it resolves to is checked, and
// the connection goes to a checked address: a DNS answer that changes between
// the check and the connect (rebinding) cannot take the probe elsewhere.
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import os from 'node:os';
import { targetRefusal } from '../core/health-access.ts';
import { statusExpected, targetHost, type CheckTarget, type ProbeOutcome } from '../core/health.ts';

/** What the address check needs: the operator's switch, this host's addresses, and a resolver. */
export interface ProbeAccess {
  allowRemote: boolean;
  localAddresses(): string[];
  resolve(host: string): Promise<string[]>;
}

/** The real host: its interfaces as they are now (they change), and the system resolver. */
export function hostAccess(allowRemote: boolean): ProbeAccess {
  return {
    allowRemote,
    localAddresses: () => Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
    resolve: async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address),
  };
}

/** A probe of one target; `signal` ends it early (the result then says why, from the signal's reason). */
export type HealthProbe = (target: CheckTarget, signal: AbortSignal) => Promise<ProbeOutcome>;

/** The addresses the target may connect to, or why it may not be probed at all. */
export async function vetTarget(t: CheckTarget, access: ProbeAccess): Promise<{ addresses: string[] } | { refused: string }> {
  const host = targetHost(t);
  if (host === null) return { refused: 'is not a valid URL' };
  if (access.allowRemote) return { addresses: [] };
  let addresses: string[];
  try {
    addresses = net.isIP(host) !== 0 ? [host] : await access.resolve(host);
  } catch (err) {
    return { refused: `${host} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'})` };
  }
  const why = targetRefusal(host, addresses, access.localAddresses(), false);
  return why === null ? { addresses } : { refused: why };
}

/** Probes targets through `access`: refused targets fail without a connection being made. */
export function probeThrough(access: ProbeAccess): HealthProbe {
  return async (t, signal) => {
    const vetted = await vetTarget(t, access);
    if ('refused' in vetted) return { ok: false, latencyMs: null, error: `refused: ${vetted.refused}` };
    if (signal.aborted) return aborted(signal);
    return t.type === 'http' ? probeHttp(t, signal, vetted.addresses) : probeTcp(t, signal);
  };
}

const elapsed = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

/** The outcome of a probe cut short: the reason's message ("no answer within ...") or a plain "aborted". */
function aborted(signal: AbortSignal): ProbeOutcome {
  const reason = signal.reason as unknown;
  return { ok: false, latencyMs: null, error: reason instanceof Error && reason.name !== 'AbortError' ? reason.message : 'aborted' };
}

/** A lookup that answers only with addresses already checked (no second DNS query). */
function pinnedLookup(addresses: string[]): LookupFunction {
  const entries = addresses.map((address) => ({ address, family: net.isIP(address) }));
  return (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: typeof entries) => void)(null, entries);
    else callback(null, entries[0]!.address, entries[0]!.family);
  };
}

function probeHttp(t: Extract<CheckTarget, { type: 'http' }>, outer: AbortSignal, addresses: string[]): Promise<ProbeOutcome> {
  const t0 = performance.now();
  const timeout = AbortSignal.timeout(t.timeoutMs);
  const signal = AbortSignal.any([outer, timeout]);
  const url = new URL(t.url);
  const get = url.protocol === 'https:' ? https.get : http.get;
  return new Promise((resolve) => {
    const done = (outcome: ProbeOutcome) => {
      req.destroy();
      resolve(outcome);
    };
    const req = get(url, { signal, agent: false, ...(addresses.length > 0 && { lookup: pinnedLookup(addresses) }) }, (res) => {
      const status = res.statusCode ?? 0;
      const latencyMs = elapsed(t0);
      done(statusExpected(t.expectStatus, status) ? { ok: true, latencyMs } : { ok: false, latencyMs, error: `HTTP ${status}` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => {
      if (timeout.aborted) done({ ok: false, latencyMs: null, error: `no answer within ${t.timeoutMs} ms` });
      else if (outer.aborted) done(aborted(outer));
      else done({ ok: false, latencyMs: null, error: err.code ?? err.message });
    });
  });
}

function probeTcp(t: Extract<CheckTarget, { type: 'tcp' }>, outer: AbortSignal): Promise<ProbeOutcome> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.host, port: t.port });
    const onAbort = () => done(aborted(outer));
    const done = (outcome: ProbeOutcome) => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done({ ok: false, latencyMs: null, error: `no connection within ${t.timeoutMs} ms` }), t.timeoutMs);
    outer.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done({ ok: true, latencyMs: elapsed(t0) }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, latencyMs: null, error: err.code ?? err.message }));
  });
}
