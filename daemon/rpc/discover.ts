// rpc.discover: the OpenRPC document of every method, generated from the
// schemas that validate their params (client/schema/), so it cannot describe
// a method other than the daemon runs it. Built once, on the first call.
import type { TSchema } from '@sinclair/typebox';
import { ErrorCode, type OpenRpcDocument } from '../../client/protocol.ts';
import type { PARAMS as Params, RESULTS as Results } from '../../client/schema/methods.ts';
import type { ConfigFileSchema as ConfigFile } from '../config/schema.ts';
import type { App, Routes } from './app.ts';

/** The OpenRPC version the document follows. */
export const OPENRPC_VERSION = '1.3.2';

/** A schema as JSON Schema: TypeBox's symbols go with the JSON round trip, and `problem` (our error wording) is left out. */
function jsonSchema(schema: TSchema): unknown {
  return JSON.parse(JSON.stringify(schema, (key, value: unknown) => (key === 'problem' && typeof value === 'string' ? undefined : value)));
}

/** The document; beside the methods, `components.schemas.ConfigFile` is the config file's schema (the daemon checks its file with it). */
export function openRpcDocument(
  version: string,
  { PARAMS, RESULTS }: { PARAMS: typeof Params; RESULTS: typeof Results },
  configFile: typeof ConfigFile,
): OpenRpcDocument {
  const methods = Object.entries(PARAMS).map(([name, params]) => {
    const required = new Set(params.required ?? []);
    return {
      name,
      paramStructure: 'by-name',
      params: Object.entries(params.properties).map(([param, schema]) => ({
        name: param,
        required: required.has(param),
        schema: jsonSchema(schema),
      })),
      result: { name: 'result', schema: jsonSchema(RESULTS[name as keyof typeof RESULTS]) },
    };
  });
  return {
    openrpc: OPENRPC_VERSION,
    info: {
      title: 'portmand',
      version,
      description:
        'A local port-management daemon: JSON-RPC 2.0 over a Unix socket, one request or batch per line. ' +
        'Params are by name; a param the method does not list is refused with -32602 (data.field names it), as is any value its schema refuses.',
    },
    methods,
    components: {
      errors: Object.fromEntries(Object.entries(ErrorCode).map(([name, code]) => [name, { code, message: name }])),
      schemas: { ConfigFile: jsonSchema(configFile) },
    },
  };
}

export function discoverRoutes(app: App): Routes<'rpc.discover'> {
  let doc: OpenRpcDocument | undefined;
  // The schemas (and TypeBox) are imported on the first call, not above: the daemon starts without them, checking params with generated code.
  return {
    'rpc.discover': async () =>
      (doc ??= openRpcDocument(
        app.version,
        await import('../../client/schema/methods.ts'),
        (await import('../config/schema.ts')).ConfigFileSchema,
      )),
  };
}
