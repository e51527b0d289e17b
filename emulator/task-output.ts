/**
 * What containers print, and (for one-off tasks) how they end. Without the demo runtime no
 * container runs, so tests script it: a container matched by family, container name, image or
 * command prints `lines` and, as a one-off task, exits with `exitCode` after `durationSeconds`.
 * The lines go where the `awslogs` log driver would put them in CloudWatch Logs. With the demo
 * runtime, the real containers' output is written instead (`writeReal`).
 */
import type { ContainerDefinition, TaskDefinition } from '@aws-sdk/client-ecs';
import type { EmulatorContext } from './context.js';
import { awslogsTarget, containerDefinition, type LogLine, type LogsEmulator } from './logs.js';
import type { TaskRecord } from './state.js';

/** How a test says what a container does. Every matcher given must match; the newest script wins. */
export interface ContainerScript {
  /** Task definition family. */
  family?: string;
  /** Container name in the task definition. */
  container?: string;
  /** The container's image, exactly as in the task definition. */
  image?: string;
  /** The command the container runs (RunTask's override, else the task definition's), exactly. */
  command?: string[];
  /** What it prints, one log event per line. */
  lines?: string[];
  /** One-off tasks (RunTask): the exit code (default 0). Crashing service tasks (faults.crashTasks) exit 1. */
  exitCode?: number;
  /** One-off tasks: seconds from RUNNING to the exit (default 5); the lines are spread over them. */
  durationSeconds?: number;
}

export const DEFAULT_ONE_OFF_SECONDS = 5;

/** What one container of a task does, resolved from the scripts. */
export interface ContainerBehaviour {
  lines: string[];
  exitCode: number;
  durationMs: number;
}

function checkScript(script: ContainerScript): void {
  const where = `container script ${JSON.stringify(script)}`;
  if (
    script.lines !== undefined &&
    (!Array.isArray(script.lines) || script.lines.some((l) => typeof l !== 'string'))
  ) {
    throw new RangeError(`${where}: lines must be a list of strings`);
  }
  if (
    script.exitCode !== undefined &&
    (!Number.isInteger(script.exitCode) || script.exitCode < 0 || script.exitCode > 255)
  ) {
    throw new RangeError(`${where}: exitCode must be an integer from 0 to 255`);
  }
  if (
    script.durationSeconds !== undefined &&
    !(script.durationSeconds >= 0 && Number.isFinite(script.durationSeconds))
  ) {
    throw new RangeError(`${where}: durationSeconds must be a non-negative number`);
  }
  if (
    script.command !== undefined &&
    (!Array.isArray(script.command) || script.command.some((c) => typeof c !== 'string'))
  ) {
    throw new RangeError(`${where}: command must be a list of strings, as ECS takes it`);
  }
}

/** The command a container of this task runs: RunTask's override, else the task definition's. */
export function effectiveCommand(task: TaskRecord, definition: ContainerDefinition | undefined): string[] {
  const override = task.overrides?.containerOverrides?.find((o) => o.name === definition?.name);
  return override?.command ?? definition?.command ?? [];
}

export class TaskOutput {
  private readonly scripts: ContainerScript[] = [];
  /** Set once the demo runtime runs tasks as containers: their real output is written instead. */
  realContainers = false;
  /** Tasks whose scripted output has been written, so a task is never written twice. */
  private readonly written = new Set<string>();

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly logs: LogsEmulator,
  ) {}

  script(...scripts: ContainerScript[]): void {
    for (const s of scripts) checkScript(s);
    this.scripts.push(...structuredClone(scripts));
  }

  behaviour(task: TaskRecord, td: TaskDefinition, containerName: string): ContainerBehaviour {
    const definition = containerDefinition(td, containerName);
    const command = JSON.stringify(effectiveCommand(task, definition));
    const script = [...this.scripts]
      .reverse()
      .find(
        (s) =>
          (s.family === undefined || s.family === td.family) &&
          (s.container === undefined || s.container === containerName) &&
          (s.image === undefined || s.image === definition?.image) &&
          (s.command === undefined || JSON.stringify(s.command) === command),
      );
    return {
      lines: script?.lines ?? [],
      exitCode: script?.exitCode ?? 0,
      durationMs: (script?.durationSeconds ?? DEFAULT_ONE_OFF_SECONDS) * 1000,
    };
  }

  /** Lines of one container, stamped by the caller, into its awslogs stream (created even when empty). */
  write(task: TaskRecord, td: TaskDefinition, containerName: string, lines: readonly LogLine[]): void {
    const target = awslogsTarget(containerDefinition(td, containerName), task.taskId);
    if (target) this.logs.append(target.logGroupName, target.logStreamName, lines);
  }

  /**
   * A service task that started prints its scripted lines then; one that crashed (faults.crashTasks)
   * prints them just before it stopped. One-off tasks are written by the one-off task runner.
   */
  serviceTasksChanged(
    changed: readonly TaskRecord[],
    taskDefinition: (arn: string) => TaskDefinition | undefined,
  ): void {
    for (const task of changed) {
      if (this.written.has(task.taskArn)) continue;
      const crashed = task.lastStatus === 'STOPPED' && task.crashReason !== undefined && !task.startedAt;
      const started = task.lastStatus === 'RUNNING';
      if (!crashed && !started) continue;
      // A real container prints for itself; an injected crash has no container, so its script speaks.
      if (this.realContainers && !crashed) continue;
      const td = taskDefinition(task.taskDefinitionArn);
      if (!td) continue;
      this.written.add(task.taskArn);
      for (const c of task.containers) {
        const { lines } = this.behaviour(task, td, c.name);
        const now = this.ctx.scheduler.now();
        const stamped = lines.map((message, i) => ({
          message,
          timestamp: crashed ? now - (lines.length - i) : now + i,
        }));
        this.write(task, td, c.name, stamped);
      }
    }
  }
}
