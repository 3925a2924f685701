// The building blocks of every method's schema: each rule of the contract
// (what a service name is, a port, a bounded string without control
// characters) is written once here, and the params schemas, the daemon's
// validation and the rpc.discover document all take it from here.
//
// `problem` on a schema is what the daemon says (data.problem) when a value
// has the wrong type or shape for it; bounds (lengths, ranges, counts) are
// worded from the schema's own numbers. rpc.discover leaves `problem` out.
import { Type, type SchemaOptions, type TLiteral, type TUnion } from '@sinclair/typebox';
import { LIMITS, PROTOCOLS } from '../protocol.ts';

/**
 * C0 and C1 controls and DEL, as a character class. No parameter has a use for
 * them, and stored text is printed on terminals later, where they would be
 * commands.
 */
export const CONTROL_CLASS = '\\u0000-\\u001f\\u007f-\\u009f';
export const CONTROL = new RegExp(`[${CONTROL_CLASS}]`);

/** Free text: a string of at most `max` characters, none of them a control character. */
export const Text = (max: number, options: SchemaOptions = {}) =>
  Type.String({ maxLength: max, pattern: `^[^${CONTROL_CLASS}]*$`, ...options });

/** One of the contract's enumeration arrays (client/protocol.ts), as a schema whose static type is the array's union. */
export function Enum<T extends string>(values: readonly T[], options: SchemaOptions = {}): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

/** A whole number in [min, max]. */
export const Int = (min: number, max: number, options: SchemaOptions = {}) => Type.Integer({ minimum: min, maximum: max, ...options });

export const Port = (options: SchemaOptions = {}) => Int(1, 65535, options);
export const Pid = (options: SchemaOptions = {}) => Int(1, 2 ** 31 - 1, options);
export const Protocol = () => Enum(PROTOCOLS, { description: 'tcp when omitted', default: 'tcp' });

/** Service names: the contract's 1-63 characters of a-z 0-9 . _ -, starting with a letter or digit. */
export const ServiceName = (options: SchemaOptions = {}) =>
  Type.String({
    pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
    problem: 'must be 1-63 characters of a-z 0-9 . _ - starting with a letter or digit',
    ...options,
  });

/** A service named to look it up: any name a service may have had (lookups do not re-judge names). */
export const ServiceRef = (options: SchemaOptions = {}) => Text(255, options);

/** A bind address: an IP literal (that it is one of this host's own is checked by the daemon). */
export const Host = () =>
  Text(64, { description: 'an IP address of this host; "0.0.0.0" (all) when omitted', problem: 'must be an IP address' });

/** An http:// or https:// URL without spaces or control characters (a health check's `url`, an alert's `webhook`). */
export const HttpUrl = (options: SchemaOptions = {}) =>
  Type.String({
    maxLength: LIMITS.pathChars,
    pattern: `^https?://[^\\s${CONTROL_CLASS}]+$`,
    problem: 'must be an http:// or https:// URL',
    ...options,
  });

/** A date or time as Date.parse reads it (that it parses is checked by the daemon). */
export const Time = (description: string) => Text(64, { description });

/** A lease or reservation's lifetime. */
export const TtlSec = () => Int(1, LIMITS.ttlSec, { description: 'seconds until the lease or reservation ends' });

/** `token`, which every mutating method accepts: a service's or reservation's secret, or several (a swap acts on two). */
const TokenString = () => Text(200, { minLength: 1 });
export const Token = () =>
  Type.Union([TokenString(), Type.Array(TokenString(), { maxItems: 8 })], {
    problem: 'must be a token string, or an array of at most 8',
    description: "the target's token (returned when it was created), or an array of them",
  });

/** A method's named params: nothing but the listed ones. */
export const Params = <P extends Parameters<typeof Type.Object>[0]>(properties: P) =>
  Type.Object(properties, { additionalProperties: false });

/** A method that takes no params. */
export const NoParams = () => Params({});
