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

/**
 * What ECS knows about a failed deployment that the user cannot see from the CI log:
 * the service's events and why the new tasks stopped. AWS keeps stopped tasks for about
 * an hour, so this is read right when the watch ends.
 */

const MAX_EVENTS = 10;
const MAX_STOP_REASONS = 5;

/** Events at or after `since`, newest last. */
export function serviceEventLines(events: ServiceEvent[] | undefined, since: Date): string[] {
  return (events ?? [])
    .filter((e) => e.createdAt !== undefined && e.createdAt.getTime() >= since.getTime())
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

/** Stop reasons grouped and counted, then one hint per well-known cause. */
export function stoppedTaskLines(tasks: Task[]): string[] {
  const counts = new Map<string, number>();
  for (const t of tasks) {
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
}

export async function ecsDiagnostics(ecs: ECSClient, q: EcsDiagnosticsQuery): Promise<string[]> {
  const lines: string[] = [];
  let svc: Service | undefined;
  try {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: q.cluster, services: [q.service] }), {
      abortSignal: q.signal,
    });
    svc = out.services?.[0];
    lines.push(...serviceEventLines(svc?.events, q.since));
  } catch (err) {
    lines.push(`could not read the service's events: ${errorText(err)}`);
  }
  const taskDefinitionArn =
    q.taskDefinitionArn ??
    svc?.taskSets?.find((s) => q.greenTaskSetId && s.id === q.greenTaskSetId)?.taskDefinition;
  try {
    const tasks = await stoppedTasks(ecs, q, taskDefinitionArn);
    lines.push(...stoppedTaskLines(tasks));
  } catch (err) {
    lines.push(`could not read the stopped tasks: ${errorText(err)}`);
  }
  return lines;
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
