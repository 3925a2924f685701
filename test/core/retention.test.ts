import { describe, expect, it } from 'vitest';
import type { Conflict } from '../../client/protocol.ts';
import { pruneConflicts } from '../../daemon/core/retention.ts';
import { emptyState } from '../../daemon/core/state.ts';

function conflict(id: string, resolvedAt: string | null): Conflict {
  return {
    id,
    port: 8080,
    protocol: 'tcp',
    type: 'foreign_listener',
    severity: 'critical',
    services: ['web'],
    detectedAt: '2026-01-01T00:00:00.000Z',
    resolvedAt,
    resolution: null,
  };
}

describe('pruneConflicts', () => {
  it('drops the closed conflicts that ended first, beyond the limit, and never an open one', () => {
    const state = emptyState();
    for (const c of [
      conflict('c1', '2026-01-03T00:00:00.000Z'),
      conflict('c2', '2026-01-01T00:00:00.000Z'),
      conflict('c3', null),
      conflict('c4', '2026-01-02T00:00:00.000Z'),
    ])
      state.conflicts[c.id] = c;
    expect(pruneConflicts(state, 1)).toEqual([
      { op: 'conflict', id: 'c2', value: null },
      { op: 'conflict', id: 'c4', value: null },
    ]);
    expect(pruneConflicts(state, 3)).toEqual([]);
  });
});
