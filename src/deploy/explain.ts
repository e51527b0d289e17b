/**
 * After a deployment failed: what ECS and CodeDeploy know about why, how the rollback AWS
 * made ended (followed to its end within the wait), and what production serves now. The
 * AWS calls live here; the words are `failure.ts`'s. Each strategy's watch calls these once,
 * at the end, and hands the `Failure` back in its WatchResult.
 */
import { GetDeploymentCommand, type CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ECSClient, ServiceDeployment } from '@aws-sdk/client-ecs';
import type { Clock } from '../clock.js';
import { errorText } from './aws-errors.js';
import { ecsFindings, type EcsDiagnosticsQuery, type EcsFindings, productionNow } from './diagnostics.js';
import type { Failure, FailureKind, RollbackOutcome } from './failure.js';
import { tasksCause } from './failure.js';
import { appSpecTaskDefinition } from './history.js';
import { describeServiceDeployment, isFinal } from './native.js';
import { nextQuiet } from './poll.js';

export interface FollowOptions {
  clock: Clock;
  pollIntervalMs: number;
  /** The watch's deadline on the monotonic clock; a rollback seen late still gets ROLLBACK_GRACE_MS. */
  deadline: number;
  signal?: AbortSignal;
}

/** A rollback started at (or after) the deadline is still followed this long, so its end is reported. */
export const ROLLBACK_GRACE_MS = 2 * 60_000;

/** A follow's deadline: the watch's, or the grace from now when that is later. */
export function followDeadline(opts: Pick<FollowOptions, 'clock' | 'deadline'>): number {
  return Math.max(opts.deadline, opts.clock.now() + ROLLBACK_GRACE_MS);
}

/** The first follow poll comes this soon: a rollback that only moves traffic back ends in seconds. */
const FOLLOW_FIRST_MS = 1_000;

/**
 * Polls `check` until it answers or the (graced) deadline passes; undefined at the deadline.
 * The first poll comes after a second and each next one ×1.5 later, up to the poll interval:
 * a quick rollback is reported at once, a slow one costs no more calls than before.
 */
async function followUntil<T>(
  opts: FollowOptions,
  check: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const { clock, signal } = opts;
  const deadline = followDeadline(opts);
  let interval = Math.min(FOLLOW_FIRST_MS, opts.pollIntervalMs);
  for (;;) {
    if (signal?.aborted) return undefined;
    try {
      const done = await check();
      if (done !== undefined) return done;
    } catch {
      // A failed read while following is not the deployment's failure: try again until the deadline.
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) return undefined;
    try {
      await clock.sleep(Math.min(interval, remaining), signal);
      interval = nextQuiet(interval, interval, false, opts.pollIntervalMs);
    } catch {
      return undefined;
    }
  }
}

const CODEDEPLOY_END: Record<string, RollbackOutcome['status']> = {
  Succeeded: 'succeeded',
  Failed: 'failed',
  Stopped: 'failed',
};

/** Follows a CodeDeploy rollback deployment to its end (or the deadline). */
export async function followCodeDeployRollback(
  cd: CodeDeployClient,
  rollbackId: string,
  previous: string | undefined,
  opts: FollowOptions,
): Promise<RollbackOutcome> {
  let taskDefinitionArn = previous;
  const status = await followUntil(opts, async () => {
    const info = (
      await cd.send(new GetDeploymentCommand({ deploymentId: rollbackId }), { abortSignal: opts.signal })
    ).deploymentInfo;
    taskDefinitionArn = appSpecTaskDefinition(info?.revision?.appSpecContent?.content) ?? taskDefinitionArn;
    return CODEDEPLOY_END[info?.status ?? ''];
  });
  return {
    by: `the rollback deployment ${rollbackId}`,
    id: rollbackId,
    status: status ?? 'in-progress',
    taskDefinitionArn,
  };
}

/** How ECS's own rollback of a service deployment stands; undefined when it did not roll back. */
export function nativeRollbackStatus(d: ServiceDeployment): RollbackOutcome['status'] | undefined {
  if (d.status === 'ROLLBACK_SUCCESSFUL') return 'succeeded';
  if (d.status === 'ROLLBACK_FAILED') return 'failed';
  if (d.status === 'ROLLBACK_REQUESTED' || d.status === 'ROLLBACK_IN_PROGRESS') return 'in-progress';
  return undefined;
}

/**
 * Follows an ECS-native service deployment that rolls back (ECS's own rollback, or ours on
 * timeout: the same service deployment) to its final status (ROLLBACK_SUCCESSFUL,
 * ROLLBACK_FAILED) or the deadline. Returns the deployment as last read.
 */
export async function followNativeRollback(
  ecs: ECSClient,
  last: ServiceDeployment,
  opts: FollowOptions,
): Promise<ServiceDeployment> {
  const arn = last.serviceDeploymentArn ?? '';
  let seen = last;
  if (isFinal(last)) return last;
  await followUntil(opts, async () => {
    seen = (await describeServiceDeployment(ecs, arn, opts.signal)) ?? seen;
    return isFinal(seen) ? seen : undefined;
  });
  return seen;
}

/** Reads ECS's side of the failure; a failed read becomes a detail line, never the run's error. */
export async function readFindings(ecs: ECSClient, q: EcsDiagnosticsQuery): Promise<EcsFindings> {
  try {
    return await ecsFindings(ecs, q);
  } catch (err) {
    return { lines: [`could not read what ECS knows: ${errorText(err)}`], tasks: [] };
  }
}

/** Puts together the Failure: the cause (the tasks' reason when nothing more specific is known), production now. */
export async function buildFailure(
  ecs: ECSClient,
  parts: {
    kind: FailureKind;
    cause?: string;
    fallback: string;
    findings: EcsFindings;
    deployed?: string;
    previous?: string;
    rollback?: RollbackOutcome;
    target: { cluster: string; service: string; signal?: AbortSignal };
    /** What production serves, when the strategy knows it better than the service's PRIMARY deployment. */
    production?: { taskDefinitionArn?: string };
  },
): Promise<Failure> {
  const { findings } = parts;
  const top = findings.topReason;
  let kind = parts.kind;
  let cause = parts.cause;
  if (cause === undefined && top !== undefined) {
    cause = tasksCause(parts.deployed ?? findings.taskDefinitionArn, top.reason, top.count);
    if (kind === 'other') kind = 'tasks';
  }
  let production = parts.production?.taskDefinitionArn;
  try {
    if (parts.production === undefined)
      production = (await productionNow(ecs, parts.target)).taskDefinitionArn;
  } catch {
    production = undefined;
  }
  return {
    kind,
    cause: cause ?? parts.fallback,
    deployed: parts.deployed ?? findings.taskDefinitionArn,
    previous: parts.previous,
    production,
    rollback: parts.rollback,
    tasks: findings.tasks,
  };
}
