// Why params failed their method's check, from the method's schema. Loaded
// by params.ts on the first refusal only: it pulls in TypeBox and every
// schema, which the daemon does not need to answer a request that fits.
import { Errors } from '@sinclair/typebox/errors';
import type { MethodName } from '../../client/protocol.ts';
import { PARAMS } from '../../client/schema/methods.ts';
import { explain, type Refusal } from './schema-errors.ts';

export function refusalOf(method: MethodName, params: unknown): Refusal {
  return explain(Errors(PARAMS[method], params), params);
}
