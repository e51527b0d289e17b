/**
 * What every emulated service shares: where it runs (region, account), the emulated clock's
 * event queue, id generation, faults and timings; and the shape of an operation handler.
 */
import type { Scheduler } from './clock.js';
import type { FaultInjector } from './faults.js';
import type { IdGenerator } from './ids.js';

/** Emulated milliseconds each step takes. */
export interface Timings {
  /** A new task goes PROVISIONING → PENDING after this. */
  taskProvisioning: number;
  /** A new task reaches RUNNING (or, when it crashes, STOPPED) this long after launch. */
  taskStart: number;
  /**
   * A task asked to stop reaches STOPPED after this (connection draining included). Also the
   * compressed default deregistration delay of a new target group (whole seconds): a service
   * task behind a target group drains for that group's delay instead.
   */
  taskStop: number;
  /** A deleted service stays DRAINING this long after its last task stopped, then turns INACTIVE. */
  serviceDrain: number;
  /** A CodeDeploy deployment goes Created → InProgress after this. */
  deploymentStart: number;
  /** A lifecycle hook's Lambda function reports its result after this. */
  hook: number;
  /** One load balancer listener change (AllowTestTraffic, each AllowTraffic step) takes this. */
  trafficShift: number;
}

export const DEFAULT_TIMINGS: Timings = {
  taskProvisioning: 3_000,
  taskStart: 10_000,
  taskStop: 5_000,
  serviceDrain: 10_000,
  deploymentStart: 1_000,
  hook: 5_000,
  trafficShift: 2_000,
};

/**
 * Failed task launches after which a CodeDeploy Install gives up on the replacement task set; a
 * small constant keeps emulated failures quick to reach. (The ECS circuit breaker uses
 * `circuitBreakerThreshold`.)
 */
export const FAILED_TASK_THRESHOLD = 3;

/**
 * The ECS deployment circuit breaker's failure threshold: half the desired count, at least 3,
 * at most 200 (AWS's documented bounds).
 */
export function circuitBreakerThreshold(desiredCount: number): number {
  return Math.min(200, Math.max(3, Math.ceil(desiredCount / 2)));
}

export interface EmulatorContext {
  region: string;
  accountId: string;
  scheduler: Scheduler;
  ids: IdGenerator;
  faults: FaultInjector;
  timings: Timings;
}

export type Operation = (input: Record<string, unknown>) => unknown | Promise<unknown>;

export type ServiceName = 'ecs' | 'ecr' | 'codedeploy' | 'logs';

export interface ServiceEmulator {
  readonly service: ServiceName;
  /** The `X-Amz-Target` prefix before the dot. */
  readonly targetPrefix: string;
  /** SigV4 credential-scope service names clients sign with. */
  readonly signingNames: readonly string[];
  readonly operations: Readonly<Record<string, Operation>>;
}

/** Opaque pagination token over a list position. */
export function encodeNextToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

export function decodeNextToken(token: unknown): number | undefined {
  if (token === undefined || token === null) return 0;
  if (typeof token !== 'string') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    return typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0
      ? parsed.offset
      : undefined;
  } catch {
    return undefined;
  }
}
