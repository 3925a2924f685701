// Every method's params and result schema, by name: the one table from which
// the daemon validates params (daemon/rpc/params.ts), rpc.discover builds its
// document, and client/protocol.ts takes the params' TypeScript types.
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { MethodName } from '../protocol.ts';
import { conflictParams } from './conflict.ts';
import { daemonParams } from './daemon.ts';
import { observeParams } from './observe.ts';
import { portParams } from './port.ts';
import { results } from './results.ts';
import { serviceParams } from './service.ts';

const params = { ...serviceParams, ...portParams, ...conflictParams, ...observeParams, ...daemonParams };

/** Each method's params as TypeScript (a method without params takes none: `Record<string, never>`). */
export type ParamsByMethod = {
  [M in keyof typeof params]: keyof Static<(typeof params)[M]> extends never ? Record<string, never> : Static<(typeof params)[M]>;
};

/** `T` itself when its keys are exactly the contract's methods; otherwise `never`, which nothing can be assigned to. */
type Complete<T> = [Exclude<MethodName, keyof T>, Exclude<keyof T, MethodName>] extends [never, never] ? T : never;

/** Every method's params schema, by name. */
export const PARAMS: Complete<typeof params> & Record<MethodName, TObject> = params;
/** Every method's result schema, by name. */
export const RESULTS: Complete<typeof results> & Record<MethodName, TSchema> = results;
