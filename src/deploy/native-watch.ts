/**
 * Watches OUR ECS-native service deployment with DescribeServiceDeployments: a line per change
 * of status, lifecycle stage, hook status and traffic weights, the bake countdown, what a
 * PAUSE hook waits for; the verdict (or wait-until's early success); on timeout
 * StopServiceDeployment with rollback. A failure comes back as a `Failure` (native-failure.ts),
 * ECS's rollback followed to its end.
 */
import type { ECSClient, ServiceDeployment } from '@aws-sdk/client-ecs';
import type { Clock } from '../clock.js';
import { errorText } from './aws-errors.js';
import { announcedWaitDue, type Due, onWatchClock, trustedStart } from './poll.js';
import { ecsDiagnostics } from './diagnostics.js';
import { DRAIN_SETTLE_MS } from './drain.js';
import { type FollowOptions, nativeRollbackStatus } from './explain.js';
import { explainNative, type HookStages } from './native-failure.js';
import {
  awaitingHooks,
  describeServiceDeployment,
  failureReason,
  isFinal,
  nativeVerdict,
  pausedGuidance,
  progressLines,
  shortArn,
  stopWithRollback,
} from './native.js';
import {
  formatDuration,
  lostSight,
  pollLoop,
  Progress,
  resultOf,
  type Verdict,
  type WatchOptions,
  type WatchResult,
} from './watch.js';

export interface NativeWatchOptions extends WatchOptions {
  cluster: string;
  service: string;
  region: string;
  arn: string;
  /** 'complete', or a lifecycle stage at which the run stops waiting and succeeds. */
  waitUntil: string;
  /** A rollback run watches a stopped deployment: ROLLBACK_SUCCESSFUL is its success. */
  expectRollback?: boolean;
  taskDefinitionArn?: string;
  /** What the service ran before, when the service deployment's source revision cannot be read. */
  previousTaskDefinitionArn?: string;
  /** The longest deregistration delay of the service's target groups (ms): how long CLEAN_UP drains. */
  drainMs?: number;
}

/** The rollback run's verdict: it stopped the deployment, so a finished rollback is what it wanted. */
function rollbackVerdict(d: ServiceDeployment): Verdict | undefined {
  if (!isFinal(d)) return undefined;
  const name = `ECS service deployment ${d.serviceDeploymentArn ?? ''}`;
  if (d.status === 'ROLLBACK_SUCCESSFUL')
    return { outcome: 'succeeded', message: `${name} was rolled back.` };
  return { outcome: 'failed', message: `${name} ended ${d.status ?? '?'}: ${failureReason(d)}.` };
}

/**
 * A wait ECS announces by entering a state: the bake (BAKE_TIME, bakeTimeInMinutes), the
 * source revision's tasks draining at CLEAN_UP, and the target revision's draining once a
 * rollback moved the traffic back (both the target groups' deregistration delay, read by the
 * check). When it began: ECS's updatedAt as the deployment entered the state, when that lies
 * between the last poll before it and the poll that saw it; else that poll. Its end is the
 * change due next, so the watch sleeps through the wait (`wait`) or polls densely around its
 * end (`cadence`, where an earlier end is possible), and looks again right as it ends.
 */
class StageWait {
  began?: number;
  private before: number;
  private ending?: Due;
  private inStage = false;
  constructor(
    private readonly clock: Clock,
    start: number,
    private readonly entered: (d: ServiceDeployment) => boolean,
    private readonly waitMs: (d: ServiceDeployment) => number | undefined,
    private readonly kind: () => Due['kind'] = () => 'wait',
  ) {
    this.before = start;
  }

  /** The wait's end while the deployment is in the stage: once it moved on, the prediction came true. */
  get due(): Due | undefined {
    return this.inStage ? this.ending : undefined;
  }

  seen(d: ServiceDeployment, polledAt: number): void {
    this.inStage = this.entered(d);
    if (!this.inStage) {
      if (this.began === undefined) this.before = polledAt;
      return;
    }
    if (this.began !== undefined) return;
    const at = onWatchClock(d.updatedAt, this.clock.now(), this.clock.wall());
    const bounds = { after: this.before, seenAt: polledAt, startedAt: at };
    const waitMs = this.waitMs(d);
    const ending = waitMs === undefined ? undefined : announcedWaitDue(bounds, waitMs);
    this.ending = ending && { ...ending, kind: this.kind() };
    this.began = trustedStart(bounds) ?? polledAt;
  }
}

const bakeMinutes = (d: ServiceDeployment): number => d.deploymentConfiguration?.bakeTimeInMinutes ?? 0;

const inStage = (stage: string) => (d: ServiceDeployment) =>
  d.lifecycleStage === stage && d.status === 'IN_PROGRESS';

/** Whether the target revision takes (or took) traffic: then its tasks are registered in a target group. */
const takesTraffic = (d: ServiceDeployment): boolean =>
  (d.targetServiceRevision?.requestedProductionTrafficWeight ?? 0) > 0 ||
  (d.targetServiceRevision?.requestedTestTrafficWeight ?? 0) > 0;

/** ECS rolls back and has moved all traffic off the target revision: its tasks drain now. */
const rollbackDraining = (d: ServiceDeployment): boolean =>
  d.status === 'ROLLBACK_IN_PROGRESS' && !takesTraffic(d);

/**
 * The waits the watch can time: the bake, CLEAN_UP's drain and a rollback's drain (the drains
 * only when the check read the deregistration delay). A rollback's drain is slept through
 * only when the watch saw the target revision take traffic (its tasks were registered, so ECS
 * drains them); else it is a `cadence`: unregistered tasks stop at once.
 */
function stageWaits(clock: Clock, start: number, drainMs: number | undefined) {
  const drain = () => (drainMs === undefined ? undefined : drainMs + DRAIN_SETTLE_MS);
  let registered = false;
  const waits = [
    new StageWait(clock, start, inStage('BAKE_TIME'), (d) => bakeMinutes(d) * 60_000),
    new StageWait(clock, start, inStage('CLEAN_UP'), drain),
    new StageWait(clock, start, rollbackDraining, drain, () => (registered ? 'wait' : 'cadence')),
  ];
  return {
    bake: waits[0] as StageWait,
    seen(d: ServiceDeployment, polledAt: number): void {
      registered ||= takesTraffic(d);
      for (const w of waits) w.seen(d, polledAt);
    },
    due: (): Due | undefined => waits.find((w) => w.due)?.due,
  };
}

/** The bake countdown line, while the deployment bakes. */
function bakeLine(bake: StageWait, d: ServiceDeployment, now: number): string | undefined {
  if (!inStage('BAKE_TIME')(d) || bake.began === undefined) return undefined;
  const minutes = bakeMinutes(d);
  const left = Math.max(0, minutes * 60_000 - (now - bake.began));
  return `bake time: about ${Math.ceil(left / 60_000)} of ${minutes} min left (both revisions run; blue is stopped after it)`;
}

/** The stage each hook was first seen at while the deployment went forward (the API does not say). */
function noteHookStages(d: ServiceDeployment, stages: Map<string, string>): void {
  if (d.status !== 'IN_PROGRESS' || !d.lifecycleStage) return;
  for (const h of d.lifecycleHookDetails ?? []) {
    if (h.hookId && !stages.has(h.hookId)) stages.set(h.hookId, d.lifecycleStage);
  }
}

export async function watchNativeDeployment(ecs: ECSClient, opts: NativeWatchOptions): Promise<WatchResult> {
  const { clock, log, signal, arn } = opts;
  const start = clock.now();
  const startedAt = clock.wall();
  const progress = new Progress(log);
  const waits = stageWaits(clock, start, opts.drainMs);
  const guided = new Set<string>();
  const hookStages = new Map<string, string>();
  let last: ServiceDeployment | undefined;

  const poll = async (): Promise<Verdict | undefined> => {
    const polledAt = clock.now();
    const d = await describeServiceDeployment(ecs, arn, signal);
    if (!d) throw new Error(`DescribeServiceDeployments does not know ${arn}.`);
    last = d;
    waits.seen(d, polledAt);
    for (const [key, line] of progressLines(d)) progress.report(key, line);
    noteHookStages(d, hookStages);
    const countdown = bakeLine(waits.bake, d, clock.now());
    if (countdown) progress.report('bake', countdown);
    for (const h of awaitingHooks(d)) {
      if (guided.has(h.hookId ?? '')) continue;
      guided.add(h.hookId ?? '');
      const [first, ...rest] = pausedGuidance(d, h, opts);
      log.warning(first as string);
      for (const line of rest) log.info(line);
    }
    if (opts.expectRollback) return rollbackVerdict(d);
    const v = nativeVerdict(d, opts.waitUntil);
    if (v?.outcome === 'succeeded' && v.early) log.notice(v.message);
    return v && { outcome: v.outcome, message: v.message };
  };

  const { end, polls } = await pollLoop(opts, progress, start, poll, waits.due);
  return watchEnded(ecs, opts, { end, polls, last, hookStages, start, startedAt });
}

interface WatchEnd {
  end: Awaited<ReturnType<typeof pollLoop>>['end'];
  polls: number;
  last: ServiceDeployment | undefined;
  hookStages: HookStages;
  start: number;
  startedAt: Date;
}

/** What the watch ended with: success, lost sight, or a failure explained (watchFailed). */
async function watchEnded(ecs: ECSClient, opts: NativeWatchOptions, w: WatchEnd): Promise<WatchResult> {
  const { clock, log, arn } = opts;
  const { end, last } = w;
  const status = last?.status ?? 'UNKNOWN';
  const result = resultOf(status, () => clock.now() - w.start, w.polls);
  if (end.kind === 'cancelled') {
    return result('stopped', `Watch cancelled; ECS service deployment ${arn} was left ${status}.`, []);
  }
  if (end.kind === 'done' && end.verdict.outcome === 'succeeded') {
    // An early success (wait-until) was said as a notice already.
    if (!(
      last &&
      nativeVerdict(last, opts.waitUntil)?.outcome === 'succeeded' &&
      last.status !== 'SUCCESSFUL'
    ))
      log.info(end.verdict.message);
    return result('succeeded', end.verdict.message, []);
  }
  if (end.kind === 'unreachable') {
    // AWS stopped answering: this run cannot judge the deployment, and must not stop it on a
    // guess; the post step decides (on-cancel).
    const follow = `aws ecs describe-service-deployments --service-deployment-arns ${arn}`;
    return result('unknown', lostSight(`ECS service deployment ${arn}`, status, end, [follow]), []);
  }
  return watchFailed(ecs, opts, w, result);
}

/**
 * A failed, stopped or timed-out deployment: its Failure, with ECS's rollback (or ours, on
 * timeout) followed to its end. A rollback run's watch reports as it always did.
 */
async function watchFailed(
  ecs: ECSClient,
  opts: NativeWatchOptions,
  w: WatchEnd,
  result: ReturnType<typeof resultOf>,
): Promise<WatchResult> {
  const { clock, log, signal, arn } = opts;
  const { end, last } = w;
  const diagnostics = () =>
    ecsDiagnostics(ecs, {
      cluster: opts.cluster,
      service: opts.service,
      since: last?.createdAt ?? w.startedAt,
      taskDefinitionArn: opts.taskDefinitionArn,
      signal,
    });
  const follow: FollowOptions = {
    clock,
    pollIntervalMs: opts.pollIntervalMs,
    deadline: w.start + opts.timeoutMs,
    signal,
  };
  const explain = (
    d: ServiceDeployment,
    kind: 'ended' | 'timeout',
    message: string,
    rollbackRequested = false,
  ) => {
    if (rollbackRequested || nativeRollbackStatus(d) === 'in-progress')
      log.info(`ECS is rolling service deployment ${shortArn(arn)} back: following the rollback to its end.`);
    const q = { ...opts, last: d, end: kind, message, rollbackRequested, hookStages: w.hookStages };
    return explainNative(ecs, { ...q, since: w.startedAt, follow });
  };
  if (end.kind === 'done') {
    if (opts.expectRollback || !last)
      return result(end.verdict.outcome, end.verdict.message, await diagnostics());
    const { details, failure } = await explain(last, 'ended', end.verdict.message);
    return { ...result(end.verdict.outcome, end.verdict.message, details), failure };
  }
  if (!opts.expectRollback && last && nativeRollbackStatus(last) === 'in-progress') {
    // ECS was already rolling it back: a failure, not a timeout; its rollback is followed a while longer.
    const message = `ECS service deployment ${shortArn(arn)} failed; ECS was rolling it back when the wait ended: ${failureReason(last)}.`;
    const { details, failure } = await explain(last, 'ended', message);
    return { ...result('failed', message, details), failure };
  }
  const { message, rollbackRequested } = await stopOnTimeout(ecs, opts, last);
  if (opts.expectRollback || !last) {
    log.warning(message);
    return result('timed-out', message, await diagnostics(), rollbackRequested);
  }
  // Said once, as the run's error (the cause first); here only what happened, as it happens.
  log.info(message);
  const { details, failure } = await explain(last, 'timeout', message, rollbackRequested);
  return { ...result('timed-out', message, details, rollbackRequested), failure };
}

async function stopOnTimeout(
  ecs: ECSClient,
  opts: NativeWatchOptions,
  last: ServiceDeployment | undefined,
): Promise<{ message: string; rollbackRequested: boolean }> {
  const where = last ? ` (last ${last.status ?? '?'} at ${last.lifecycleStage ?? '?'})` : '';
  const message = `ECS service deployment ${shortArn(opts.arn)} did not finish within ${formatDuration(opts.timeoutMs)}${where}.`;
  if (!opts.rollbackOnTimeout || opts.expectRollback) {
    return { message: `${message} It goes on in ECS: rollback on timeout is off.`, rollbackRequested: false };
  }
  try {
    await stopWithRollback(ecs, opts.arn);
    return {
      message: `${message} Stopped it with rollback (StopServiceDeployment stopType ROLLBACK).`,
      rollbackRequested: true,
    };
  } catch (err) {
    return {
      message: `${message} StopServiceDeployment with rollback failed (${errorText(err)}), so it goes on in ECS.`,
      rollbackRequested: false,
    };
  }
}
