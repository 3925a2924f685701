// The index's count of what each user owns (limits.maxPortsPerUser), kept in
// step with the ops that change services and reservations, and rebuilt the
// same from a state.
import { describe, expect, it } from 'vitest';
import { PortIndex } from '../../daemon/core/portindex.ts';
import { applyOp, emptyState, type Op } from '../../daemon/core/state.ts';
import { reservationRecord, serviceRecord } from './fixtures.ts';

const T0 = Date.UTC(2026, 0, 1);
const ALICE = { uid: 1001, user: 'alice' };
const BOB = { uid: 1002 };

const service = (name: string, port: number, owner?: { uid: number }) => serviceRecord(name, port, T0, owner && { owner });
const reservation = (port: number, owner?: { uid: number }) => reservationRecord(port, T0, owner && { owner });

describe('PortIndex.ownedBy', () => {
  it('counts services and reservations per owner through every op, and a rebuild agrees', () => {
    const state = emptyState();
    const index = PortIndex.build(state);
    const apply = (op: Op) => (index.beforeApply(state, op), applyOp(state, op));
    apply({ op: 'service', name: 'a1', value: service('a1', 5001, ALICE) });
    apply({ op: 'service', name: 'a2', value: service('a2', 5002, ALICE) });
    apply({ op: 'reservation', key: 'tcp/5003', value: reservation(5003, ALICE) });
    apply({ op: 'service', name: 'b1', value: service('b1', 5004, BOB) });
    apply({ op: 'service', name: 'daemon', value: service('daemon', 5005) });
    expect([index.ownedBy(ALICE.uid), index.ownedBy(BOB.uid)]).toEqual([3, 1]);
    // A move keeps the count; a change of owner moves it; deletions take it away.
    apply({ op: 'service', name: 'a1', value: service('a1', 5006, ALICE) });
    apply({ op: 'service', name: 'a2', value: service('a2', 5002, BOB) });
    apply({ op: 'reservation', key: 'tcp/5003', value: null });
    apply({ op: 'service', name: 'b1', value: null });
    expect([index.ownedBy(ALICE.uid), index.ownedBy(BOB.uid), index.ownedBy(0)]).toEqual([1, 1, 0]);
    const rebuilt = PortIndex.build(state);
    expect([rebuilt.ownedBy(ALICE.uid), rebuilt.ownedBy(BOB.uid)]).toEqual([1, 1]);
  });
});
