// Verbs about conflicts: conflicts (open, or --all history) and resolve.
import { STRATEGIES, type AutoResolvePlan } from '../protocol.ts';
import { table, type Paint } from './format.ts';
import { oneOf, port, str, UsageError, type Verb } from './args.ts';
import { renderConflicts, renderResolve } from './render.ts';
import { show } from './show.ts';

export const conflicts: Verb = {
  name: 'conflicts',
  summary: 'list open conflicts; with --all the history, resolved and vanished ones too',
  options: {
    all: { type: 'boolean', help: 'history, newest first' },
    plan: { type: 'boolean', help: 'what the automatic resolution policy would do now (nothing is done)' },
  },
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const all = ctx.values.all === true;
    const pm = ctx.client();
    if (ctx.values.plan === true) {
      if (all) throw new UsageError('conflicts: --plan and --all do not go together');
      return void show(ctx, await pm.conflict.plan(), renderPlan);
    }
    const list = all ? await pm.conflict.history() : await pm.conflict.list({ open: true });
    show(ctx, list, (safe, p) => renderConflicts(safe, ctx.io.now(), p, all));
  },
};

/** One line per open conflict: what the policy would do, and why. */
function renderPlan(plan: AutoResolvePlan, p: Paint): string {
  if (plan.steps.length === 0) return p.dim('no open conflicts');
  const rows = plan.steps.map((s) => [s.conflict, String(s.port), s.type, s.action, s.service ?? '-', s.note]);
  return `${table(['ID', 'PORT', 'TYPE', 'ACTION', 'SERVICE', 'WHY'], rows, [], p.columns)}\n${p.dim(`at most ${plan.maxMovesPerHour} automatic moves per service per hour`)}`;
}

export const resolve: Verb = {
  name: 'resolve',
  args: '[<service>]',
  summary: `resolve a conflict, or move a service: --strategy ${STRATEGIES.join('|')}`,
  details: [
    'auto     move the service to a free port',
    'manual   move it to --port N',
    'swap     exchange its port with --with S',
    'reserve  keep the contested port reserved for the service, acknowledging the conflict',
    'Name a service, or the conflict with --conflict ID.',
  ].join('\n'),
  options: {
    strategy: { type: 'string', value: 'S', help: 'auto, manual, swap or reserve (required)' },
    port: { type: 'string', value: 'N', help: 'the new port, for manual' },
    with: { type: 'string', value: 'S', help: 'the other service, for swap' },
    conflict: { type: 'string', value: 'ID', help: 'the conflict to resolve instead of a service' },
  },
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    const v = ctx.values;
    const service = ctx.positionals[0];
    const conflictId = str(v.conflict);
    if ((service === undefined) === (conflictId === undefined))
      throw new UsageError('resolve: name a <service> or give --conflict ID (one of them)');
    const strategy = oneOf(v.strategy, '--strategy', STRATEGIES);
    if (!strategy) throw new UsageError('resolve: --strategy is required');
    if (strategy === 'manual' && v.port === undefined) throw new UsageError('resolve: --strategy manual needs --port N');
    if (strategy === 'swap' && v.with === undefined) throw new UsageError('resolve: --strategy swap needs --with S');
    const withService = str(v.with);
    const r = await ctx.client().conflict.resolve({
      service,
      conflictId,
      strategy,
      newPort: v.port === undefined ? undefined : port(v.port, '--port'),
      withService,
    });
    show(ctx, r, (safe) => renderResolve(safe, strategy === 'swap' ? withService : undefined));
  },
};

export const detect: Verb = {
  name: 'detect',
  summary: 'scan the ports now, reconcile, and list the open conflicts found',
  details: 'Exits 0 whether or not there are conflicts; with --json, the conflict.detect result (open conflicts).',
  options: {},
  positionals: { min: 0, max: 0 },
  async run(ctx) {
    const found = await ctx.client().conflict.detect();
    show(ctx, found, (safe, p) => renderConflicts(safe, ctx.io.now(), p, false));
  },
};
