// Runs a list of calls through the compiled client library on one connection
// and prints one JSON line: each call's result or error. The access tests run
// it as other users (runuser, setpriv), so it imports nothing but the client.
// argv: socket, calls as JSON [{ method, params }], client options as JSON.
import { PortmandClient } from '../../dist/client/client.js';

const [socketPath, calls, options] = process.argv.slice(2);
const pm = new PortmandClient({ socketPath, ...JSON.parse(options ?? '{}') });
const out = [];
for (const { method, params } of JSON.parse(calls)) {
  try {
    out.push({ ok: await pm.call(method, params) });
  } catch (err) {
    out.push({ error: { code: err.code, message: err.message, data: err.data } });
  }
}
pm.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
