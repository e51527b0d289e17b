/**
 * Watches OUR ECS-native service deployment with DescribeServiceDeployments: a line per change
 * of status, lifecycle stage, hook status and traffic weights, the bake countdown, what a
 * PAUSE hook waits for; the verdict (or wait-until's early success); on timeout
 * StopServiceDeployment with rollback.
 */
import type { ECSClient, ServiceDeployment } from '@aws-sdk/client-ecs';
import { errorText } from './aws-errors.js';
import { ecsDiagnostics } from './diagnostics.js';
import {
  awaitingHooks,
  describeServiceDeployment,
  failureReason,
  isFinal,
  nativeVerdict,
  pausedGuidance,
  progressLines,
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
}

/** The rollback run's verdict: it stopped the deployment, so a finished rollback is what it wanted. */
function rollbackVerdict(d: ServiceDeployment): Verdict | undefined {
  if (!isFinal(d)) return undefined;
  const name = `ECS service deployment ${d.serviceDeploymentArn ?? ''}`;
  if (d.status === 'ROLLBACK_SUCCESSFUL')
    return { outcome: 'succeeded', message: `${name} was rolled back.` };
  return { outcome: 'failed', message: `${name} ended ${d.status ?? '?'}: ${failureReason(d)}.` };
}

/** The bake countdown, measured from when this watch first saw BAKE_TIME (ECS reports no stage start). */
class BakeClock {
  private since?: number;
  constructor(private readonly now: () => number) {}
  line(d: ServiceDeployment): string | undefined {
    if (d.lifecycleStage !== 'BAKE_TIME' || d.status !== 'IN_PROGRESS') return undefined;
    const minutes = d.deploymentConfiguration?.bakeTimeInMinutes ?? 0;
    this.since ??= this.now();
    const left = Math.max(0, minutes * 60_000 - (this.now() - this.since));
    return `bake time: about ${Math.ceil(left / 60_000)} of ${minutes} min left (both revisions run; blue is stopped after it)`;
  }
}

export async function watchNativeDeployment(ecs: ECSClient, opts: NativeWatchOptions): Promise<WatchResult> {
  const { clock, log, signal, arn } = opts;
  const start = clock.now();
  const progress = new Progress(log);
  const bake = new BakeClock(() => clock.now());
  const guided = new Set<string>();
  let last: ServiceDeployment | undefined;

  const poll = async (): Promise<Verdict | undefined> => {
    const d = await describeServiceDeployment(ecs, arn, signal);
    if (!d) throw new Error(`DescribeServiceDeployments does not know ${arn}.`);
    last = d;
    for (const [key, line] of progressLines(d)) progress.report(key, line);
    const countdown = bake.line(d);
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

  const { end, polls } = await pollLoop(opts, progress, start, poll);
  const status = last?.status ?? 'UNKNOWN';
  const result = resultOf(status, () => clock.now() - start, polls);
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
  const explain = () =>
    ecsDiagnostics(ecs, {
      cluster: opts.cluster,
      service: opts.service,
      since: last?.createdAt ?? clock.wall(),
      taskDefinitionArn: opts.taskDefinitionArn,
      signal,
    });
  if (end.kind === 'done') return result(end.verdict.outcome, end.verdict.message, await explain());
  if (end.kind === 'unreachable') {
    // AWS stopped answering: this run cannot judge the deployment, and must not stop it on a
    // guess; the post step decides (on-cancel).
    const follow = `aws ecs describe-service-deployments --service-deployment-arns ${arn}`;
    return result('unknown', lostSight(`ECS service deployment ${arn}`, status, end, [follow]), []);
  }
  const { message, rollbackRequested } = await stopOnTimeout(ecs, opts, last);
  log.warning(message);
  return result('timed-out', message, await explain(), rollbackRequested);
}

async function stopOnTimeout(
  ecs: ECSClient,
  opts: NativeWatchOptions,
  last: ServiceDeployment | undefined,
): Promise<{ message: string; rollbackRequested: boolean }> {
  const where = last ? ` (last ${last.status ?? '?'} at ${last.lifecycleStage ?? '?'})` : '';
  const message = `ECS service deployment ${opts.arn} did not finish within ${formatDuration(opts.timeoutMs)}${where}.`;
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
