// Params validation at the edge, generated from each method's schema in
// client/schema/: a call whose params do not fit gets -32602 with `field` and
// `problem` and reaches nothing behind this layer (access, routes, registry).
// The checks are compiled once per method, on its first call; the
// explanation of a refusal is worked out only when there is one.
import type { TObject } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { invalidParams } from '../core/errors.ts';
import { explain, type Refusal } from './schema-errors.ts';

type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown;

/** A method's params check: null when they fit, else what is wrong. */
export type ParamsCheck = (params: unknown) => Refusal | null;

export function paramsCheck(schema: TObject): ParamsCheck {
  let compiled: TypeCheck<TObject> | undefined;
  return (params) => {
    compiled ??= TypeCompiler.Compile(schema);
    return compiled.Check(params) ? null : explain(compiled.Errors(params), params);
  };
}

/** Wraps each method with its schema's check; a method without a schema is left out (the route table has one for each). */
export function withParams<C>(schemas: Record<string, TObject>, methods: Record<string, Handler<C>>): Record<string, Handler<C>> {
  const out: Record<string, Handler<C>> = {};
  for (const [name, handler] of Object.entries(methods)) {
    const schema = schemas[name];
    if (!schema) throw new Error(`no params schema for ${name}`);
    const check = paramsCheck(schema);
    out[name] = (params, ctx) => {
      const refusal = check(params);
      if (refusal) throw invalidParams(refusal.field, refusal.problem);
      return handler(params, ctx);
    };
  }
  return out;
}
