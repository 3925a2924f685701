// The file challenge, in the spirit of D-Bus's DBUS_COOKIE_SHA1: to prove it
// is uid U, a client is handed the name of a file that only U can read, holding
// a random secret, and answers sha256(nonce ":" secret). The daemon writes
// the file itself, so this needs root for any U but its own. The file lives
// in a directory of the daemon's (0711: others may pass, never list or
// create) and is removed once answered or abandoned.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import { challengeAnswer } from '../../client/auth.ts';

export interface IssuedChallenge {
  file: string;
  nonce: string;
  /** What a correct answer is. */
  expected: Buffer;
}

/** Whether `answer` is right, in constant time. */
export function answerMatches(issued: IssuedChallenge, answer: string): boolean {
  const got = Buffer.from(answer);
  return got.length === issued.expected.length && timingSafeEqual(got, issued.expected);
}

/** The challenge cannot be set for this uid (another user's, and the daemon is not root). */
export class ChallengeRefused extends Error {}

/** Writes a secret only `uid` can read; `dir` is created (0711) if needed and must be the daemon's own. */
export async function issueChallenge(dir: string, uid: number): Promise<IssuedChallenge> {
  const self = process.getuid?.() ?? -1;
  if (uid !== self && self !== 0) throw new ChallengeRefused(`this daemon runs as uid ${self}, not root: it can prove no uid but its own`);
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const d = await lstat(dir);
  // A planted directory (or symlink) would let its owner read or swap the files.
  if (!d.isDirectory() || d.uid !== self || (d.mode & 0o022) !== 0)
    throw new Error(`${dir} is not a directory that only this daemon's user can write`);
  const secret = randomBytes(32).toString('hex');
  const nonce = randomBytes(16).toString('hex');
  const file = path.join(dir, `c-${randomBytes(12).toString('hex')}`);
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(secret);
    if (uid !== self) await fh.chown(uid, -1);
    await fh.chmod(0o400);
  } catch (err) {
    await fh.close();
    await unlink(file).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return { file, nonce, expected: Buffer.from(challengeAnswer(nonce, secret)) };
}

export async function removeChallenge(issued: IssuedChallenge): Promise<void> {
  await unlink(issued.file).catch(() => undefined);
}
