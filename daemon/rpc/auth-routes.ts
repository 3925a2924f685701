// auth.* and token.rotate: who the daemon takes a caller for, how a caller
// proves it where the kernel cannot say, and replacing a service's token.
// Mutating calls are checked by daemon/access/guard.ts before they get here.
import { whoami } from '../core/access.ts';
import { unidentified } from '../core/errors.ts';
import { newGrant } from '../access/guard.ts';
import { rotateToken } from '../ops/ownership.ts';
import type { App, Routes } from './app.ts';
import * as v from './validate.ts';

export function authRoutes(app: App): Routes<'auth.whoami' | 'auth.challenge' | 'auth.prove' | 'token.rotate'> {
  const { callers } = app;
  return {
    'auth.whoami': async (p, ctx) => {
      v.only(p, []);
      const caller = await callers.identify(ctx.conn);
      if (!caller) throw unidentified();
      return whoami(caller, callers.policy);
    },
    'auth.challenge': (p, ctx) => {
      v.only(p, ['uid']);
      return callers.challenge(ctx.conn, v.reqInt(p, 'uid', 0, 2 ** 32 - 2));
    },
    'auth.prove': async (p, ctx) => {
      v.only(p, ['response']);
      const caller = await callers.prove(ctx.conn, v.reqString(p, 'response', { max: 128 }));
      return whoami(caller, callers.policy);
    },
    'token.rotate': async (p, ctx) => {
      v.only(p, ['service']);
      const service = v.reqString(p, 'service');
      const grant = newGrant();
      await rotateToken(app.registry, service, grant.hash, ctx.check);
      return { service, token: grant.token };
    },
  };
}
