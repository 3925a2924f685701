// What the client library does so that access control needs nothing from its
// user: it proves who it is when the daemon asks (the file challenge of
// PROTOCOL.md, "Caller identity"), remembers the tokens of what it created
// and sends them with later changes, and waits once when rate limited.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Challenge, MethodName, Protocol } from './protocol.ts';

/** The answer auth.prove expects for a challenge whose file held `secret`. */
export function challengeAnswer(nonce: string, secret: string): string {
  return createHash('sha256').update(`${nonce}:${secret}`).digest('hex');
}

/** Reads the challenge's file (only our uid can) and computes the answer. */
export async function answerChallenge(c: Challenge): Promise<string> {
  return challengeAnswer(c.nonce, (await readFile(c.file, 'utf8')).trim());
}

/** The most tokens one call carries (the daemon takes at most 8). */
const MAX_TOKENS = 8;

type Params = Record<string, unknown>;

/** The tokens of the services and reservations this client created, by what they are for. */
export class TokenBook {
  readonly #services = new Map<string, { token: string; port?: number; protocol?: Protocol }>();
  readonly #reservations = new Map<string, string>();

  /** Adds `token` to a mutating call's params when the client holds the tokens of what it acts on. */
  attach(method: MethodName, params: Params): Params {
    if (params.token !== undefined) return params;
    const tokens = [...new Set(this.#tokensFor(method, params))].slice(0, MAX_TOKENS);
    if (tokens.length === 0) return params;
    return { ...params, token: tokens.length === 1 ? tokens[0] : tokens };
  }

  /** Learns from a successful call's result: new tokens, and what no longer exists. */
  learn(method: MethodName, params: Params, result: unknown): void {
    const r = (result ?? {}) as Params;
    const protocol = (typeof params.protocol === 'string' ? params.protocol : 'tcp') as Protocol;
    switch (method) {
      case 'service.register':
      case 'port.allocate': {
        const name = String(method === 'port.allocate' ? params.service : params.name);
        const known = this.#services.get(name);
        const token = typeof r.token === 'string' ? r.token : known?.token;
        if (token !== undefined) this.#services.set(name, { token, ...(typeof r.port === 'number' && { port: r.port }), protocol });
        return;
      }
      case 'token.rotate':
        if (typeof r.token === 'string')
          this.#services.set(String(params.service), { ...this.#services.get(String(params.service)), token: r.token });
        return;
      case 'port.reserve':
        if (typeof r.token === 'string') this.#reservations.set(`${protocol}/${String(params.port)}`, r.token);
        return;
      case 'service.unregister':
        this.#services.delete(String(params.name));
        return;
    }
  }

  #tokensFor(method: MethodName, p: Params): string[] {
    const service = (name: unknown) => (typeof name === 'string' ? [this.#services.get(name)?.token] : []);
    const protocol = typeof p.protocol === 'string' ? p.protocol : 'tcp';
    const out: Array<string | undefined> = [];
    switch (method) {
      case 'service.register':
      case 'service.setPort':
      case 'service.unregister':
      case 'service.restart':
        out.push(...service(p.name));
        break;
      case 'port.allocate':
      case 'token.rotate':
        out.push(...service(p.service));
        break;
      case 'conflict.resolve':
        out.push(...service(p.service), ...service(p.withService));
        break;
      case 'port.reserve':
        out.push(this.#reservations.get(`${protocol}/${String(p.port)}`));
        break;
      case 'port.release':
        if (typeof p.service === 'string') out.push(...service(p.service));
        else {
          for (const s of this.#services.values()) if (s.port === p.port && (s.protocol ?? 'tcp') === protocol) out.push(s.token);
          out.push(this.#reservations.get(`${protocol}/${String(p.port)}`));
        }
        break;
      default:
        break;
    }
    return out.filter((t): t is string => t !== undefined);
  }
}
