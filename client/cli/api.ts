// `portmand api`: the daemon's OpenRPC document (rpc.discover), every method
// with its params and result as JSON Schema and the error codes. It is JSON
// whether or not --json is given: it is meant for tools (an OpenRPC
// playground, a client generator), and a table of it would say less than
// `portmand help`.
import type { Verb } from './args.ts';

export const api: Verb = {
  name: 'api',
  summary: "print the daemon's API as an OpenRPC document (JSON): every method, its params and result schemas, the error codes",
  details: [
    'The document is what rpc.discover returns, generated from the schemas the daemon validates every request with.',
    'e.g. portmand api | jq \'.methods[] | select(.name == "port.allocate")\'',
  ].join('\n'),
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const doc = await ctx.client().rpc.discover();
    ctx.io.out(JSON.stringify(doc, null, 2));
  },
};
