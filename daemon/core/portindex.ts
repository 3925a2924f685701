// A derived index of who holds, reserves and listens on each port, kept in
// step with State by the registry. Allocation asks it "is this port taken?"
// for thousands of ports per call, so it answers from typed arrays instead of
// walking every service.
import { PROTOCOLS, type Protocol } from '../../client/protocol.ts';
import type { Observation } from './observation.ts';
import { portKey, type Op, type State } from './state.ts';

const PORTS = 65536;

export interface PortRef {
  protocol: Protocol;
  port: number;
}

/** What reconcile and the check after a mutation ask of the index, so that neither walks every service to find a port's holders. */
export interface PortLookup {
  /** The names of the services on a port. */
  holdersOf(protocol: Protocol, port: number): readonly string[];
  /** Every port that two or more services hold, with their names. */
  sharedPorts(): Array<PortRef & { names: string[] }>;
  /** The ids of the open conflicts on a port. */
  openConflictsOn(protocol: Protocol, port: number): readonly string[];
  /** The names of the services that record an owner pid. */
  owned(): ReadonlySet<string>;
  /** The names of the services with a lease (expiresAt). */
  leased(): ReadonlySet<string>;
}

interface Table {
  held: Uint16Array;
  reserved: Uint8Array;
  listening: Uint8Array;
}

function table(): Table {
  return { held: new Uint16Array(PORTS), reserved: new Uint8Array(PORTS), listening: new Uint8Array(PORTS) };
}

export class PortIndex implements PortLookup {
  private readonly tables = Object.fromEntries(PROTOCOLS.map((p) => [p, table()])) as Record<Protocol, Table>;
  /** Arrays, not Sets: nearly every port has one holder, and a Set of one costs three times the heap (bench: 1 MiB at 10,000 services). */
  private readonly holders = new Map<string, string[]>();
  /** Who each reservation is for, by port key (reservations without `for` are absent). */
  private readonly reservedFor = new Map<string, string>();
  private listeners = new Map<string, Observation[]>();
  /** Open conflict ids by port key, so the check after a mutation finds a port's conflicts without walking them all. */
  private readonly open = new Map<string, Set<string>>();
  // The services a scan round must look at one by one: walking every service
  // (Object.values of a large dictionary-mode object sorts it) is what made a
  // round slow at 10,000 services.
  private readonly withPid = new Set<string>();
  private readonly withLease = new Set<string>();
  /** Services and reservations per owner uid (limits.maxPortsPerUser); records without an owner are the daemon's, never limited. */
  private readonly byOwner = new Map<number, number>();

  static build(state: State): PortIndex {
    const index = new PortIndex();
    for (const s of Object.values(state.services)) {
      index.hold(s.protocol, s.port, s.name);
      index.note(s);
      index.own(s, 1);
    }
    for (const r of Object.values(state.reservations)) {
      index.reserve(r);
      index.own(r, 1);
    }
    for (const c of Object.values(state.conflicts)) if (c.resolvedAt === null) index.track(c.id, c);
    return index;
  }

  /** Updates the index for an op; call it before applyOp, while `state` still holds the old value. */
  beforeApply(state: State, op: Op): void {
    if (op.op === 'service') {
      const old = state.services[op.name];
      if (old) {
        this.unhold(old.protocol, old.port, old.name);
        this.own(old, -1);
      }
      this.withPid.delete(op.name);
      this.withLease.delete(op.name);
      if (op.value) {
        this.hold(op.value.protocol, op.value.port, op.value.name);
        this.note(op.value);
        this.own(op.value, 1);
      }
    } else if (op.op === 'reservation') {
      const old = state.reservations[op.key];
      if (old) {
        this.tables[old.protocol].reserved[old.port] = 0;
        this.reservedFor.delete(portKey(old.protocol, old.port));
        this.own(old, -1);
      }
      if (op.value) {
        this.reserve(op.value);
        this.own(op.value, 1);
      }
    } else if (op.op === 'conflict') {
      const old = state.conflicts[op.id];
      if (old && old.resolvedAt === null) this.untrack(op.id, old);
      if (op.value && op.value.resolvedAt === null) this.track(op.id, op.value);
    }
  }

  /** Replaces the listening set with the latest scan. */
  setListeners(observed: readonly Observation[]): void {
    for (const t of Object.values(this.tables)) t.listening.fill(0);
    this.listeners = new Map();
    for (const o of observed) {
      this.tables[o.protocol].listening[o.port] = 1;
      const key = portKey(o.protocol, o.port);
      const list = this.listeners.get(key);
      if (list) list.push(o);
      else this.listeners.set(key, [o]);
    }
  }

  /** Held by a service, reserved (except for `service` itself), or seen listening in the latest scan. */
  isTaken(protocol: Protocol, port: number, service?: string): boolean {
    const t = this.tables[protocol];
    if (t.held[port]! > 0 || t.listening[port] === 1) return true;
    return t.reserved[port] === 1 && (service === undefined || this.reservedFor.get(portKey(protocol, port)) !== service);
  }

  /** The ports reserved for a service, lowest first. */
  reservedPortsOf(protocol: Protocol, service: string): number[] {
    const prefix = `${protocol}/`;
    const out: number[] = [];
    for (const [key, name] of this.reservedFor) if (name === service && key.startsWith(prefix)) out.push(Number(key.slice(prefix.length)));
    return out.sort((a, b) => a - b);
  }

  holdersOf(protocol: Protocol, port: number): string[] {
    return [...(this.holders.get(portKey(protocol, port)) ?? [])];
  }

  listenersOf(protocol: Protocol, port: number): Observation[] {
    return this.listeners.get(portKey(protocol, port)) ?? [];
  }

  allListeners(): Observation[] {
    return [...this.listeners.values()].flat();
  }

  /** How many listeners the latest scan saw. */
  listenerCount(): number {
    let n = 0;
    for (const list of this.listeners.values()) n += list.length;
    return n;
  }

  owned(): ReadonlySet<string> {
    return this.withPid;
  }

  leased(): ReadonlySet<string> {
    return this.withLease;
  }

  /** How many services and reservations `uid` owns. */
  ownedBy(uid: number): number {
    return this.byOwner.get(uid) ?? 0;
  }

  private own(record: { owner?: { uid: number } }, by: 1 | -1): void {
    if (!record.owner) return;
    const n = (this.byOwner.get(record.owner.uid) ?? 0) + by;
    if (n > 0) this.byOwner.set(record.owner.uid, n);
    else this.byOwner.delete(record.owner.uid);
  }

  private note(s: { name: string; pid?: number; expiresAt?: string }): void {
    if (s.pid !== undefined) this.withPid.add(s.name);
    if (s.expiresAt !== undefined) this.withLease.add(s.name);
  }

  sharedPorts(): Array<PortRef & { names: string[] }> {
    const out: Array<PortRef & { names: string[] }> = [];
    for (const [key, names] of this.holders) {
      if (names.length < 2) continue;
      const slash = key.indexOf('/');
      out.push({ protocol: key.slice(0, slash) as Protocol, port: Number(key.slice(slash + 1)), names: [...names] });
    }
    return out;
  }

  openConflictsOn(protocol: Protocol, port: number): string[] {
    return [...(this.open.get(portKey(protocol, port)) ?? [])];
  }

  private track(id: string, c: { protocol: Protocol; port: number }): void {
    const key = portKey(c.protocol, c.port);
    const set = this.open.get(key);
    if (set) set.add(id);
    else this.open.set(key, new Set([id]));
  }

  private untrack(id: string, c: { protocol: Protocol; port: number }): void {
    const key = portKey(c.protocol, c.port);
    const set = this.open.get(key);
    set?.delete(id);
    if (set?.size === 0) this.open.delete(key);
  }

  private reserve(r: { protocol: Protocol; port: number; for?: string }): void {
    this.tables[r.protocol].reserved[r.port] = 1;
    if (r.for !== undefined) this.reservedFor.set(portKey(r.protocol, r.port), r.for);
  }

  private hold(protocol: Protocol, port: number, name: string): void {
    this.tables[protocol].held[port]!++;
    const key = portKey(protocol, port);
    const names = this.holders.get(key);
    if (!names) this.holders.set(key, [name]);
    else if (!names.includes(name)) names.push(name);
  }

  private unhold(protocol: Protocol, port: number, name: string): void {
    const t = this.tables[protocol];
    if (t.held[port]! > 0) t.held[port]!--;
    const key = portKey(protocol, port);
    const names = this.holders.get(key);
    const at = names?.indexOf(name) ?? -1;
    if (at >= 0) names!.splice(at, 1);
    if (names?.length === 0) this.holders.delete(key);
  }
}
