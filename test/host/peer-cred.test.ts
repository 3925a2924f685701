// PeerLookup against the real kernel tables: who holds the other end of an
// accepted Unix connection, and what it says when nobody does.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerLookup, socketFd, UNHELD } from '../../daemon/host/peer-cred.ts';

const linuxRoot = process.platform === 'linux' && process.getuid?.() === 0;
if (!linuxRoot) console.log('peer-cred tests skipped: they read every process’s descriptors, which needs Linux and root');

// Connects to the socket, hands the connected descriptor away over a socketpair
// (SCM_RIGHTS) and closes its own copy: no process holds it, it is in flight.
const HIDE = `
import socket, sys, time
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1])
a, b = socket.socketpair()
socket.send_fds(a, [b"x"], [c.fileno()])
c.close()
print("hidden", flush=True)
time.sleep(60)
`;

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const f of cleanups.splice(0)) f();
});

async function serverAt(): Promise<{ file: string; accepted: Promise<net.Socket> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pm-peer-'));
  const file = path.join(dir, 's.sock');
  let accept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((resolve) => (accept = resolve));
  const server = net.createServer((s) => accept(s));
  await new Promise<void>((resolve) => server.listen(file, resolve));
  cleanups.push(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { file, accepted };
}

describe.runIf(linuxRoot)('PeerLookup', () => {
  it('names the process at the other end', async () => {
    const { file, accepted } = await serverAt();
    const client = net.connect(file);
    cleanups.push(() => client.destroy());
    const peer = await new PeerLookup().peerOf(socketFd(await accepted)!);
    expect(peer).toMatchObject({ pid: process.pid, uid: 0 });
  });

  it('answers UNHELD, not "cannot tell", for a connection whose client handed it away with SCM_RIGHTS', async () => {
    const { file, accepted } = await serverAt();
    const hider = spawn('python3', ['-c', HIDE, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => hider.kill());
    const [line] = await createInterface({ input: hider.stdout })
      [Symbol.asyncIterator]()
      .next()
      .then((r) => [r.value as string]);
    expect(line).toBe('hidden');
    expect(await new PeerLookup().peerOf(socketFd(await accepted)!)).toBe(UNHELD);
  });

  it('is "cannot tell", not UNHELD, when the daemon is root but may not read other processes\u2019 descriptors', async () => {
    // A root service with its capabilities bounded (no CAP_SYS_PTRACE) is refused other users' /proc/<pid>/fd: their
    // clients look exactly like a socket handed away, and pooling them would refuse every user past one user's cap.
    const { file, accepted } = await serverAt();
    const hider = spawn('python3', ['-c', HIDE, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => hider.kill());
    await createInterface({ input: hider.stdout })[Symbol.asyncIterator]().next();
    const bounded = new PeerLookup(undefined, async () => false);
    expect(await bounded.peerOf(socketFd(await accepted)!)).toBeNull();
  });
});
