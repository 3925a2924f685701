import { describe, expect, it } from 'vitest';
import { applyOp, emptyState, STATUS_LOG_PER_SERVICE, statusOp } from '../../daemon/core/state.ts';

describe('status log', () => {
  it('keeps at most its share of lines per service, so one flapping service cannot push out the others', () => {
    const state = emptyState();
    applyOp(state, statusOp('stable', 'healthy', 0));
    for (let i = 1; i <= STATUS_LOG_PER_SERVICE + 50; i++) applyOp(state, statusOp('flap', i % 2 ? 'unhealthy' : 'healthy', i));
    expect(state.statusLog[0]).toMatchObject({ service: 'stable', status: 'healthy' });
    const flap = state.statusLog.filter((e) => e.service === 'flap');
    expect(flap).toHaveLength(STATUS_LOG_PER_SERVICE);
    expect(flap[0]!.at).toBe(new Date(51).toISOString());
  });
});
