// Who is at the other end of an accepted Unix connection, from the kernel's
// own tables: Node exposes no SO_PEERCRED. Our end's inode comes from
// /proc/self/fd, its peer's inode from `ss -xHp` (sock_diag), and the
// processes holding the peer from /proc/<pid>/fd, whose links the kernel
// writes; the uid is read from /proc/<pid>/status. Linux only; anywhere
// else, or when any step fails, the answer is null and the caller proves
// who it is with a file challenge instead.
import { execFile } from 'node:child_process';
import { lstat, readFile, readlink } from 'node:fs/promises';
import type net from 'node:net';
import { promisify } from 'node:util';
import { holderCandidates, parseProcStatus, peerInode, seesEveryProcess, socketLinkInode } from './peer-parse.ts';

const run = promisify(execFile);

export interface PeerCred {
  pid: number;
  uid: number;
  gids: number[];
}

/**
 * The lookup ran as root and saw every process, and none holds the peer's
 * socket: its client handed it away (SCM_RIGHTS) and closed its own copy.
 * Unlike null ("cannot tell": not Linux, ss failed, or other users'
 * processes are hidden: not root, or root without CAP_SYS_PTRACE or in a user
 * namespace), this is an answer: nobody is there to name.
 */
export const UNHELD = 'unheld';
export type PeerAnswer = PeerCred | typeof UNHELD | null;

/** The socket's file descriptor, where libuv has one (Unix pipes do). */
export function socketFd(socket: net.Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

/**
 * Finds peers for accepted connections. Lookups that
 * arrive together share one `ss` run: a burst of new clients costs one
 * process, not one each.
 */
export class PeerLookup {
  #running: Promise<string> | null = null;
  #next: Promise<string> | null = null;
  #seesAll: Promise<boolean> | null = null;

  constructor(
    private readonly listSockets: () => Promise<string> = ssUnix,
    /** Whether this process can read every process's descriptors (asked once). */
    private readonly canSeeAll: () => Promise<boolean> = seesEveryProcessHere,
  ) {}

  async peerOf(fd: number): Promise<PeerAnswer> {
    if (process.platform !== 'linux') return null;
    try {
      const ours = socketLinkInode(await readlink(`/proc/self/fd/${fd}`));
      if (ours === null) return null;
      const text = await this.#snapshot();
      const peer = peerInode(text, ours);
      if (peer === null) return null;
      const holder = await holderOf(peer, holderCandidates(text, peer));
      // Only a process that may read every process's descriptors can tell: to any other, another user's client looks unheld too.
      if (holder !== UNHELD) return holder;
      this.#seesAll ??= this.canSeeAll().catch(() => false);
      return (await this.#seesAll) ? UNHELD : null;
    } catch {
      return null;
    }
  }

  /** A listing taken after this call began: one already running may predate our socket. */
  #snapshot(): Promise<string> {
    if (!this.#running) {
      const p = this.listSockets();
      this.#running = p;
      const clear = () => {
        if (this.#running === p) this.#running = null;
      };
      p.then(clear, clear);
      return p;
    }
    this.#next ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#next = null;
        return this.#snapshot();
      });
    return this.#next;
  }
}

/** Read from this process's own status and user namespace: uid 0 alone is not enough (see seesEveryProcess). */
async function seesEveryProcessHere(): Promise<boolean> {
  const [status, uidMap] = await Promise.all([readFile('/proc/self/status', 'utf8'), readFile('/proc/self/uid_map', 'utf8')]);
  return seesEveryProcess(status, uidMap);
}

async function ssUnix(): Promise<string> {
  return (await run('ss', ['-xHp'], { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

/**
 * The process holding socket `inode`, verified: each candidate's fd link must
 * name that inode. Processes sharing it (a fork) must agree on the uid.
 */
async function holderOf(inode: number, candidates: Array<{ pid: number; fd: number }>): Promise<PeerCred | typeof UNHELD | null> {
  let found: PeerCred | null = null;
  let unsure = false;
  for (const { pid, fd } of candidates) {
    // Status first, then the link: a pid reused in between holds no such socket and fails the check.
    const status = parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => null);
    if (link === null || socketLinkInode(link) !== inode) continue;
    if (!status) {
      unsure = true; // it holds it, but who is it?
      continue;
    }
    if (found && found.uid !== status.uid) return null;
    found ??= { pid, ...status };
  }
  return found ?? (unsure ? null : UNHELD);
}

/**
 * Whether only the daemon's own user can open the socket: then every caller
 * is that user and nothing need be looked up. An inherited socket's mode is
 * read from its file; unknown means shared.
 */
export async function socketIsPrivate(socketPath: string, mode: number | null): Promise<boolean> {
  if (mode !== null) return (mode & 0o077) === 0;
  try {
    const st = await lstat(socketPath);
    return st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
