import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  type ECSClient,
  type Service,
  type ServiceEvent,
  type Task,
} from '@aws-sdk/client-ecs';
import { errorText, resourceName } from './aws-errors.js';
import { type FailedTask, isRoutineEvent } from './failure.js';

/**
 * What ECS knows about a failed deployment that the user cannot see from the CI log:
 * the service's events and why the new tasks stopped. AWS keeps stopped tasks for about
 * an hour, so this is read right when the watch ends.
 */

const MAX_EVENTS = 10;
const MAX_STOP_REASONS = 5;

/** Events at or after `since` that explain something (routine progress left out), newest last. */
export function serviceEventLines(events: ServiceEvent[] | undefined, since: Date): string[] {
  return (events ?? [])
    .filter((e) => e.createdAt !== undefined && e.createdAt.getTime() >= since.getTime())
    .filter((e) => !isRoutineEvent(e.message ?? ''))
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0))
    .slice(-MAX_EVENTS)
    .map((e) => `service event ${e.createdAt?.toISOString()}: ${e.message ?? ''}`);
}

export function stoppedTaskReason(task: Task): string {
  const parts: string[] = [];
  const stopped = [task.stopCode, task.stoppedReason].filter(Boolean).join(': ');
  if (stopped) parts.push(stopped);
  for (const c of task.containers ?? []) {
    const exit = c.exitCode !== undefined && c.exitCode !== 0 ? `exit code ${c.exitCode}` : '';
    const detail = [c.reason, exit].filter(Boolean).join(', ');
    if (detail) parts.push(`container ${c.name ?? '?'}: ${detail}`);
  }
  return parts.join('; ') || 'no reason given';
}

const HINTS: { pattern: RegExp; hint: string }[] = [
  {
    pattern: /unable to pull secrets or registry auth|ResourceInitializationError/i,
    hint: "the task execution role cannot fetch the image or the task's secrets: give it ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer and, for the secrets it references, ssm:GetParameters / secretsmanager:GetSecretValue / kms:Decrypt; the task's subnets also need a route to those services (NAT gateway or VPC endpoints).",
  },
  {
    pattern: /CannotPullContainerError/i,
    hint: "the image could not be pulled: check that the image URI and tag exist, that the repository policy lets this account pull, and that the task's subnets can reach the registry.",
  },
  {
    pattern: /Essential container in task exited/i,
    hint: "the application exited: read the container's logs (its awslogs log group) and check its command, environment and health check.",
  },
  {
    pattern: /failed (ELB|container) health checks/i,
    hint: 'the tasks started but were reported unhealthy: check the health check path and port of the target group or container against what the application serves, and its start-up time (healthCheckGracePeriodSeconds).',
  },
];

/**
 * A task the scheduler stopped to scale a task set or deployment down (a rollback's cleanup):
 * routine, and no explanation of a failure. One stopped for failed health checks is kept.
 */
export function isRoutineStop(task: Task): boolean {
  return (
    task.stopCode === 'ServiceSchedulerInitiated' &&
    /^Scaling activity initiated by/i.test(task.stoppedReason ?? '') &&
    !(task.containers ?? []).some((c) => c.exitCode !== undefined && c.exitCode !== 0)
  );
}

/** Stop reasons grouped and counted, then one hint per well-known cause. */
export function stoppedTaskLines(tasks: Task[]): string[] {
  const counts = new Map<string, number>();
  for (const t of tasks.filter((x) => !isRoutineStop(x))) {
    const reason = stoppedTaskReason(t);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  const lines = [...counts]
    .slice(0, MAX_STOP_REASONS)
    .map(([reason, n]) => `${n === 1 ? 'stopped task' : `${n} stopped tasks`}: ${reason}`);
  const all = [...counts.keys()].join('\n');
  for (const { pattern, hint } of HINTS) if (pattern.test(all)) lines.push(`hint: ${hint}`);
  return lines;
}

export interface EcsDiagnosticsQuery {
  cluster: string;
  service: string;
  /** Only events and stopped tasks from this time on: the deployment's own creation time. */
  since: Date;
  /** Only stopped tasks of this task definition. */
  taskDefinitionArn?: string;
  /** For CodeDeploy: the green task set, whose task definition is the new one while it exists. */
  greenTaskSetId?: string;
  signal?: AbortSignal;
  /** The service as the watch just read it (its events): then it is not read again. */
  read?: Service;
}

/** What ECS says about a failure: detail lines, the stopped tasks and their most common reason. */
export interface EcsFindings {
  lines: string[];
  tasks: FailedTask[];
  /** The most common stop reason and how many tasks stopped with it. */
  topReason?: { reason: string; count: number };
  /** The task definition the failed tasks ran. */
  taskDefinitionArn?: string;
}

export async function ecsDiagnostics(ecs: ECSClient, q: EcsDiagnosticsQuery): Promise<string[]> {
  return (await ecsFindings(ecs, q)).lines;
}

export async function ecsFindings(ecs: ECSClient, q: EcsDiagnosticsQuery): Promise<EcsFindings> {
  const lines: string[] = [];
  let svc: Service | undefined;
  try {
    svc =
      q.read ??
      (
        await ecs.send(new DescribeServicesCommand({ cluster: q.cluster, services: [q.service] }), {
          abortSignal: q.signal,
        })
      ).services?.[0];
    lines.push(...serviceEventLines(svc?.events, q.since));
  } catch (err) {
    lines.push(`could not read the service's events: ${errorText(err)}`);
  }
  const taskDefinitionArn =
    q.taskDefinitionArn ??
    svc?.taskSets?.find((s) => q.greenTaskSetId && s.id === q.greenTaskSetId)?.taskDefinition;
  let tasks: Task[] = [];
  try {
    tasks = await stoppedTasks(ecs, q, taskDefinitionArn);
    lines.push(...stoppedTaskLines(tasks));
  } catch (err) {
    lines.push(`could not read the stopped tasks: ${errorText(err)}`);
  }
  const failed = tasks.filter((t) => !isRoutineStop(t));
  return { lines, tasks: failed.map(failedTask), topReason: topReason(failed), taskDefinitionArn };
}

function failedTask(t: Task): FailedTask {
  const stopped = (t.containers ?? []).filter((c) => c.exitCode !== undefined && c.exitCode !== 0);
  const containers = (stopped.length > 0 ? stopped : (t.containers ?? [])).map((c) => c.name ?? '');
  return {
    taskArn: t.taskArn ?? '',
    taskDefinitionArn: t.taskDefinitionArn,
    containers: containers.filter(Boolean),
  };
}

function topReason(tasks: Task[]): EcsFindings['topReason'] {
  const counts = new Map<string, number>();
  for (const t of tasks) counts.set(stoppedTaskReason(t), (counts.get(stoppedTaskReason(t)) ?? 0) + 1);
  const [reason, count] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [];
  return reason === undefined || count === undefined ? undefined : { reason, count };
}

/**
 * What production serves now: the PRIMARY task set's task definition (CodeDeploy), else the
 * PRIMARY deployment's once it completed; undefined while that deployment is still rolling.
 */
export async function productionNow(
  ecs: ECSClient,
  q: { cluster: string; service: string; signal?: AbortSignal },
): Promise<{ taskDefinitionArn?: string; settled: boolean }> {
  const svc = (
    await ecs.send(new DescribeServicesCommand({ cluster: q.cluster, services: [q.service] }), {
      abortSignal: q.signal,
    })
  ).services?.[0];
  const set = svc?.taskSets?.find((s) => s.status === 'PRIMARY');
  if (set) return { taskDefinitionArn: set.taskDefinition, settled: set.stabilityStatus !== 'STABILIZING' };
  const primary = svc?.deployments?.find((d) => d.status === 'PRIMARY');
  return {
    taskDefinitionArn: primary?.taskDefinition ?? svc?.taskDefinition,
    settled:
      primary === undefined || primary.rolloutState === 'COMPLETED' || primary.rolloutState === undefined,
  };
}

async function stoppedTasks(
  ecs: ECSClient,
  q: EcsDiagnosticsQuery,
  taskDefinitionArn?: string,
): Promise<Task[]> {
  const listed = await ecs.send(
    new ListTasksCommand({
      cluster: q.cluster,
      serviceName: resourceName(q.service),
      desiredStatus: 'STOPPED',
    }),
    { abortSignal: q.signal },
  );
  // DescribeTasks takes at most 100 tasks, as many as one ListTasks page holds.
  const arns = (listed.taskArns ?? []).slice(0, 100);
  if (arns.length === 0) return [];
  const described = await ecs.send(new DescribeTasksCommand({ cluster: q.cluster, tasks: arns }), {
    abortSignal: q.signal,
  });
  return (described.tasks ?? [])
    .filter((t) => !taskDefinitionArn || t.taskDefinitionArn === taskDefinitionArn)
    .filter((t) => !t.stoppedAt || t.stoppedAt.getTime() >= q.since.getTime())
    .sort((a, b) => (a.stoppedAt?.getTime() ?? 0) - (b.stoppedAt?.getTime() ?? 0));
}
