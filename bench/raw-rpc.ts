// A bare JSON-RPC connection for the bench: batches (which the client
// library does not send) and calls whose timing must not include any client
// bookkeeping. One NDJSON line out, one line back, matched by id.
import net from 'node:net';
import { createInterface } from 'node:readline';

type Reply = { id?: number; result?: unknown; error?: { code: number; message: string } };

export class RawRpc {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly batches: Array<(replies: Reply[]) => void> = [];

  private constructor(private readonly socket: net.Socket) {
    createInterface({ input: socket }).on('line', (line) => {
      const parsed = JSON.parse(line) as Reply | Reply[];
      if (Array.isArray(parsed)) this.batches.shift()?.(parsed);
      else if (parsed.id !== undefined) {
        this.waiting.get(parsed.id)?.(parsed);
        this.waiting.delete(parsed.id);
      }
    });
  }

  static connect(socketPath: string): Promise<RawRpc> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath, () => resolve(new RawRpc(socket)));
      socket.once('error', reject);
    });
  }

  call(method: string, params: object = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r.result)));
      this.socket.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  /** Sends the calls as one batch; rejects if any of them failed. Batches on one connection are answered in order. */
  batch(calls: Array<{ method: string; params: object }>): Promise<unknown[]> {
    const body = calls.map((c) => ({ jsonrpc: '2.0', id: this.nextId++, method: c.method, params: c.params }));
    return new Promise((resolve, reject) => {
      this.batches.push((replies) => {
        const failed = replies.find((r) => r.error);
        if (failed) reject(new Error(`batch: ${failed.error!.message}`));
        else resolve(replies.map((r) => r.result));
      });
      this.socket.write(`${JSON.stringify(body)}\n`);
    });
  }

  close(): void {
    this.socket.end();
  }
}
