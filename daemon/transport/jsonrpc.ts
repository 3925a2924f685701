// The JSON-RPC 2.0 envelope: one NDJSON line in, one response line (or none)
// out. This file checks the envelope and batches, and dispatches to the
// method table itself. json-rpc-2.0's server was lenient (a batch of one came
// back as an object, non-string methods and string params passed, plain
// throws leaked their message as code 0) and slow for batches (see dispatch);
// the package still gives the response shapes and the error response.
import { createJSONRPCErrorResponse, type JSONRPCID, type JSONRPCRequest, type JSONRPCResponse } from 'json-rpc-2.0';
import { ErrorCode } from '../../client/protocol.ts';
import { DomainError, invalidParams } from '../core/errors.ts';

/** A method: named params in (never an array; `{}` when absent), a result out. */
export type Handler<C> = (params: Record<string, unknown>, ctx: C) => unknown | Promise<unknown>;

export interface JsonRpcLog {
  error(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

export interface JsonRpc<C> {
  /** Returns the response line without its trailing newline, or null when nothing is owed (notifications). */
  handleLine(line: string, ctx: C): Promise<string | null>;
}

/** Batch items started per turn of the event loop; all of them still run concurrently, in order. */
const BATCH_SLICE = 256;

type Checked = { request: JSONRPCRequest } | { response: JSONRPCResponse };

export function createJsonRpc<C>(opts: { methods: Record<string, Handler<C>>; log: JsonRpcLog }): JsonRpc<C> {
  const { log } = opts;
  const methods = new Map(Object.entries(opts.methods));

  /**
   * Runs one checked request and answers it as json-rpc-2.0's JSONRPCServer
   * did (same objects, same key order), without its layers of generator-based
   * async functions: they cost each call of a batch five promises and
   * generator frames that lived until the whole batch was answered.
   */
  async function dispatch(request: JSONRPCRequest, ctx: C): Promise<JSONRPCResponse | null> {
    const handler = methods.get(request.method);
    if (!handler) {
      return request.id === undefined
        ? null
        : createJSONRPCErrorResponse(request.id, ErrorCode.MethodNotFound, `method not found: ${request.method}`, {
            method: request.method,
          });
    }
    const outcome = await callHandler(request.method, handler, request.params, ctx, log);
    if (request.id === undefined) return null;
    return 'result' in outcome
      ? { jsonrpc: '2.0', id: request.id, result: outcome.result }
      : createJSONRPCErrorResponse(request.id, outcome.code, outcome.message, outcome.data);
  }

  /** One item's response line (or null when nothing is owed), serialised as soon as it is ready: a batch holds strings, not result objects. */
  async function handleOne(value: unknown, ctx: C): Promise<string | null> {
    const checked = checkRequest(value);
    const response = 'response' in checked ? checked.response : await dispatch(checked.request, ctx);
    return response === null ? null : serialize(response, log);
  }

  async function handleLine(line: string, ctx: C): Promise<string | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return serialize(createJSONRPCErrorResponse(null, ErrorCode.ParseError, 'parse error: the line is not JSON'), log);
    }
    if (!Array.isArray(parsed)) return handleOne(parsed, ctx);
    if (parsed.length === 0) return serialize(invalidRequest(null, 'batch', 'must not be empty'), log);
    const pending: Array<Promise<string | null>> = [];
    for (let i = 0; i < parsed.length; i += BATCH_SLICE) {
      // Each started item runs through validation in microtasks: a batch of thousands would hold the event loop (other clients, SIGTERM).
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const item of parsed.slice(i, i + BATCH_SLICE)) pending.push(handleOne(item, ctx));
    }
    const lines = (await Promise.all(pending)).filter((r) => r !== null);
    // An all-notification batch owes nothing, not even an empty array.
    return lines.length === 0 ? null : `[${lines.join(',')}]`;
  }

  return { handleLine };
}

/** What a handler gave: its result, or the error it is answered with. */
type Outcome = { result: unknown } | { code: number; message: string; data?: unknown };

/** Runs one handler; whatever it throws becomes the error it is answered with (logged unless it is ours). */
async function callHandler<C>(method: string, handler: Handler<C>, params: unknown, ctx: C, log: JsonRpcLog): Promise<Outcome> {
  try {
    if (Array.isArray(params)) throw invalidParams('params', 'must be an object (named parameters)');
    const result = await handler((params ?? {}) as Record<string, unknown>, ctx);
    return { result: result === undefined ? null : result };
  } catch (err) {
    if (err instanceof DomainError) return { code: err.code, message: err.message, data: err.data };
    log.error({ err, method }, 'unexpected error in a JSON-RPC handler');
    return { code: ErrorCode.InternalError, message: 'internal error' };
  }
}

/** Checks one request object against JSON-RPC 2.0; params shape beyond "structured" is the handler's business. */
function checkRequest(value: unknown): Checked {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { response: invalidRequest(null, 'request', 'must be a JSON object') };
  }
  const req = value as Record<string, unknown>;
  const hasId = Object.hasOwn(req, 'id');
  if (hasId && !isId(req.id)) return { response: invalidRequest(null, 'id', 'must be a string, a number or null') };
  const id = hasId ? (req.id as JSONRPCID) : null;
  if (req.jsonrpc !== '2.0') return { response: invalidRequest(id, 'jsonrpc', 'must be "2.0"') };
  if (typeof req.method !== 'string') return { response: invalidRequest(id, 'method', 'must be a string') };
  const hasParams = Object.hasOwn(req, 'params');
  if (hasParams && (typeof req.params !== 'object' || req.params === null)) {
    return { response: invalidRequest(id, 'params', 'must be an object or an array') };
  }
  const request: JSONRPCRequest = { jsonrpc: '2.0', method: req.method };
  if (hasParams) request.params = req.params;
  if (hasId) request.id = id;
  return { request };
}

function isId(id: unknown): boolean {
  return typeof id === 'string' || id === null || (typeof id === 'number' && Number.isFinite(id));
}

function invalidRequest(id: JSONRPCID, field: string, problem: string): JSONRPCResponse {
  return createJSONRPCErrorResponse(id, ErrorCode.InvalidRequest, `invalid request: ${field} ${problem}`, {
    field,
    problem,
  });
}

/** A result that cannot be JSON (a BigInt, a cycle) becomes -32603 for its own id, not a lost reply. */
function serialize(response: JSONRPCResponse, log: JsonRpcLog): string {
  try {
    return JSON.stringify(response);
  } catch (err) {
    log.error({ err, id: response.id }, 'JSON-RPC response is not serialisable');
    return JSON.stringify(createJSONRPCErrorResponse(response.id, ErrorCode.InternalError, 'internal error'));
  }
}
