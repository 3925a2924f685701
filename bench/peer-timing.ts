// What the peer lookup of a shared socket costs (daemon/host/peer-cred.ts):
// once per connection, at its first mutating call. Measured in-process on a
// real socket with real clients: one lookup alone, and a burst of new
// connections looked up together (they share one `ss` run).
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PeerLookup, socketFd, UNHELD, type PeerAnswer } from '../daemon/host/peer-cred.ts';
import { summary } from './stats.ts';

export async function timePeerLookup(
  runs: number,
  burst: number,
): Promise<{ oneP50Ms: number; burstMs: number; burst: number; found: boolean }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pmp-'));
  let next: ((s: net.Socket) => void) | null = null;
  const server = net.createServer((s) => next?.(s));
  const sock = path.join(dir, 's');
  await new Promise<void>((r) => server.listen(sock, r));
  const connect = async (): Promise<{ client: net.Socket; server: net.Socket }> => {
    const got = new Promise<net.Socket>((r) => (next = r));
    const client = net.connect(sock);
    return { client, server: await got };
  };
  const lookup = new PeerLookup();
  try {
    const one: number[] = [];
    let found = true;
    for (let i = 0; i < runs; i++) {
      const c = await connect();
      const t0 = performance.now();
      found &&= pidOf(await lookup.peerOf(socketFd(c.server)!)) === process.pid;
      one.push(performance.now() - t0);
      c.client.destroy();
    }
    const many = [];
    for (let i = 0; i < burst; i++) many.push(await connect());
    const t0 = performance.now();
    const peers = await Promise.all(many.map((c) => lookup.peerOf(socketFd(c.server)!)));
    const burstMs = performance.now() - t0;
    found &&= peers.every((p) => pidOf(p) === process.pid);
    for (const c of many) c.client.destroy();
    return { oneP50Ms: summary(one).p50, burstMs, burst, found };
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function pidOf(answer: PeerAnswer): number | undefined {
  return answer && answer !== UNHELD ? answer.pid : undefined;
}
