/**
 * The demo runtime: what makes the emulator's ECS tasks real. Tasks run as Docker containers on
 * the host network (RUNNING once they answer their health check), a local load balancer's
 * production and test listeners forward to them as CodeDeploy shifts traffic, and AppSpec hooks
 * given as `http://127.0.0.1:...` URLs are called. Opt-in (`startEmulator({ runtime })`); without
 * it the emulator stays a pure state machine on its emulated clock.
 *
 * The emulator runs no timers, and containers become ready in real time: the runtime watches
 * them (bounded polling, `docker wait`) and hands each outcome to the emulator through
 * `RuntimeBindings.external`, which catches the emulator up to the current emulated time first,
 * so the change is stamped with the moment it was seen.
 */
import { randomBytes } from 'node:crypto';
import type { CodeDeployEmulator } from '../codedeploy.js';
import type { EcsEmulator } from '../ecs.js';
import type { EcsNativeDeployments } from '../ecs-native.js';
import type { EmulatorState } from '../state.js';
import { ContainerRuntime } from './containers.js';
import { requireDocker } from './docker.js';
import { HttpHookRunner } from './hooks.js';
import { startLoadBalancer, type LocalLoadBalancer } from './load-balancer.js';
import { listenerRoutes } from './routing.js';

export { RUN_LABEL } from './containers.js';
export { chooseRoute, listenerRoutes, type ListenerName, type Route } from './routing.js';

export interface DemoRuntimeOptions {
  /** Every container gets the label `ecs-deploy-demo=<runId>`; default a random `demo-…` id. */
  runId?: string;
  /** The service behind the local load balancer; without it no listener is opened. */
  loadBalancer?: {
    cluster: string;
    service: string;
    /** Ports on 127.0.0.1; 0 (default) picks a free one. */
    productionPort?: number;
    testPort?: number;
  };
  /** What each container with a port must answer 200 on before its task is RUNNING (default /health). */
  healthCheckPath?: string;
  /** Real ms a task has to become healthy before it fails to start (default 60000). */
  startTimeoutMs?: number;
  /** Seconds `docker stop` gives a container after SIGTERM before it kills it (default 10). */
  stopTimeoutSeconds?: number;
  /** Real ms an HTTP hook may take to answer (default 60000). */
  hookTimeoutMs?: number;
  /** Hears what the runtime does: containers started, healthy, exited, stopped; hooks called. */
  onEvent?: (message: string) => void;
}

export interface DemoRuntime {
  readonly runId: string;
  /** The listeners' URLs, when a load balancer was asked for. */
  readonly loadBalancer?: { productionUrl: string; testUrl: string };
  /** Ids of the containers started and not yet removed. */
  containerIds(): string[];
  /** Closes the listeners, abandons running hooks and removes every container it started. */
  stop(): Promise<void>;
}

/** What the runtime needs of the emulator. */
export interface RuntimeBindings {
  ecs: EcsEmulator;
  codedeploy: CodeDeployEmulator;
  /** ECS-native deployments: their Lambda hooks given as http URLs run like CodeDeploy's. */
  native?: EcsNativeDeployments;
  /** The state, brought up to the current emulated time. */
  observe(): EmulatorState;
  /** Applies a change at the current emulated time, and processes what it sets off. */
  external(change: () => void): void;
  /** A container's output, stamped with real times, into its awslogs stream (at emulated times). */
  containerOutput(
    taskArn: string,
    containerName: string,
    lines: { realTime: number; message: string }[],
  ): void;
}

export async function startDemoRuntime(
  options: DemoRuntimeOptions,
  bindings: RuntimeBindings,
): Promise<DemoRuntime> {
  await requireDocker();
  const runId = options.runId ?? `demo-${randomBytes(4).toString('hex')}`;
  if (!/^[\w.-]{1,64}$/.test(runId)) {
    throw new RangeError(
      `runtime.runId '${runId}' cannot be a Docker label value here: use up to 64 letters, digits, '_', '.', '-'.`,
    );
  }
  const onEvent = options.onEvent ?? (() => undefined);
  let stopped = false;
  const deliver = (change: () => void) => {
    if (stopped) return;
    try {
      bindings.external(change);
    } catch (error) {
      // Thrown from a container watcher or a hook's callback, this would end the process and leave containers behind.
      onEvent(`the emulator failed to apply a runtime event: ${(error as Error).stack ?? String(error)}`);
    }
  };

  const containers = await ContainerRuntime.create({
    runId,
    healthCheckPath: options.healthCheckPath ?? '/health',
    startTimeoutMs: options.startTimeoutMs ?? 60_000,
    stopTimeoutSeconds: options.stopTimeoutSeconds ?? 10,
    healthy: (taskArn, runtimeIds) => deliver(() => bindings.ecs.runtimeTaskHealthy(taskArn, runtimeIds)),
    stopped: (taskArn, exit) => deliver(() => bindings.ecs.runtimeTaskStopped(taskArn, exit)),
    output: (taskArn, containerName, lines) =>
      deliver(() => bindings.containerOutput(taskArn, containerName, lines)),
    onEvent,
  });
  const hooks = new HttpHookRunner({ timeoutMs: options.hookTimeoutMs ?? 60_000, deliver, onEvent });

  let loadBalancer: LocalLoadBalancer | undefined;
  if (options.loadBalancer) {
    const { cluster, service, productionPort = 0, testPort = 0 } = options.loadBalancer;
    try {
      loadBalancer = await startLoadBalancer({
        cluster,
        service,
        productionPort,
        testPort,
        routes: (listener) => listenerRoutes(bindings.observe(), cluster, service, listener),
        port: (taskArn, containerName) => containers.port(taskArn, containerName),
      });
    } catch (error) {
      await containers.shutdown();
      throw error;
    }
  }
  bindings.ecs.useRuntime(containers);
  bindings.codedeploy.useHookRunner(hooks);
  bindings.native?.useHookRunner(hooks);

  return {
    runId,
    loadBalancer: loadBalancer && {
      productionUrl: loadBalancer.productionUrl,
      testUrl: loadBalancer.testUrl,
    },
    containerIds: () => containers.containerIds(),
    stop: async () => {
      stopped = true;
      hooks.stop();
      await loadBalancer?.close();
      await containers.shutdown();
    },
  };
}
