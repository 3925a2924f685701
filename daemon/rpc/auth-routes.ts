// auth.* and token.rotate: who the daemon takes a caller for, how a caller
// proves it where the kernel cannot say, and replacing a service's token.
// Mutating calls are checked by daemon/access/guard.ts before they get here.
import { whoami } from '../core/access.ts';
import { unidentified } from '../core/errors.ts';
import { newGrant } from '../access/guard.ts';
import { rotateToken } from '../ops/ownership.ts';
import type { App, Routes } from './app.ts';

export function authRoutes(app: App): Routes<'auth.whoami' | 'auth.challenge' | 'auth.prove' | 'token.rotate'> {
  const { callers } = app;
  return {
    'auth.whoami': async (_p, ctx) => {
      const caller = await callers.identify(ctx.conn);
      if (!caller) throw unidentified();
      return whoami(caller, callers.policy);
    },
    'auth.challenge': (p, ctx) => callers.challenge(ctx.conn, p.uid),
    'auth.prove': async (p, ctx) => {
      const caller = await callers.prove(ctx.conn, p.response);
      return whoami(caller, callers.policy);
    },
    'token.rotate': async ({ service }, ctx) => {
      const grant = newGrant();
      await rotateToken(app.registry, service, grant.hash, ctx.check);
      return { service, token: grant.token };
    },
  };
}
