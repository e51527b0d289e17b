/**
 * The one-off task, decided: its RunTask request (the service's network and capacity unless
 * the inputs say otherwise), its clientToken, and its verdict once stopped. Pure.
 */
import { createHash } from 'node:crypto';
import type { ContainerDefinition, RunTaskCommandInput, Service, Task } from '@aws-sdk/client-ecs';
import type { Problem } from '../errors.js';
import type { OneOffTaskConfig } from './config.js';

/**
 * The RunTask clientToken: the same for the same run attempt, stage, revision and command, so
 * a retried call (the SDK's, or ours) gets the task the first one started and starts no
 * second one. A new attempt of the workflow run is a new token: re-running a job runs it again.
 */
export function taskClientToken(
  task: Pick<OneOffTaskConfig, 'runId' | 'runAttempt' | 'step' | 'when' | 'command' | 'container'>,
  taskDefinitionArn: string,
): string {
  const seed = JSON.stringify([
    task.runId,
    task.runAttempt,
    task.step ?? null,
    task.when,
    taskDefinitionArn,
    task.command ?? null,
    task.container ?? null,
  ]);
  return `ecs-deploy-${createHash('sha256').update(seed).digest('hex').slice(0, 40)}`;
}

/** The container the task's command, environment and streamed logs are about. */
export function taskContainer(
  task: Pick<OneOffTaskConfig, 'container'>,
  containers: ContainerDefinition[],
  deployed: string[],
): string | undefined {
  if (task.container !== undefined) return task.container;
  return deployed[0] ?? containers.find((c) => c.essential !== false)?.name ?? containers[0]?.name;
}

/** The request: the service's subnets, security groups, public IP and capacity by default. */
export function runTaskInput(
  task: OneOffTaskConfig,
  target: { cluster: string; taskDefinitionArn: string; container?: string; service?: Service },
  clientToken: string,
): RunTaskCommandInput {
  const svc = target.service;
  const own = svc?.networkConfiguration?.awsvpcConfiguration;
  const subnets = task.subnets.length > 0 ? task.subnets : (own?.subnets ?? []);
  const securityGroups = task.securityGroups.length > 0 ? task.securityGroups : (own?.securityGroups ?? []);
  const assignPublicIp = task.assignPublicIp ?? own?.assignPublicIp;
  const override =
    target.container !== undefined && (task.command !== undefined || task.environment.length > 0)
      ? [
          {
            name: target.container,
            ...(task.command !== undefined ? { command: task.command } : {}),
            ...(task.environment.length > 0 ? { environment: task.environment } : {}),
          },
        ]
      : undefined;
  const strategy = svc?.capacityProviderStrategy ?? [];
  const capacity =
    task.launchType !== undefined
      ? { launchType: task.launchType }
      : strategy.length > 0
        ? { capacityProviderStrategy: strategy }
        : svc?.launchType !== undefined
          ? { launchType: svc.launchType }
          : {};
  return {
    cluster: target.cluster,
    taskDefinition: target.taskDefinitionArn,
    count: 1,
    ...capacity,
    ...(svc?.platformVersion && !('capacityProviderStrategy' in capacity) && capacity.launchType === 'FARGATE'
      ? { platformVersion: svc.platformVersion }
      : {}),
    ...(subnets.length > 0
      ? {
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets,
              ...(securityGroups.length > 0 ? { securityGroups } : {}),
              ...(assignPublicIp !== undefined ? { assignPublicIp } : {}),
            },
          },
        }
      : {}),
    ...(override !== undefined ? { overrides: { containerOverrides: override } } : {}),
    startedBy: task.startedBy,
    ...(task.tags.length > 0 ? { tags: task.tags } : {}),
    enableECSManagedTags: true,
    propagateTags: 'TASK_DEFINITION',
    clientToken,
  };
}

export interface TaskVerdict {
  ok: boolean;
  /** The exit code reported as task-exit-code: the first failing essential container's, else the task container's. */
  exitCode?: number;
  /** One line: which container ended how, and why the task stopped. */
  summary: string;
}

/** Success only when every essential container exited 0. */
export function taskVerdict(task: Task, essential: string[], container?: string): TaskVerdict {
  const containers = task.containers ?? [];
  const reason = task.stoppedReason ?? 'no reason given';
  const failing = containers.filter((c) => essential.includes(c.name ?? '') && c.exitCode !== 0);
  if (essential.every((name) => !containers.some((c) => c.name === name))) {
    return {
      ok: false,
      summary: `The task stopped before its containers ran (${task.stopCode ?? 'no stop code'}: ${reason}).`,
    };
  }
  if (failing.length === 0) {
    const code = containers.find((c) => c.name === container)?.exitCode ?? 0;
    return { ok: true, exitCode: code, summary: `Every essential container exited 0 (${reason}).` };
  }
  const first = failing[0]!;
  const how = failing
    .map((c) =>
      c.exitCode === undefined
        ? `${c.name ?? '?'} has no exit code${c.reason ? ` (${c.reason})` : ''}`
        : `${c.name ?? '?'} exited with code ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}`,
    )
    .join('; ');
  return {
    ok: false,
    exitCode: first.exitCode,
    summary: `${how}; stopped: ${task.stopCode ?? 'no stop code'}: ${reason}.`,
  };
}

/** The essential containers of the task definition (essential is true unless said otherwise). */
export function essentialContainers(containers: ContainerDefinition[]): string[] {
  return containers.filter((c) => c.essential !== false).map((c) => c.name ?? '');
}

/**
 * What RunTask would refuse, found before any change: a container override for a container the
 * revision does not have, and an awsvpc task with no subnets from the inputs or the service.
 */
export function checkOneOffTask(
  task: OneOffTaskConfig,
  revision: { containerDefinitions?: ContainerDefinition[]; networkMode?: string },
  service?: Service,
): Problem[] {
  const problems: Problem[] = [];
  const names = (revision.containerDefinitions ?? []).map((c) => c.name ?? '');
  if (task.container !== undefined && !names.includes(task.container)) {
    problems.push({
      where: 'run-task-container',
      what: `The task definition has no container "${task.container}" (it has ${names.join(', ') || 'none'}).`,
      fix: `Set run-task-container to one of: ${names.join(', ')}.`,
    });
  }
  const ownSubnets = service?.networkConfiguration?.awsvpcConfiguration?.subnets ?? [];
  if (revision.networkMode === 'awsvpc' && task.subnets.length === 0 && ownSubnets.length === 0) {
    problems.push({
      where: 'run-task-subnets',
      what: 'The task definition uses the awsvpc network mode, and there are no subnets to run the one-off task in: the service has no network configuration of its own to copy.',
      fix: 'Set run-task-subnets (and run-task-security-groups) to where the task may run.',
    });
  }
  return problems;
}
