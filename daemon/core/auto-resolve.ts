// The automatic resolution policy, as a pure planner: given the state, what
// the last scan saw and `now`, it says what the daemon would do about each
// open conflict. `portmand conflicts --plan` shows the plan; the shell
// (ops/auto-resolve.ts) carries out its moves and releases.
import {
  SEVERITIES,
  type AutoResolvePlan,
  type AutoResolveStep,
  type Conflict,
  type ConflictType,
  type Severity,
} from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import { ownership } from './owner.ts';
import { conflictNumber, type AssignmentEvent, type ServiceRecord, type State } from './state.ts';

/** One config rule: conflicts of this type (any when absent) and at least this severity (any when absent) are resolved with `strategy`. */
export interface AutoResolveRule {
  type?: ConflictType;
  minSeverity?: Severity;
  strategy: 'auto';
}

/** The config's `conflicts` object. */
export interface ConflictPolicy {
  autoResolve: AutoResolveRule[];
  maxMovesPerHour: number;
}

export const DEFAULT_CONFLICT_POLICY: ConflictPolicy = { autoResolve: [], maxMovesPerHour: 3 };

/** The why-code of a move the daemon made on its own; the history is what the back-off counts. */
export const DAEMON_MOVE = 'resolve:auto:daemon';
const HOUR_MS = 3_600_000;

export interface PlanInput {
  state: State;
  policy: ConflictPolicy;
  /** What the last scan saw; null when there was none (then nobody is known to be not listening). */
  listeners: readonly Observation[] | null;
  /** Owner pids found not running. */
  deadPids: ReadonlySet<number>;
  /** Open foreign_listener conflicts whose listener the service's own process started (a child of its owner). */
  ownChildren?: ReadonlySet<string>;
  now: number;
}

export function matches(rule: AutoResolveRule, c: Pick<Conflict, 'type' | 'severity'>): boolean {
  if (rule.type !== undefined && rule.type !== c.type) return false;
  return rule.minSeverity === undefined || SEVERITIES.indexOf(c.severity) <= SEVERITIES.indexOf(rule.minSeverity);
}

/**
 * Whether the daemon may act on `s` in conflict `c`: the service's own
 * `autoResolve` decides when set; otherwise leases (born of port.allocate)
 * may always be moved, and registered services when a config rule covers the
 * conflict. So the default policy moves only leases and services that opted in.
 */
export function covered(s: ServiceRecord, c: Conflict, rules: readonly AutoResolveRule[]): boolean {
  if (s.autoResolve !== undefined) return s.autoResolve;
  return s.origin === 'allocate' || rules.some((r) => matches(r, c));
}

/** How many times the daemon moved `name` in the hour before `now`. */
export function movesInLastHour(history: readonly AssignmentEvent[], name: string, now: number): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i]!;
    const at = Date.parse(h.at);
    if (at < now - HOUR_MS) break;
    if (h.service === name && h.why === DAEMON_MOVE) n++;
  }
  return n;
}

function listening(s: ServiceRecord, listeners: readonly Observation[]): boolean {
  return listeners.some((l) => l.protocol === s.protocol && ownership(s, l) === 'owner');
}

/** The step for one open conflict. */
function step(input: PlanInput, c: Conflict): AutoResolveStep {
  const base = { conflict: c.id, type: c.type, port: c.port };
  const none = (note: string): AutoResolveStep => ({ ...base, action: 'none', note });
  const { state, policy } = input;
  const involved = c.services.flatMap((n) => state.services[n] ?? []);
  // A lease whose owner died is given up, whatever the conflict (reconcile would after its hold-off).
  const deadLease = involved.find(
    (s) => s.origin === 'allocate' && s.pid !== undefined && input.deadPids.has(s.pid) && covered(s, c, policy.autoResolve),
  );
  if (deadLease) return { ...base, action: 'release', service: deadLease.name, note: `the lease's owner process ${deadLease.pid} is gone` };
  let mover: ServiceRecord | undefined;
  if (c.type === 'foreign_listener') {
    mover = involved[0];
    if (!mover) return none('no registered service is involved');
    if (input.ownChildren?.has(c.id)) return none(`the listener is a child of ${mover.name}'s owner process: nothing to move`);
    if (input.listeners === null) return none('no scan yet: cannot tell whether the service is listening');
    if (listening(mover, input.listeners)) return none(`${mover.name} is listening: moving it would not move its process`);
  } else if (c.type === 'duplicate_assignment') {
    // The newer registration moves, as conflict.resolve's auto does.
    mover = [...involved].sort((a, b) => a.registeredAt.localeCompare(b.registeredAt) || (a.name < b.name ? -1 : 1)).pop();
    if (!mover) return none('no registered service is involved');
  } else {
    return none(`the policy does not resolve ${c.type} conflicts`);
  }
  if (!covered(mover, c, policy.autoResolve))
    return none(`${mover.name} did not opt in (autoResolve) and no config rule covers this conflict`);
  const moves = movesInLastHour(state.history, mover.name, input.now);
  if (moves >= policy.maxMovesPerHour) {
    return {
      ...base,
      action: 'hold',
      service: mover.name,
      note: `left open: the daemon moved ${mover.name} ${moves === 1 ? 'once' : `${moves} times`} in the last hour (maxMovesPerHour ${policy.maxMovesPerHour})`,
    };
  }
  return {
    ...base,
    action: 'move',
    service: mover.name,
    note: mover.restart ? `move ${mover.name} to a free port and run its restart action` : `move ${mover.name} to a free port`,
  };
}

/** What the policy would do now about every open conflict, oldest first. */
export function planAutoResolve(input: PlanInput): AutoResolvePlan {
  const open = Object.values(input.state.conflicts)
    .filter((c) => c.resolvedAt === null && !c.acknowledged)
    .sort((a, b) => conflictNumber(a.id) - conflictNumber(b.id));
  return { maxMovesPerHour: input.policy.maxMovesPerHour, steps: open.map((c) => step(input, c)) };
}
