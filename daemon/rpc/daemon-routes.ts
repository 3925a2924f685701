// daemon.* routes: what the daemon says of itself.
import { processFigures, storeFigures } from '../host/self.ts';
import { listConflicts } from '../ops/conflicts.ts';
import type { App, Routes } from './app.ts';

export function daemonRoutes(app: App): Routes<'daemon.status' | 'daemon.ping' | 'daemon.config'> {
  const { registry } = app;
  return {
    'daemon.status': () => {
      const scan = app.reconciler.lastScan;
      return {
        version: app.version,
        pid: process.pid,
        uptimeSec: Math.round((registry.now() - app.startedAt) / 1000),
        socket: app.socketPath,
        stateFile: app.stateFile,
        services: Object.keys(registry.state.services).length,
        openConflicts: listConflicts(registry, true).length,
        lastScan: scan && { at: new Date(scan.at).toISOString(), durationMs: scan.durationMs, listeners: scan.listeners },
        process: processFigures(),
        store: storeFigures(app),
        requests: app.requests.figures(registry.now()),
      };
    },
    'daemon.ping': () => 'pong',
    // The daemon's own view: its real environment and file, which a CLI in another shell cannot see.
    'daemon.config': () => app.config,
  };
}
