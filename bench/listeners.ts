// A child process for the bench that opens N listening TCP sockets on the
// loopback address (ports chosen by the OS), prints "ready", and holds them
// until its stdin closes. Loopback only, and bounded by the count it is given.
import net from 'node:net';

const count = Math.min(Number(process.argv[2] ?? 0), 5000);
const servers: net.Server[] = [];
for (let i = 0; i < count; i++) {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  servers.push(s);
}
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
