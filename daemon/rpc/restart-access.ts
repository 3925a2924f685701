// Who may set and see a service's restart action. The command runs as the
// service's owner, so only the owner or an admin may set one; env values and
// cwd (hidden by toService) are shown only to them.
import { ErrorCode, type RestartAction } from '../../client/protocol.ts';
import { isAdmin, ownerOf } from '../core/access.ts';
import { DomainError } from '../core/errors.ts';
import { hasSecrets } from '../core/service-effects.ts';
import type { State } from '../core/state.ts';
import type { Precondition } from '../registry.ts';
import type { App, RpcContext } from './app.ts';

/**
 * The check that this caller may set a restart action on service `name`: run
 * it at once, and hand the returned precondition to the mutation, which runs
 * it again inside the lock (with the access layer's own check first), where
 * the service cannot change hands before the action is stored.
 */
export function restartCheck(app: App, ctx: RpcContext, name: string): Precondition {
  const refuse = (state: State) => {
    const refusal = app.restartRefusal(ctx, state.services[name]);
    if (refusal !== null)
      throw new DomainError(ErrorCode.PermissionDenied, `permission denied: ${refusal}`, { field: 'restart', problem: refusal });
  };
  refuse(app.registry.state);
  const access = ctx.check;
  return Object.assign(
    (state: State, index: Parameters<Precondition>[1], now: number) => {
      access?.(state, index, now);
      refuse(state);
    },
    access?.by !== undefined ? { by: access.by } : {},
  );
}

/**
 * The restart action as the caller may see it: env values and cwd (hidden by
 * toService) only for the service's owner or an admin. The caller is looked up
 * only when there is something to show, so service.get stays cheap otherwise.
 */
export async function revealRestart(app: App, ctx: RpcContext, name: string): Promise<RestartAction | undefined> {
  const s = app.registry.state.services[name];
  if (!s?.restart || !hasSecrets(s.restart)) return undefined;
  const caller = ctx.caller ?? (await app.callers.identify(ctx.conn));
  const policy = app.callers.policy;
  // Read again: the lookup may have waited, and the record may have changed meanwhile.
  const now = app.registry.state.services[name];
  if (!caller || !now?.restart) return undefined;
  return isAdmin(caller, policy) || ownerOf(now, policy).uid === caller.uid ? now.restart : undefined;
}
