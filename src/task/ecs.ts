/** The one-off task's ECS calls: start it, read it, stop it, and find a recorded one. */
import {
  DescribeTasksCommand,
  type ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { UserError } from '../errors.js';

/** What the post step needs to stop a one-off task the run started (saved before RunTask). */
export interface TaskRecord {
  cluster: string;
  region: string;
  taskDefinitionArn: string;
  startedBy: string;
  clientToken: string;
  /** Set after RunTask answered. */
  taskArn?: string;
}

/** RunTask; ECS's refusal of the request is the user's to fix. */
export async function startTask(ecs: ECSClient, input: RunTaskCommandInput): Promise<Task> {
  let out;
  try {
    out = await ecs.send(new RunTaskCommand(input));
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    if (['ClientException', 'InvalidParameterException', 'PlatformUnknownException'].includes(name)) {
      throw new UserError({
        where: 'run-task',
        what: `ECS refused to run the one-off task: ${(e as Error).message}`,
        fix: 'Correct what ECS names (run-task-container, run-task-command, run-task-subnets, run-task-security-groups, run-task-launch-type), or the task definition.',
      });
    }
    throw e;
  }
  const task = out.tasks?.[0];
  if (task?.taskArn === undefined) {
    const f = out.failures?.[0];
    throw new Error(
      `RunTask started no task${f ? `: ${f.reason ?? 'no reason'}${f.detail ? ` (${f.detail})` : ''}` : '.'}`,
    );
  }
  return task;
}

export async function describeTask(ecs: ECSClient, cluster: string, taskArn: string): Promise<Task> {
  const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
  const task = out.tasks?.[0];
  if (task === undefined) {
    // A clientToken ECS saw before answers the task it started then, which may be long gone.
    throw new UserError({
      where: 'run-task',
      what: `ECS no longer knows the one-off task ${taskArn}: the same step of this run attempt started it earlier (same revision and command), and ECS has since forgotten it.`,
      fix: 'Re-run the job (a new attempt runs a new task), or change run-task-command.',
    });
  }
  return task;
}

export async function stopTask(
  ecs: ECSClient,
  cluster: string,
  taskArn: string,
  reason: string,
): Promise<void> {
  await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, 255) }));
}

/**
 * The tasks a record names: its ARN, or (when RunTask's answer was lost) the running tasks
 * started by the record's startedBy from its revision.
 */
export async function recordedTasks(ecs: ECSClient, record: TaskRecord): Promise<string[]> {
  if (record.taskArn !== undefined) return [record.taskArn];
  const listed = await ecs.send(
    new ListTasksCommand({ cluster: record.cluster, startedBy: record.startedBy, desiredStatus: 'RUNNING' }),
  );
  const arns = listed.taskArns ?? [];
  if (arns.length === 0) return [];
  const described = await ecs.send(new DescribeTasksCommand({ cluster: record.cluster, tasks: arns }));
  return (described.tasks ?? [])
    .filter((t) => t.taskDefinitionArn === record.taskDefinitionArn && t.taskArn !== undefined)
    .map((t) => t.taskArn as string);
}
