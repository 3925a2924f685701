// Opens `count` connections to the daemon one after another and sends nothing
// on them; once `expectClosed` of them have been closed by the daemon, prints
// one JSON line (how many closed, and the lines the daemon sent before it
// closed them), then holds the rest open until its stdin ends. The per-user
// limit tests run it as another user (runuser, setpriv).
// argv: socket, count, expectClosed.
import net from 'node:net';

const [socketPath, count, expectClosed] = process.argv.slice(2);
const conns = [];
let closed = 0;
const said = [];
let reported = false;

function report() {
  if (reported || closed < Number(expectClosed)) return;
  reported = true;
  process.stdout.write(`${JSON.stringify({ closed, said })}\n`);
}

for (let i = 0; i < Number(count); i++) {
  const socket = net.connect(socketPath);
  await new Promise((resolve, reject) => (socket.once('connect', resolve), socket.once('error', reject)));
  let buf = '';
  socket.on('data', (chunk) => {
    buf += chunk;
    for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) (said.push(JSON.parse(buf.slice(0, at))), (buf = buf.slice(at + 1)));
  });
  socket.on('error', () => undefined);
  socket.once('close', () => {
    closed += 1;
    report();
  });
  conns.push(socket);
}
report();
process.stdin.resume();
process.stdin.once('end', () => {
  for (const c of conns) c.destroy();
});
