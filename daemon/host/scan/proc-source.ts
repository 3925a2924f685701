// The Linux scan source: /proc/net tables plus an inode -> pid map from
// /proc/[pid]/fd, with no child process (what ss does, without the exec).
import { readdir, readFile, readlink } from 'node:fs/promises';
import { endianness } from 'node:os';
import type { Protocol } from '../../../client/protocol.ts';
import { finishObservations } from '../../core/listeners.ts';
import type { Observation } from '../../core/observation.ts';
import { lowestOwners, parseProcNet, type ProcSocket, withOwners } from './procnet-parse.ts';

const TABLES: ReadonlyArray<[file: string, protocol: Protocol, family: 4 | 6]> = [
  ['tcp', 'tcp', 4],
  ['tcp6', 'tcp', 6],
  ['udp', 'udp', 4],
  ['udp6', 'udp', 6],
];

// Processes whose fds are read at once: enough to keep libuv's pool busy,
// few enough that the early stop below saves work.
const BATCH = 64;

/** Listening sockets from /proc. Sockets of processes we may not inspect get no pid. */
export async function procSource(root = '/proc'): Promise<Observation[]> {
  const le = endianness() === 'LE';
  const tables = await Promise.all(
    TABLES.map(async ([file, protocol, family]) => parseProcNet(await readOptional(`${root}/net/${file}`), protocol, family, le)),
  );
  const sockets = tables.flat();
  const owners = await findOwners(root, sockets);
  const names = await processNames(root, new Set(owners.values()));
  return finishObservations(withOwners(sockets, owners, names));
}

/** An absent table (IPv6 disabled) is an empty one; any other error fails the scan. */
async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * Walks processes in ascending pid order, a batch at a time, and stops once
 * every socket has an owner: the lowest pid wins, so later batches could not
 * change the answer. Processes that vanish or deny access are skipped.
 */
async function findOwners(root: string, sockets: ProcSocket[]): Promise<Map<number, number>> {
  const wanted = new Set(sockets.map((s) => s.inode).filter((i) => i > 0));
  const owners = new Map<number, number>();
  if (wanted.size === 0) return owners;
  const pids = (await readdir(root))
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
  for (let i = 0; i < pids.length && owners.size < wanted.size; i += BATCH) {
    const batch = await Promise.all(pids.slice(i, i + BATCH).map((pid) => fdLinks(root, pid)));
    for (const [inode, pid] of lowestOwners(batch, wanted)) {
      if (!owners.has(inode)) owners.set(inode, pid);
    }
  }
  return owners;
}

async function fdLinks(root: string, pid: number): Promise<{ pid: number; fdLinks: string[] }> {
  const dir = `${root}/${pid}/fd`;
  const fds = await readdir(dir).catch(() => [] as string[]);
  const links = await Promise.all(fds.map((fd) => readlink(`${dir}/${fd}`).catch(() => '')));
  return { pid, fdLinks: links };
}

async function processNames(root: string, pids: Set<number>): Promise<Map<number, string>> {
  const names = new Map<number, string>();
  await Promise.all(
    [...pids].map(async (pid) => {
      const comm = await readFile(`${root}/${pid}/comm`, 'utf8').catch(() => '');
      if (comm.trim()) names.set(pid, comm.replace(/\n$/, ''));
    }),
  );
  return names;
}
