/**
 * What the failed deployment's containers printed before they stopped, from CloudWatch Logs:
 * for each container whose task definition uses the `awslogs` driver, the stream ECS names
 * `<awslogs-stream-prefix>/<container>/<task id>` in `awslogs-group`, its last lines
 * (GetLogEvents). Read only; a denied or missing stream is said, never the run's error.
 */
import { GetLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTaskDefinitionCommand, type ContainerDefinition, type ECSClient } from '@aws-sdk/client-ecs';
import { errorText, isAwsError } from './aws-errors.js';
import type { FailedTask } from './failure.js';

export interface ContainerLog {
  container: string;
  taskId: string;
  logGroup: string;
  logStream: string;
  lines: string[];
}

export interface ContainerLogs {
  logs: ContainerLog[];
  /** Why some logs are not shown (access denied, no stream yet), one line each. */
  notes: string[];
  /** Whether a read was denied, so the caller can say which permission to add. */
  denied: string[];
}

/** Tasks read at most: crashes repeat, and the newest ones say the most. */
export const MAX_TASKS = 2;

/** The stream ECS writes a container's output to (awslogs), or undefined for other drivers. */
export function awslogsStream(
  def: ContainerDefinition,
  taskId: string,
): { logGroup: string; logStream: string } | undefined {
  const cfg = def.logConfiguration;
  const group = cfg?.options?.['awslogs-group'];
  if (cfg?.logDriver !== 'awslogs' || !group || !def.name) return undefined;
  const prefix = cfg.options?.['awslogs-stream-prefix'];
  return { logGroup: group, logStream: prefix ? `${prefix}/${def.name}/${taskId}` : taskId };
}

/** The log groups a task definition's awslogs containers write to (for the policy). */
export function awslogsGroups(defs: readonly ContainerDefinition[] | undefined): string[] {
  const groups = (defs ?? [])
    .filter((d) => d.logConfiguration?.logDriver === 'awslogs')
    .map((d) => d.logConfiguration?.options?.['awslogs-group'])
    .filter((g): g is string => typeof g === 'string' && g !== '');
  return [...new Set(groups)];
}

async function describe(ecs: ECSClient, taskDefinition: string, signal?: AbortSignal) {
  try {
    return await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition }), { abortSignal: signal });
  } catch {
    return undefined;
  }
}

const taskIdOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

export async function readContainerLogs(
  clients: { ecs: ECSClient; logs: CloudWatchLogsClient },
  tasks: readonly FailedTask[],
  maxLines: number,
  signal?: AbortSignal,
): Promise<ContainerLogs> {
  const out: ContainerLogs = { logs: [], notes: [], denied: [] };
  if (maxLines <= 0) return out;
  const definitions = new Map<string, ContainerDefinition[]>();
  for (const task of tasks.slice(-MAX_TASKS)) {
    const arn = task.taskDefinitionArn;
    if (arn === undefined) continue;
    if (!definitions.has(arn)) {
      const td = await describe(clients.ecs, arn, signal);
      definitions.set(arn, td?.taskDefinition?.containerDefinitions ?? []);
    }
    const defs = (definitions.get(arn) ?? []).filter(
      (d) => task.containers.length === 0 || task.containers.includes(d.name ?? ''),
    );
    for (const def of defs) {
      const where = awslogsStream(def, taskIdOf(task.taskArn));
      if (where === undefined) continue;
      await readOne(
        clients.logs,
        { ...where, container: def.name ?? '', taskId: taskIdOf(task.taskArn) },
        maxLines,
        out,
        signal,
      );
    }
  }
  return out;
}

async function readOne(
  logs: CloudWatchLogsClient,
  where: Omit<ContainerLog, 'lines'>,
  maxLines: number,
  out: ContainerLogs,
  signal?: AbortSignal,
): Promise<void> {
  try {
    const got = await logs.send(
      new GetLogEventsCommand({
        logGroupName: where.logGroup,
        logStreamName: where.logStream,
        limit: Math.min(maxLines, 10_000),
        startFromHead: false,
      }),
      { abortSignal: signal },
    );
    const lines = (got.events ?? []).map((e) => (e.message ?? '').replace(/\r?\n$/, ''));
    // Crashing tasks print the same lines over and over: each output is shown once.
    const same = out.logs.find((l) => l.container === where.container && sameLines(l.lines, lines));
    if (same)
      out.notes.push(
        `container ${where.container} of task ${where.taskId} printed the same ${lines.length} lines as task ${same.taskId}`,
      );
    else out.logs.push({ ...where, lines });
  } catch (err) {
    if (isAwsError(err, 'AccessDeniedException') || isAwsError(err, 'AccessDenied')) {
      if (!out.denied.includes(where.logGroup)) out.denied.push(where.logGroup);
    } else if (isAwsError(err, 'ResourceNotFoundException')) {
      out.notes.push(
        `container ${where.container} of task ${where.taskId} has no log stream ${where.logGroup}:${where.logStream} (it may never have started)`,
      );
    } else {
      out.notes.push(
        `container ${where.container} of task ${where.taskId}: its log could not be read (${errorText(err)})`,
      );
    }
  }
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}
