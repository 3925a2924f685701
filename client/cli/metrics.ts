// `portmand metrics`: Prometheus text format on stdout (for node_exporter's
// textfile collector), or with --serve HOST:PORT over HTTP at /metrics from
// this CLI process, for a scraper. The daemon itself opens no TCP port.
import http from 'node:http';
import type { PortmandClient } from '../client.ts';
import { ConnectionError } from '../errors.ts';
import { str, UsageError, type Verb } from './args.ts';
import { collectMetrics, downMetrics, renderProm, type Family } from './prom.ts';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const metrics: Verb = {
  name: 'metrics',
  summary: 'print metrics in Prometheus text format (with --serve: serve them over HTTP at /metrics)',
  details: [
    'Metric names are stable; the README lists them.',
    'With --serve the CLI keeps running (Ctrl-C to stop) and asks the daemon on every scrape;',
    'a scrape while the daemon is down answers portmand_up 0.',
  ].join('\n'),
  options: {
    serve: { type: 'string', value: 'HOST:PORT', help: 'serve /metrics over HTTP at this loopback address (port 0: any free port)' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const serve = str(ctx.values.serve);
    if (serve === undefined) {
      ctx.io.out(renderProm(await gather(ctx.client())).trimEnd());
      return;
    }
    const { host, port } = parseAddress(serve);
    const pm = ctx.client();
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
      if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('portmand: metrics are at /metrics\n');
      gather(pm).then(
        (families) => res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(renderProm(families)),
        (err: Error) => {
          // The daemon being away is a reading (portmand_up 0); anything else is the exporter's fault.
          if (err instanceof ConnectionError) res.writeHead(200, { 'content-type': CONTENT_TYPE }).end(renderProm(downMetrics()));
          else res.writeHead(500, { 'content-type': 'text/plain' }).end("portmand: could not read the daemon's metrics\n");
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    const addr = server.address() as { address: string; port: number };
    const shown = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
    ctx.io.err(`serving http://${shown}:${addr.port}/metrics; Ctrl-C to stop`);
    await ctx.io.untilStopped();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  },
};

async function gather(pm: PortmandClient): Promise<Family[]> {
  const [status, ports, services, openConflicts, health] = await Promise.all([
    pm.daemon.status(),
    pm.stats.ports(),
    pm.stats.services(),
    pm.conflict.list({ open: true }),
    pm.health.list(),
  ]);
  return collectMetrics({ status, ranges: ports.ranges, byStatus: services.byStatus, openConflicts, health });
}

/** "127.0.0.1:9464", "[::1]:9464", "localhost:0". */
export function parseAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--serve must be HOST:PORT such as 127.0.0.1:9464, got ${JSON.stringify(text)}`);
  return { host: (m[1] ?? m[2])!, port };
}
