/**
 * The one-off task stage (run-task): RunTask from the revision being deployed, before the
 * deployment starts (a migration) or after it succeeded (a post-deploy job), then its
 * container's CloudWatch Logs lines while it runs, until it stops. Only exit code 0 of every
 * essential container lets the run go on. The post step learns of the task before RunTask is
 * called; on cancel or timeout the task is stopped here, and by the post step if this process
 * died first.
 */
import type { ContainerDefinition, Service, Task } from '@aws-sdk/client-ecs';
import type { Config } from '../config.js';
import { awslogsStream, lastLogLines, LogFollower } from '../logs.js';
import type { RunReport } from '../report.js';
import { inertLines, oneLine } from '../safe-text.js';
import type { OneOffTaskConfig } from '../task/config.js';
import { describeTask, startTask, stopTask, type TaskRecord } from '../task/ecs.js';
import {
  essentialContainers,
  runTaskInput,
  taskClientToken,
  taskContainer,
  taskVerdict,
} from '../task/run.js';
import { DeploymentFailed, type RunDeps } from './deps.js';
import type { Stages } from './stage.js';

export interface TaskTarget {
  cluster: string;
  region: string;
  taskDefinitionArn: string;
  /** The revision's containers (for the essential ones and the awslogs configuration). */
  containers: ContainerDefinition[];
  /** The containers the run deploys images to; the first is the task's default container. */
  deployed: string[];
  service?: Service;
}

const LAST_LINES = 20;

/** Runs the one-off task to its end; throws DeploymentFailed unless it succeeded. */
export async function runOneOffTask(
  task: OneOffTaskConfig,
  target: TaskTarget,
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<void> {
  const name = task.when === 'after' ? 'One-off task (after the deployment)' : 'One-off task';
  const outcome = await stages.run(
    name,
    () => runAndWait(task, target, config, deps),
    (o) => o.summary,
  );
  if (!outcome.ok) {
    report.outcome = 'task-failed';
    report.diagnostics.push(outcome.summary, ...outcome.lastLines);
    throw new DeploymentFailed(
      `The one-off task ${outcome.taskArn} failed, so ${task.when === 'after' ? 'the run fails after the deployment' : 'nothing was deployed'}: ${outcome.summary}${outcome.lastLines.length > 0 ? ' Its last log lines are above.' : ''}`,
      outcome.lastLines.map((l) => `task: ${l}`),
    );
  }
}

interface TaskOutcome {
  ok: boolean;
  taskArn: string;
  summary: string;
  lastLines: string[];
}

async function runAndWait(
  task: OneOffTaskConfig,
  target: TaskTarget,
  config: Config,
  deps: RunDeps,
): Promise<TaskOutcome> {
  const container = taskContainer(task, target.containers, target.deployed);
  const clientToken = taskClientToken({ ...task, container }, target.taskDefinitionArn);
  const input = runTaskInput(task, { ...target, container }, clientToken);
  const record: TaskRecord = {
    cluster: target.cluster,
    region: target.region,
    taskDefinitionArn: target.taskDefinitionArn,
    startedBy: task.startedBy,
    clientToken,
  };
  deps.saveState('task', JSON.stringify(record));
  const started = await startTask(deps.clients.ecs, input);
  const taskArn = started.taskArn as string;
  deps.saveState('task', JSON.stringify({ ...record, taskArn }));
  deps.setOutput('task-arn', taskArn);
  deps.log.info(
    `Started one-off task ${taskArn} from ${target.taskDefinitionArn}${container ? ` (container ${container}${task.command ? `: ${oneLine(JSON.stringify(task.command))}` : ''})` : ''}.`,
  );
  const def = target.containers.find((c) => c.name === container);
  const ref = def === undefined ? undefined : awslogsStream(def, taskArn);
  const follower = ref && deps.clients.logs ? new LogFollower(deps.clients.logs, ref) : undefined;
  if (follower === undefined) {
    deps.log.info('The container does not log with the awslogs driver: no log lines to show.');
  }
  const stopped = await waitForStop(
    {
      taskArn,
      cluster: target.cluster,
      timeoutMinutes: task.timeoutMinutes,
      pollSeconds: config.pollIntervalSeconds,
    },
    follower,
    deps,
  );
  deps.saveState('task-settled', 'true');
  const verdict = taskVerdict(stopped, essentialContainers(target.containers), container);
  if (verdict.exitCode !== undefined) deps.setOutput('task-exit-code', String(verdict.exitCode));
  const lastLines =
    verdict.ok || ref === undefined || deps.clients.logs === undefined
      ? []
      : (await lastLogLines(deps.clients.logs, ref, LAST_LINES)).map((l) => inertLines(oneLine(l)));
  return { ok: verdict.ok, taskArn, summary: oneLine(verdict.summary), lastLines };
}

/** Polls the task to STOPPED, printing its new log lines; stops it on timeout or cancel. */
async function waitForStop(
  at: { taskArn: string; cluster: string; timeoutMinutes: number; pollSeconds: number },
  follower: LogFollower | undefined,
  deps: RunDeps,
): Promise<Task> {
  const { clock, log } = deps;
  const { taskArn, cluster, timeoutMinutes } = at;
  const deadline = clock.now() + timeoutMinutes * 60_000;
  const interval = Math.max(1, at.pollSeconds) * 1000;
  let last = '';
  for (;;) {
    const task = await describeTask(deps.clients.ecs, cluster, taskArn);
    await printNewLines(follower, log);
    if (task.lastStatus !== last) {
      last = task.lastStatus ?? '';
      log.info(`Task ${last}.`);
    }
    if (task.lastStatus === 'STOPPED') return task;
    if (clock.now() >= deadline) {
      await stopTask(
        deps.clients.ecs,
        cluster,
        taskArn,
        `run-task-timeout-minutes (${timeoutMinutes}) ran out`,
      );
      deps.saveState('task-settled', 'true');
      throw new DeploymentFailed(
        `The one-off task ${taskArn} did not stop within run-task-timeout-minutes (${timeoutMinutes}); it was stopped, and nothing was deployed after it. Fix: raise run-task-timeout-minutes, or make the task finish sooner.`,
        [],
      );
    }
    try {
      await clock.sleep(interval, deps.signal);
    } catch (e) {
      // Cancelled: the task must not go on changing things behind a cancelled run.
      await stopTask(deps.clients.ecs, cluster, taskArn, 'The deploy run was cancelled').then(
        () => {
          deps.saveState('task-settled', 'true');
          log.info(`Stopped the one-off task ${taskArn} (the run was cancelled).`);
        },
        (err: Error) =>
          log.warning(
            `Could not stop the one-off task ${taskArn}: ${oneLine(err.message)}; the post step tries again.`,
          ),
      );
      throw e;
    }
  }
}

async function printNewLines(follower: LogFollower | undefined, log: RunDeps['log']): Promise<void> {
  if (follower === undefined) return;
  try {
    for (const e of await follower.read()) log.info(inertLines(`| ${e.message ?? ''}`));
  } catch (e) {
    log.warning(`Could not read the task's log lines: ${oneLine((e as Error).message)}`);
  }
}
