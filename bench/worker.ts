// One benchmark client process: connects, says "ready", waits for "go" on
// stdin, makes N sequential calls on its kept connection, prints elapsed ms.
import { PortmandClient } from '../client/client.ts';

const [socketPath, method, countText, prefix] = process.argv.slice(2);
const count = Number(countText);
const pm = new PortmandClient({ socketPath: socketPath! });
await pm.daemon.ping();
process.stdout.write('ready\n');
process.stdin.once('data', async () => {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (method === 'allocate') await pm.port.allocate({ service: `${prefix}-${i}` });
    else await pm.daemon.ping();
  }
  process.stdout.write(`${performance.now() - t0}\n`);
  pm.close();
  process.exit(0);
});
