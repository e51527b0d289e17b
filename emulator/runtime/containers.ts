/**
 * ECS tasks as real containers. When the emulator launches a task, each of its containers is
 * started with `docker run -d --network host`, its port mappings served on a free port given to it
 * as PORT; the task is reported healthy (RUNNING) once every container with a port answers its
 * health check, and stopped when an essential container exits. A stopping task's containers get
 * `docker stop` and `docker rm`. Containers carry the run's label and are tracked by id, so
 * `shutdown()` removes exactly the containers this runtime started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ContainerDefinition, TaskDefinition } from '@aws-sdk/client-ecs';
import type { RuntimeTaskExit, TaskRuntime } from '../ecs.js';
import type { TaskRecord } from '../state.js';
import { effectiveCommand } from '../task-output.js';
import { docker } from './docker.js';

/** The label every container of a run carries: `ecs-deploy-demo=<run id>`. */
export const RUN_LABEL = 'ecs-deploy-demo';

const HEALTH_POLL_MS = 100;
const HEALTH_REQUEST_TIMEOUT_MS = 1_000;

export interface ContainerRuntimeOptions {
  runId: string;
  /** The path each container with a port must answer 200 on before the task is RUNNING. */
  healthCheckPath: string;
  /** Real ms a task's containers have to answer their health check. */
  startTimeoutMs: number;
  /** Seconds `docker stop` waits after SIGTERM before it kills. */
  stopTimeoutSeconds: number;
  /** Tells the emulator; called asynchronously, never from inside `start` or `stop`. */
  healthy(taskArn: string, runtimeIds: Record<string, string>): void;
  stopped(taskArn: string, exit: RuntimeTaskExit): void;
  /** Lines a container printed, with the real time Docker stamped each with (epoch ms). */
  output(taskArn: string, containerName: string, lines: { realTime: number; message: string }[]): void;
  onEvent(message: string): void;
}

/** Real ms to wait, once a container has exited, for `docker logs --follow` to hand over its last lines. */
const LAST_OUTPUT_WAIT_MS = 5_000;

interface ContainerRun {
  name: string;
  essential: boolean;
  /** The host port the container serves its port mappings on, given to it as PORT. */
  port?: number;
  id?: string;
  waiter?: ChildProcess;
  /** `docker logs --follow --timestamps`, and when it has ended (the container's output is all read). */
  follower?: ChildProcess;
  followed?: Promise<void>;
}

interface TaskRun {
  taskArn: string;
  /** For messages: the task id and its task definition. */
  label: string;
  containers: ContainerRun[];
  phase: 'starting' | 'healthy' | 'stopping';
  timer?: NodeJS.Timeout;
  /** RunTask's task: RUNNING once its containers have started, without a health check (as ECS). */
  oneOff: boolean;
}

/** `2026-12-02T06:41:37.123456789Z text` (docker logs --timestamps) → epoch ms and text. */
export function parseTimestampedLine(line: string): { realTime: number; message: string } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z ?(.*)$/.exec(line);
  if (!m) return undefined;
  const ms = Number((m[2] ?? '0').padEnd(3, '0').slice(0, 3));
  return { realTime: Date.parse(`${m[1]}Z`) + ms, message: m[3] as string };
}

/** A port nothing on 127.0.0.1 listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The HTTP status a GET answers with, or why there was none. */
function probe(port: number, pathName: string): Promise<number | string> {
  return new Promise((resolve) => {
    const request = get(
      { host: '127.0.0.1', port, path: pathName, timeout: HEALTH_REQUEST_TIMEOUT_MS },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 'no status');
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 1 s')));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** ECS's words for a container that could not be created or started. */
function startError(stderr: string): string {
  const detail = stderr.trim().split('\n').slice(-3).join(' ');
  return /unable to find image|pull access denied|manifest unknown|not found: manifest|no basic auth/i.test(
    stderr,
  )
    ? `CannotPullContainerError: ${detail}`
    : `CannotStartContainerError: ${detail}`;
}

/** `docker run --env-file` reads NAME=value lines, so a value cannot hold a line break. */
function envFileText(environment: Record<string, string>): string {
  return Object.entries(environment)
    .map(([name, value]) => {
      if (/[\r\n]/.test(value) || /[\r\n=]/.test(name)) {
        throw new Error(
          `environment variable ${name} has a line break (or = in its name), which the demo runtime cannot pass to docker run`,
        );
      }
      return `${name}=${value}\n`;
    })
    .join('');
}

export class ContainerRuntime implements TaskRuntime {
  private readonly runs = new Map<string, TaskRun>();
  /** Ids of the containers started and not yet removed. */
  private readonly started = new Set<string>();
  private readonly portsInUse = new Set<number>();
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(
    private readonly opts: ContainerRuntimeOptions,
    /** Private (0700) directory for env files and cid files. */
    private readonly dir: string,
  ) {}

  static async create(opts: ContainerRuntimeOptions): Promise<ContainerRuntime> {
    return new ContainerRuntime(opts, await mkdtemp(path.join(os.tmpdir(), `${RUN_LABEL}-`)));
  }

  /** Container ids started and not yet removed. */
  containerIds(): string[] {
    return [...this.started];
  }

  /** The host port a healthy task's container serves on. */
  port(taskArn: string, containerName: string | undefined): number | undefined {
    const run = this.runs.get(taskArn);
    if (run?.phase !== 'healthy') return undefined;
    const container =
      run.containers.find((c) => c.name === containerName) ?? run.containers.find((c) => c.port);
    return container?.port;
  }

  start(task: TaskRecord, taskDefinition: TaskDefinition): void {
    if (this.closed) return;
    const run: TaskRun = {
      taskArn: task.taskArn,
      label: `task ${task.taskId.slice(0, 8)} (${task.family}:${taskDefinition.revision})`,
      containers: [],
      phase: 'starting',
      oneOff: task.serviceName === undefined,
    };
    this.runs.set(task.taskArn, run);
    this.track(
      this.launch(run, task, taskDefinition).catch((error: unknown) =>
        this.fail(run, 'TaskFailedToStart', `CannotStartContainerError: ${(error as Error).message}`),
      ),
    );
  }

  stop(task: TaskRecord): void {
    const run = this.runs.get(task.taskArn);
    if (!run || run.phase === 'stopping') return;
    run.phase = 'stopping';
    clearTimeout(run.timer);
    this.opts.onEvent(`${run.label}: stopping (docker stop)`);
    this.removeContainers(run, true);
  }

  /** Removes every container this runtime started, waiting for launches under way. */
  async shutdown(): Promise<void> {
    this.closed = true;
    for (const run of this.runs.values()) {
      run.phase = 'stopping';
      clearTimeout(run.timer);
    }
    for (const id of this.started) this.track(this.remove(id, false));
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    for (const run of this.runs.values()) {
      for (const c of run.containers) {
        c.waiter?.kill();
        c.follower?.kill();
      }
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private track(promise: Promise<unknown>): void {
    this.pending.add(promise);
    void promise.then(
      () => this.pending.delete(promise),
      (error: unknown) => {
        this.pending.delete(promise);
        this.opts.onEvent(`the runtime failed: ${(error as Error).stack ?? String(error)}`);
      },
    );
  }

  private async launch(run: TaskRun, task: TaskRecord, td: TaskDefinition): Promise<void> {
    for (const definition of td.containerDefinitions ?? []) {
      if (run.phase !== 'starting') return;
      const container: ContainerRun = {
        name: definition.name as string,
        essential: definition.essential !== false,
        port: definition.portMappings?.length ? await this.allocatePort() : undefined,
      };
      run.containers.push(container);
      const failure = await this.runContainer(run, task, td, definition, container);
      if (run.phase !== 'starting') {
        // Stopped while `docker run` was under way: the stop could not see this container yet.
        return this.removeContainers(run, false);
      }
      if (failure !== undefined) return this.fail(run, 'TaskFailedToStart', failure);
      this.watch(run, container);
      this.follow(run, container);
      this.opts.onEvent(
        `${run.label}: container ${container.name} started (${(container.id as string).slice(0, 12)})` +
          (container.port === undefined ? '' : ` on port ${container.port}`),
      );
    }
    this.checkHealth(run, Date.now() + this.opts.startTimeoutMs);
  }

  private async allocatePort(): Promise<number> {
    for (;;) {
      const port = await freePort();
      if (!this.portsInUse.has(port)) {
        this.portsInUse.add(port);
        return port;
      }
    }
  }

  /** `docker run`; returns ECS's stoppedReason when the container could not be started. */
  private async runContainer(
    run: TaskRun,
    task: TaskRecord,
    td: TaskDefinition,
    definition: ContainerDefinition,
    container: ContainerRun,
  ): Promise<string | undefined> {
    const environment: Record<string, string> = {};
    const override = task.overrides?.containerOverrides?.find((o) => o.name === definition.name);
    for (const { name, value } of [...(definition.environment ?? []), ...(override?.environment ?? [])]) {
      if (name) environment[name] = value ?? '';
    }
    if (container.port !== undefined) environment.PORT = String(container.port);
    const base = path.join(this.dir, `${task.taskId}-${container.name}`);
    const envFile = `${base}.env`;
    const cidFile = `${base}.cid`;
    await writeFile(envFile, envFileText(environment), { mode: 0o600 });
    const args = [
      'run',
      '--detach',
      '--network',
      'host',
      '--cidfile',
      cidFile,
      '--env-file',
      envFile,
      '--label',
      `${RUN_LABEL}=${this.opts.runId}`,
      '--label',
      `com.amazonaws.ecs.cluster=${task.clusterName}`,
      '--label',
      `com.amazonaws.ecs.task-arn=${task.taskArn}`,
      '--label',
      `com.amazonaws.ecs.container-name=${container.name}`,
      '--label',
      `com.amazonaws.ecs.task-definition-family=${td.family}`,
      '--label',
      `com.amazonaws.ecs.task-definition-version=${td.revision}`,
      definition.image as string,
      ...effectiveCommand(task, definition),
    ];
    try {
      const r = await docker(args);
      // The cid file exists as soon as the container is created, even when it then fails to start.
      const id = (await readFile(cidFile, 'utf8').catch(() => r.stdout)).trim();
      if (id) {
        container.id = id;
        this.started.add(id);
      }
      return r.code === 0 && id ? undefined : startError(r.stderr || `docker run exited ${r.code}`);
    } finally {
      await rm(envFile, { force: true });
      await rm(cidFile, { force: true });
    }
  }

  /** `docker wait` tells when the container exits. */
  private watch(run: TaskRun, container: ContainerRun): void {
    const waiter = spawn('docker', ['wait', container.id as string], { stdio: ['ignore', 'pipe', 'ignore'] });
    container.waiter = waiter;
    let out = '';
    waiter.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    waiter.on('close', () => {
      if (run.phase === 'stopping' || this.closed) return;
      const exitCode = Number.parseInt(out.trim(), 10);
      if (Number.isInteger(exitCode)) this.track(this.containerExited(run, container, exitCode));
      // Killed without an answer (a Ctrl-C reaches the whole process group): ask the engine instead.
      else this.track(this.recheck(run, container));
    });
  }

  private async recheck(run: TaskRun, container: ContainerRun): Promise<void> {
    const r = await docker([
      'inspect',
      '--format',
      '{{.State.Running}} {{.State.ExitCode}}',
      container.id as string,
    ]);
    if (run.phase === 'stopping' || this.closed) return;
    const [running, exitCode] = r.stdout.trim().split(' ');
    if (r.code === 0 && running === 'true') return this.watch(run, container);
    // Exited, or gone altogether.
    return this.containerExited(run, container, r.code === 0 ? Number(exitCode) : undefined);
  }

  /**
   * Streams the container's output, stamped by Docker, to the emulator as it is printed, the way
   * the awslogs driver ships it to CloudWatch Logs.
   */
  private follow(run: TaskRun, container: ContainerRun): void {
    const follower = spawn('docker', ['logs', '--follow', '--timestamps', container.id as string], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    container.follower = follower;
    const reader = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.on('data', (chunk: Buffer) => {
        const text = partial + chunk.toString();
        const lines = text.split('\n');
        partial = lines.pop() ?? '';
        const parsed = lines.flatMap((l) => parseTimestampedLine(l.replace(/\r$/, '')) ?? []);
        if (parsed.length > 0) this.opts.output(run.taskArn, container.name, parsed);
      });
    };
    reader(follower.stdout);
    reader(follower.stderr);
    // The awslogs driver creates the stream when the container starts, before it prints anything.
    this.opts.output(run.taskArn, container.name, []);
    container.followed = new Promise((resolve) => follower.on('close', () => resolve()));
  }

  private async containerExited(run: TaskRun, container: ContainerRun, exitCode?: number): Promise<void> {
    // Its last lines are in CloudWatch Logs before the task is STOPPED, as a reader of a stopped task expects.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      container.followed,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, LAST_OUTPUT_WAIT_MS))),
    ]);
    clearTimeout(timer);
    const logs = await docker(['logs', '--tail', '3', container.id as string], 10_000);
    const lastLines = logs.code === 0 ? `${logs.stdout}${logs.stderr}`.trim().split('\n').join(' | ') : '';
    this.opts.onEvent(
      `${run.label}: container ${container.name} exited with code ${exitCode ?? 'unknown'}` +
        (lastLines ? `; its last output: ${lastLines}` : ''),
    );
    if (!container.essential) return;
    this.fail(
      run,
      'EssentialContainerExited',
      'Essential container in task exited',
      exitCode === undefined ? undefined : { [container.name]: exitCode },
    );
  }

  /** Polls until every container with a port answers the health check, or the start timeout runs out. */
  private checkHealth(run: TaskRun, deadline: number): void {
    const withPorts = run.oneOff ? [] : run.containers.filter((c) => c.port !== undefined);
    const check = async () => {
      if (run.phase !== 'starting') return;
      const answers = await Promise.all(
        withPorts.map((c) => probe(c.port as number, this.opts.healthCheckPath)),
      );
      if (run.phase !== 'starting') return;
      const failing = answers.findIndex((a) => a !== 200);
      if (failing < 0) {
        run.phase = 'healthy';
        this.opts.onEvent(
          run.oneOff
            ? `${run.label}: running`
            : `${run.label}: healthy (GET ${this.opts.healthCheckPath} answers 200)`,
        );
        this.opts.healthy(
          run.taskArn,
          Object.fromEntries(run.containers.map((c) => [c.name, c.id as string])),
        );
        return;
      }
      if (Date.now() >= deadline) {
        const c = withPorts[failing] as ContainerRun;
        this.fail(
          run,
          'TaskFailedToStart',
          `Task failed its health check: GET ${this.opts.healthCheckPath} on container ${c.name} (port ${c.port}) did not answer 200 within ${this.opts.startTimeoutMs / 1000} s (last: ${String(answers[failing])})`,
        );
        return;
      }
      run.timer = setTimeout(() => this.track(check()), HEALTH_POLL_MS);
    };
    this.track(check());
  }

  /** The task ends without being asked to: the emulator hears why, and its containers go. */
  private fail(
    run: TaskRun,
    stopCode: RuntimeTaskExit['stopCode'],
    stoppedReason: string,
    exitCodes?: Record<string, number>,
  ): void {
    if (run.phase === 'stopping') return;
    run.phase = 'stopping';
    clearTimeout(run.timer);
    this.opts.onEvent(`${run.label}: ${stopCode}: ${stoppedReason}`);
    this.opts.stopped(run.taskArn, { stopCode, stoppedReason, exitCodes });
    this.removeContainers(run, true);
  }

  private removeContainers(run: TaskRun, graceful: boolean): void {
    for (const c of run.containers) {
      if (c.id && this.started.has(c.id)) this.track(this.remove(c.id, graceful));
      if (c.port !== undefined) this.portsInUse.delete(c.port);
    }
  }

  private async remove(id: string, graceful: boolean): Promise<void> {
    if (graceful) await docker(['stop', '--time', String(this.opts.stopTimeoutSeconds), id]);
    const r = await docker(['rm', '--force', '--volumes', id]);
    if (r.code === 0 || /no such container/i.test(r.stderr)) this.started.delete(id);
    // A stop and a shutdown can both remove a container; the one already under way finishes the job.
    else if (!/already in progress/i.test(r.stderr))
      this.opts.onEvent(`could not remove container ${id.slice(0, 12)}: ${r.stderr.trim()}`);
  }
}
