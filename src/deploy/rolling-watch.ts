/**
 * Watches an ECS rolling update by its deployment id with DescribeServices: a line per change
 * and per service event, polls aimed at the next task step (cadence) and at the end of the
 * old tasks' drain; a failure explained, with the circuit breaker's (or our) rollback
 * watched the same way to its end.
 */
import {
  DescribeServicesCommand,
  UpdateServiceCommand,
  type Deployment,
  type ECSClient,
  type Service,
} from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { errorText } from './aws-errors.js';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { type DrainWatch, drainWatch } from './drain.js';
import { buildFailure, followDeadline, type FollowOptions, readFindings } from './explain.js';
import type { Failure, RollbackOutcome } from './failure.js';
import { cadenceDue } from './poll.js';
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

function deploymentLine(d: Deployment): string {
  const failed = d.failedTasks ? `, failedTasks ${d.failedTasks}` : '';
  return `ECS deployment ${d.id} (${d.status}): ${d.rolloutState ?? 'no rolloutState'}, running ${d.runningCount ?? 0}/${d.desiredCount ?? 0}, pending ${d.pendingCount ?? 0}${failed}`;
}

/**
 * Our deployment succeeded only once it is PRIMARY and COMPLETED with every task running.
 * The circuit breaker marks it FAILED and starts a new PRIMARY deployment of the previous
 * task definition; once that finishes ours is gone from the list.
 */
function rollingVerdict(svc: Service, deploymentId: string): Verdict | undefined {
  const ours = svc.deployments?.find((d) => d.id === deploymentId);
  const primary = svc.deployments?.find((d) => d.status === 'PRIMARY');
  const rolledBack =
    primary && primary.id !== deploymentId
      ? `; the deployment circuit breaker rolled back to ${primary.taskDefinition} (deployment ${primary.id})`
      : '';
  if (ours?.rolloutState === 'FAILED') {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} failed: ${(ours.rolloutStateReason ?? 'no reason given').replace(/\.$/, '')}${rolledBack}.`,
    };
  }
  if (ours?.status === 'PRIMARY') {
    return ours.rolloutState === 'COMPLETED' && ours.runningCount === ours.desiredCount
      ? {
          outcome: 'succeeded',
          message: `ECS deployment ${deploymentId} completed: ${ours.runningCount}/${ours.desiredCount} tasks of ${ours.taskDefinition} running.`,
        }
      : undefined;
  }
  if (!primary) {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} is ${ours ? ours.status : 'gone'} and the service has no PRIMARY deployment.`,
    };
  }
  if (!ours) {
    return {
      outcome: 'failed',
      message: `ECS deployment ${deploymentId} is no longer in the service${rolledBack}.`,
    };
  }
  return {
    outcome: 'failed',
    message: `ECS deployment ${deploymentId} was replaced by deployment ${primary.id} of ${primary.taskDefinition} before it completed (another deployment of this service started; a \`concurrency:\` group in the workflow keeps runs apart).`,
  };
}

/** Our deployment runs every task it wants, none pending. */
function allRunning(d: Deployment | undefined): boolean {
  return d !== undefined && (d.runningCount ?? 0) === (d.desiredCount ?? 0) && (d.pendingCount ?? 0) === 0;
}

interface RollingTarget {
  cluster: string;
  service: string;
  clock: Clock;
  signal?: AbortSignal;
}

/**
 * One rolling deployment polled with DescribeServices (ours, or the rollback that replaces
 * it): a line per change of it and per new service event, the moments its counts changed
 * (its steps keep a cadence, so the next is predicted from them) and the old tasks' drain.
 * `first` is an answer already read: the first poll uses it instead of a call.
 */
function rollingPoller(
  ecs: ECSClient,
  t: RollingTarget,
  deploymentId: string,
  deps: { progress: Progress; drain: DrainWatch; since: Date },
  verdictOf: (svc: Service) => Verdict | undefined,
  first?: Service,
) {
  const { cluster, service, clock, signal } = t;
  const changes: number[] = [];
  let lastState: string | undefined;
  let pending = first;
  let last: Service | undefined;
  let mine: Deployment | undefined;
  const poll = async (): Promise<Verdict | undefined> => {
    const polledAt = clock.now();
    const svc =
      pending ??
      (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: signal }))
        .services?.[0];
    pending = undefined;
    if (!svc || svc.status !== 'ACTIVE') {
      return {
        outcome: 'failed',
        message: `ECS service '${service}' ${svc ? `became ${svc.status}` : 'no longer exists'} in cluster '${cluster}', so deployment ${deploymentId} cannot complete.`,
      };
    }
    last = svc;
    mine = svc.deployments?.find((d) => d.id === deploymentId) ?? mine;
    const state = mine && deploymentLine(mine);
    if (state) deps.progress.report(`deployment:${deploymentId}`, state);
    if (lastState !== undefined && state !== lastState) changes.push(polledAt);
    lastState = state;
    // ECS's own timestamps, so a skewed runner clock cannot hide or repeat events.
    const from = (mine?.createdAt ?? deps.since).getTime();
    const events = (svc.events ?? [])
      .filter((e) => e.createdAt !== undefined && e.createdAt.getTime() >= from)
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    for (const e of events)
      deps.progress.report(`event:${e.id ?? e.createdAt?.toISOString()}`, `  ${e.message}`);
    const verdict = verdictOf(svc);
    if (!verdict) await deps.drain.observe(svc, from, allRunning(mine));
    return verdict;
  };
  return {
    poll,
    due: () => deps.drain.due() ?? cadenceDue(changes.slice(-2)),
    /** The service as last read, and the deployment as last seen in it. */
    last: () => last,
    deployment: () => mine,
  };
}

/** What the rolling watch is given: our deployment on its service. */
export type RollingWatchOptions = WatchOptions & {
  cluster: string;
  service: string;
  deploymentId: string;
  previousTaskDefinitionArn?: string;
  /** Reads the target group's deregistration delay, to poll right after the old tasks drain. */
  elb?: ElasticLoadBalancingV2Client;
};

/** Watches the deployment an UpdateService started, by its id, with DescribeServices. */
export async function watchRollingDeployment(
  ecs: ECSClient,
  opts: RollingWatchOptions,
): Promise<WatchResult> {
  const { clock, log, signal, service, deploymentId } = opts;
  const start = clock.now();
  const progress = new Progress(log);
  // Behind a load balancer the old tasks stop once the target group's delay is over (drain.ts).
  const drain = drainWatch({ elb: opts.elb, service, clock, log, signal });
  const deps = { progress, drain, since: clock.wall() };
  const ours = rollingPoller(ecs, opts, deploymentId, deps, (svc) => rollingVerdict(svc, deploymentId));
  const { end, polls } = await pollLoop(opts, progress, start, ours.poll, ours.due);
  const deployment = ours.deployment();
  const status = deployment?.rolloutState ?? 'UNKNOWN';
  const result = resultOf(status, () => clock.now() - start, polls);
  if (end.kind === 'cancelled') {
    return result('stopped', `Watch cancelled; ECS deployment ${deploymentId} was left ${status}.`, []);
  }
  if (end.kind === 'done' && end.verdict.outcome === 'succeeded') {
    return result('succeeded', end.verdict.message, []);
  }
  const follow: RollbackFollow = {
    clock,
    log,
    pollIntervalMs: opts.pollIntervalMs,
    deadline: start + opts.timeoutMs,
    signal,
    progress,
    drain,
  };
  const seen = {
    ours: deployment,
    lastRead: ours.last(),
    since: deployment?.createdAt ?? deps.since,
  };
  const explain = (message: string, kind: 'ended' | 'timeout', rollbackId?: string) =>
    explainRolling(ecs, { ...opts, ...seen, follow }, message, kind, rollbackId);
  if (end.kind === 'done') {
    const { details, failure } = await explain(end.verdict.message, 'ended');
    return { ...result(end.verdict.outcome, end.verdict.message, details), failure };
  }
  if (end.kind === 'unreachable') {
    const follow = `aws ecs describe-services --cluster ${opts.cluster} --services ${service}`;
    const after =
      'The post step reports its state; ECS goes on with it (its circuit breaker, when enabled, rolls back a failure).';
    return result('unknown', lostSight(`ECS deployment ${deploymentId}`, status, end, [follow], after), []);
  }
  const { message, rollbackRequested, rollbackId } = await rollBackOnTimeout(ecs, opts, deployment, status);
  const { details, failure } = await explain(message, 'timeout', rollbackId);
  return { ...result('timed-out', message, details, rollbackRequested), failure };
}

/** How the rollback is followed: the watch's own progress lines and drain prediction, a graced deadline. */
interface RollbackFollow extends FollowOptions {
  log: Log;
  progress: Progress;
  drain: DrainWatch;
}

/** The rollback deployment's end: COMPLETED with every task running, or FAILED (or gone). */
function rollbackVerdict(svc: Service, id: string): Verdict | undefined {
  const d = svc.deployments?.find((x) => x.id === id);
  if (d === undefined)
    return { outcome: 'failed', message: `ECS deployment ${id} is no longer in the service.` };
  if (d.rolloutState === 'FAILED')
    return { outcome: 'failed', message: `ECS deployment ${id} failed: ${d.rolloutStateReason ?? '?'}` };
  return d.rolloutState === 'COMPLETED' && d.runningCount === d.desiredCount
    ? { outcome: 'succeeded', message: `ECS deployment ${id} completed.` }
    : undefined;
}

/**
 * Follows a rolling rollback (the circuit breaker's, or ours on timeout) to its end as the
 * watch follows a deployment: the same back-off, step cadence and drain prediction, its lines
 * printed. The answer the failure was seen in serves as the first poll. At the (graced)
 * deadline, or when AWS stops answering, it is reported still in progress.
 */
async function followRollingRollback(
  ecs: ECSClient,
  target: { cluster: string; service: string; deploymentId: string; by: string; first?: Service },
  f: RollbackFollow,
): Promise<{ rollback: RollbackOutcome; service?: Service }> {
  const { deploymentId: id } = target;
  const poller = rollingPoller(
    ecs,
    { ...target, clock: f.clock, signal: f.signal },
    id,
    { progress: f.progress, drain: f.drain, since: f.clock.wall() },
    (svc) => rollbackVerdict(svc, id),
    target.first,
  );
  const start = f.clock.now();
  const opts = { ...f, timeoutMs: followDeadline(f) - start, rollbackOnTimeout: false };
  const end = await pollLoop(opts, f.progress, start, poller.poll, poller.due)
    .then((r) => r.end)
    .catch(() => undefined);
  const status: RollbackOutcome['status'] =
    end?.kind === 'done' ? (end.verdict.outcome === 'succeeded' ? 'succeeded' : 'failed') : 'in-progress';
  const rollback = {
    by: target.by,
    id,
    status,
    taskDefinitionArn: poller.deployment()?.taskDefinition,
  };
  return { rollback, service: end?.kind === 'done' ? poller.last() : undefined };
}

/** A rolling deployment's Failure: ECS's findings, the rollback (circuit breaker's or ours) followed to its end. */
async function explainRolling(
  ecs: ECSClient,
  p: {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
    ours?: Deployment;
    /** The service as the watch last read it. */
    lastRead?: Service;
    since: Date;
    follow: RollbackFollow;
  },
  message: string,
  kind: 'ended' | 'timeout',
  rollbackId?: string,
): Promise<{ details: string[]; failure: Failure }> {
  const { cluster, service, ours, follow } = p;
  const findings = await readFindings(ecs, {
    cluster,
    service,
    since: p.since,
    taskDefinitionArn: ours?.taskDefinition,
    signal: follow.signal,
    read: kind === 'ended' ? p.lastRead : undefined,
  });
  // The circuit breaker's rollback: a PRIMARY deployment of the previous revision that replaced
  // ours once ours FAILED. The answer the failure was seen in shows it when ECS started it in
  // the same step; else the service is read again (ECS may start it just after). Another run's
  // deployment is not mistaken for it.
  const replaced = (s?: Service) =>
    s?.deployments?.some((d) => d.status === 'PRIMARY' && d.id !== p.deploymentId);
  const now =
    kind !== 'ended'
      ? undefined
      : replaced(p.lastRead)
        ? p.lastRead
        : await serviceNow(ecs, cluster, service);
  const primary = now?.deployments?.find((d) => d.status === 'PRIMARY');
  const stillOurs = now !== undefined ? now.deployments?.find((d) => d.id === p.deploymentId) : ours;
  const previous = p.previousTaskDefinitionArn;
  const breaker =
    kind === 'ended' &&
    primary !== undefined &&
    primary.id !== p.deploymentId &&
    (stillOurs === undefined || stillOurs.rolloutState === 'FAILED') &&
    (previous !== undefined
      ? primary.taskDefinition === previous
      : now?.deploymentConfiguration?.deploymentCircuitBreaker?.rollback === true);
  const followId = rollbackId ?? (breaker ? primary?.id : undefined);
  const by = `${breaker ? "the circuit breaker's rollback" : 'the rollback'} (ECS deployment ${followId})`;
  const followed =
    followId === undefined
      ? undefined
      : await followRollingRollback(
          ecs,
          { cluster, service, deploymentId: followId, by, first: breaker ? now : undefined },
          follow,
        );
  const rollback = followed?.rollback;
  const after = followed?.service;
  const serving = after?.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition;
  const failure = await buildFailure(ecs, {
    kind: kind === 'timeout' ? 'timeout' : breaker ? 'circuit-breaker' : 'other',
    cause: kind === 'timeout' ? message : undefined,
    fallback: message,
    findings,
    deployed: ours?.taskDefinition,
    previous: p.previousTaskDefinitionArn ?? rollback?.taskDefinitionArn,
    rollback,
    target: { cluster, service, signal: follow.signal },
    // The rollback's last answer says what serves, when the follow saw it end.
    production: serving === undefined ? undefined : { taskDefinitionArn: serving },
  });
  return { details: findings.lines, failure };
}

async function serviceNow(ecs: ECSClient, cluster: string, service: string) {
  try {
    return (await ecs.send(new DescribeServicesCommand({ cluster, services: [service] })))?.services?.[0];
  } catch {
    return undefined;
  }
}

/** Past the deadline: UpdateService back to the previous task definition when rollback-on-timeout is on. */
async function rollBackOnTimeout(
  ecs: ECSClient,
  opts: RollingWatchOptions,
  ours: Deployment | undefined,
  status: string,
): Promise<{ message: string; rollbackRequested: boolean; rollbackId?: string }> {
  const { cluster, service, deploymentId } = opts;
  const counts = ours ? `, running ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0}` : '';
  const message = `ECS deployment ${deploymentId} did not complete within ${formatDuration(opts.timeoutMs)} (last rolloutState ${status}${counts}).`;
  const previous = opts.previousTaskDefinitionArn;
  if (!opts.rollbackOnTimeout) {
    return {
      message: `${message} The deployment continues in ECS: rollback on timeout is off.`,
      rollbackRequested: false,
    };
  }
  if (!previous) {
    return {
      message: `${message} No previous task definition is known, so nothing was rolled back; the deployment continues in ECS.`,
      rollbackRequested: false,
    };
  }
  try {
    const out = await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: previous }));
    const rollbackId = out.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
    return {
      message: `${message} Rolled the service back to ${previous} (UpdateService).`,
      rollbackRequested: true,
      rollbackId,
    };
  } catch (err) {
    return {
      message: `${message} Rolling back to ${previous} failed (${errorText(err)}); the deployment continues in ECS.`,
      rollbackRequested: false,
    };
  }
}
