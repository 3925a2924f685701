// What every bench daemon shares: its environment in a temp dir, and the wait
// until it answers. Each bench adds its own flags and settings.
import path from 'node:path';
import { RawRpc } from './raw-rpc.ts';

/** The environment of a daemon whose socket and state live in `dir`, logging at warn; `extra` adds or overrides. */
export function daemonEnv(dir: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORTMAND_SOCKET: path.join(dir, 'pm.sock'),
    PORTMAND_STATE_DIR: path.join(dir, 'state'),
    PORTMAND_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Resolves once the daemon on `socket` answers a ping (about 10 s at most). */
export async function answering(socket: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      const rpc = await RawRpc.connect(socket);
      await rpc.call('daemon.ping');
      rpc.close();
      return;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
