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
import { drainWatch } from './drain.js';
import { buildFailure, followEcsRollback, type FollowOptions, readFindings } from './explain.js';
import type { Failure } from './failure.js';
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

/** Watches the deployment an UpdateService started, by its id, with DescribeServices. */
export async function watchRollingDeployment(
  ecs: ECSClient,
  opts: WatchOptions & {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
    /** Reads the target group's deregistration delay, to poll right after the old tasks drain. */
    elb?: ElasticLoadBalancingV2Client;
  },
): Promise<WatchResult> {
  const { clock, log, signal, cluster, service, deploymentId } = opts;
  const start = clock.now();
  const startedAt = clock.wall();
  const progress = new Progress(log);
  let ours: Deployment | undefined;
  let primary: Deployment | undefined;
  // ECS's own timestamps, so a skewed runner clock cannot hide or repeat events.
  const since = () => ours?.createdAt ?? startedAt;

  // When our deployment's counts last changed (watch clock): its steps (tasks starting,
  // failing, draining) keep a cadence, so the next one is predicted from them.
  const changes: number[] = [];
  let lastState: string | undefined;
  // Behind a load balancer the old tasks stop once the target group's delay is over (drain.ts).
  const drain = drainWatch({ elb: opts.elb, service, clock, log, signal });

  const poll = async (): Promise<Verdict | undefined> => {
    const polledAt = clock.now();
    const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), {
      abortSignal: signal,
    });
    const svc = out.services?.[0];
    if (!svc || svc.status !== 'ACTIVE') {
      return {
        outcome: 'failed',
        message: `ECS service '${service}' ${svc ? `became ${svc.status}` : 'no longer exists'} in cluster '${cluster}', so deployment ${deploymentId} cannot complete.`,
      };
    }
    ours = svc.deployments?.find((d) => d.id === deploymentId) ?? ours;
    primary = svc.deployments?.find((d) => d.status === 'PRIMARY') ?? primary;
    if (ours) progress.report('deployment', deploymentLine(ours));
    const state = ours && deploymentLine(ours);
    if (lastState !== undefined && state !== lastState) changes.push(polledAt);
    lastState = state;
    const from = since().getTime();
    const events = (svc.events ?? [])
      .filter((e) => e.createdAt !== undefined && e.createdAt.getTime() >= from)
      .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
    for (const e of events) progress.report(`event:${e.id ?? e.createdAt?.toISOString()}`, `  ${e.message}`);
    const verdict = rollingVerdict(svc, deploymentId);
    if (!verdict) await drain.observe(svc, from, allRunning(ours));
    return verdict;
  };

  const due = () => drain.due() ?? cadenceDue(changes.slice(-2));
  const { end, polls } = await pollLoop(opts, progress, start, poll, due);
  const status = ours?.rolloutState ?? 'UNKNOWN';
  const result = resultOf(status, () => clock.now() - start, polls);
  if (end.kind === 'cancelled') {
    return result('stopped', `Watch cancelled; ECS deployment ${deploymentId} was left ${status}.`, []);
  }
  if (end.kind === 'done' && end.verdict.outcome === 'succeeded') {
    return result('succeeded', end.verdict.message, []);
  }
  const follow: FollowOptions = {
    clock,
    pollIntervalMs: opts.pollIntervalMs,
    deadline: start + opts.timeoutMs,
    signal,
  };
  const explain = (message: string, kind: 'ended' | 'timeout', rollbackId?: string) =>
    explainRolling(ecs, { ...opts, ours, primary, since: since(), follow }, message, kind, rollbackId);
  if (end.kind === 'done') {
    const { details, failure } = await explain(end.verdict.message, 'ended');
    return { ...result(end.verdict.outcome, end.verdict.message, details), failure };
  }
  if (end.kind === 'unreachable') {
    const follow = `aws ecs describe-services --cluster ${cluster} --services ${service}`;
    const after =
      'The post step reports its state; ECS goes on with it (its circuit breaker, when enabled, rolls back a failure).';
    return result('unknown', lostSight(`ECS deployment ${deploymentId}`, status, end, [follow], after), []);
  }
  const { message, rollbackRequested, rollbackId } = await rollBackOnTimeout(ecs, opts, ours, status);
  const { details, failure } = await explain(message, 'timeout', rollbackId);
  return { ...result('timed-out', message, details, rollbackRequested), failure };
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
    primary?: Deployment;
    since: Date;
    follow: FollowOptions;
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
  });
  // The circuit breaker's rollback: a PRIMARY deployment of the previous revision that replaced
  // ours once ours FAILED (read again: ECS may start it just after; and between two polls it
  // may already have dropped ours). Another run's deployment is not mistaken for it.
  const now = kind === 'ended' ? await serviceNow(ecs, cluster, service) : undefined;
  const primary = now?.deployments?.find((d) => d.status === 'PRIMARY') ?? p.primary;
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
  const rollback =
    followId === undefined
      ? undefined
      : await followEcsRollback(ecs, { cluster, service, deploymentId: followId, by }, follow);
  const failure = await buildFailure(ecs, {
    kind: kind === 'timeout' ? 'timeout' : breaker ? 'circuit-breaker' : 'other',
    cause: kind === 'timeout' ? message : undefined,
    fallback: message,
    findings,
    deployed: ours?.taskDefinition,
    previous: p.previousTaskDefinitionArn ?? rollback?.taskDefinitionArn,
    rollback,
    target: { cluster, service, signal: follow.signal },
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
  opts: WatchOptions & {
    cluster: string;
    service: string;
    deploymentId: string;
    previousTaskDefinitionArn?: string;
  },
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
