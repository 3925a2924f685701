// The JSON-RPC 2.0 envelope: one NDJSON line in, one response line (or none)
// out. json-rpc-2.0 dispatches, but it is lenient (a batch of one comes back
// as an object, non-string methods and string params pass, plain throws leak
// their message as code 0), so this file checks the envelope and batches
// itself and hands the package only requests that are already valid.
import {
  JSONRPCErrorException,
  JSONRPCServer,
  createJSONRPCErrorResponse,
  type JSONRPCID,
  type JSONRPCRequest,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
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
  // The package reports every thrown error here; ours are already mapped and logged.
  const server = new JSONRPCServer<C>({ errorListener: (msg, err) => log.debug?.({ err }, msg) });
  server.handleMethodNotFound = async (request) =>
    request.id === undefined
      ? null
      : createJSONRPCErrorResponse(request.id, ErrorCode.MethodNotFound, `method not found: ${request.method}`, {
          method: request.method,
        });
  for (const [name, handler] of Object.entries(opts.methods)) {
    server.addMethod(name, (params: unknown, ctx: C) => callHandler(name, handler, params, ctx, log));
  }

  async function handleOne(value: unknown, ctx: C): Promise<JSONRPCResponse | null> {
    const checked = checkRequest(value);
    if ('response' in checked) return checked.response;
    return server.receive(checked.request, ctx);
  }

  async function handleLine(line: string, ctx: C): Promise<string | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return serialize(createJSONRPCErrorResponse(null, ErrorCode.ParseError, 'parse error: the line is not JSON'), log);
    }
    if (!Array.isArray(parsed)) {
      const response = await handleOne(parsed, ctx);
      return response === null ? null : serialize(response, log);
    }
    if (parsed.length === 0) return serialize(invalidRequest(null, 'batch', 'must not be empty'), log);
    const pending: Array<Promise<JSONRPCResponse | null>> = [];
    for (let i = 0; i < parsed.length; i += BATCH_SLICE) {
      // Each started item runs through validation in microtasks: a batch of thousands would hold the event loop (other clients, SIGTERM).
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const item of parsed.slice(i, i + BATCH_SLICE)) pending.push(handleOne(item, ctx));
    }
    const responses = await Promise.all(pending);
    const lines = responses.filter((r) => r !== null).map((r) => serialize(r, log));
    // An all-notification batch owes nothing, not even an empty array.
    return lines.length === 0 ? null : `[${lines.join(',')}]`;
  }

  return { handleLine };
}

/** Runs one handler and turns whatever it throws into an error the package maps as-is. */
async function callHandler<C>(method: string, handler: Handler<C>, params: unknown, ctx: C, log: JsonRpcLog): Promise<unknown> {
  try {
    if (Array.isArray(params)) throw invalidParams('params', 'must be an object (named parameters)');
    const result = await handler((params ?? {}) as Record<string, unknown>, ctx);
    return result === undefined ? null : result;
  } catch (err) {
    if (err instanceof DomainError) throw new JSONRPCErrorException(err.message, err.code, err.data);
    log.error({ err, method }, 'unexpected error in a JSON-RPC handler');
    throw new JSONRPCErrorException('internal error', ErrorCode.InternalError);
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
