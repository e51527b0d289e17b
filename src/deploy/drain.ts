/**
 * When a rolling deployment's old tasks finish draining, from AWS's own numbers. Behind a load
 * balancer ECS says "(service X) has begun draining connections on N tasks." as it deregisters
 * the old tasks from the target group; they stop once the group's deregistration delay
 * (`deregistration_delay.timeout_seconds`, ELB's default 300 s) is over, and then the
 * deployment completes. So the watch can sleep through the drain and poll right after it.
 *
 * The decisions are pure (drainEvent, drainDue); the delay is read once per watch
 * (DescribeTargetGroupAttributes), and a denied or failed read only loses the prediction.
 */
import type { Service, ServiceEvent } from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupAttributesCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Clock } from '../clock.js';
import type { Log } from '../log.js';
import { errorText } from './aws-errors.js';
import { type Due, onWatchClock, trustedStart } from './poll.js';

export const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';

/**
 * The first poll is aimed this long after the predicted end: the task still has to be marked
 * stopped and the deployment completed, and the runner's clock may be a little off AWS's.
 */
export const DRAIN_SETTLE_MS = 250;
/** The window stays open this long after the aimed poll (clock skew, a slow stop). */
export const DRAIN_MARGIN_MS = 2_000;

const DRAINING = /^\(service (.+)\) has begun draining connections on \d+ tasks\.$/;

/**
 * When (AWS time, ms) the newest draining of this service's tasks began, among the events at
 * or after `since` (our deployment's start): undefined when none has.
 */
export function drainEvent(
  events: readonly ServiceEvent[],
  service: string,
  since: number,
): number | undefined {
  const times = events
    .filter((e) => DRAINING.exec(e.message ?? '')?.[1] === service)
    .map((e) => e.createdAt?.getTime())
    .filter((t): t is number => t !== undefined && t >= since);
  return times.length > 0 ? Math.max(...times) : undefined;
}

/** The target groups a service's tasks are registered in. */
export function targetGroupsOf(svc: Pick<Service, 'loadBalancers'>): string[] {
  return [
    ...new Set((svc.loadBalancers ?? []).flatMap((lb) => (lb.targetGroupArn ? [lb.targetGroupArn] : []))),
  ];
}

export interface DrainFacts {
  /** When the draining began, AWS's time on the watch clock (onWatchClock). */
  drainedAt: number | undefined;
  /**
   * The last poll that did not show this draining (-Infinity when the first poll did), and
   * the poll that first did (watch clock).
   */
  after: number;
  seenAt: number;
  /** The longest deregistration delay of the service's target groups (ms). */
  delayMs: number;
  /** Whether our deployment runs all its tasks: then nothing else is due during the drain. */
  settled: boolean;
}

/**
 * The drain's end as a window on the watch clock, the first poll aimed DRAIN_SETTLE_MS after
 * it. Timed from the event's own time when it lies between the two polls that bound it (a
 * runner clock off AWS's cannot move it further), else from those polls. A `wait` when our
 * tasks all run (nothing else changes before the old ones stop), else a `cadence` (new tasks
 * may still start or fail).
 */
export function drainDue(f: DrainFacts): Due | undefined {
  const began = trustedStart({ after: f.after, seenAt: f.seenAt, startedAt: f.drainedAt });
  // Seen by the watch's first poll with a time the runner's clock puts ahead: no bound.
  if (began === undefined && !Number.isFinite(f.after)) return undefined;
  const from = (began ?? f.after) + f.delayMs + DRAIN_SETTLE_MS;
  const to = (began === undefined ? f.seenAt + f.delayMs + DRAIN_SETTLE_MS : from) + DRAIN_MARGIN_MS;
  return { from, to, kind: f.settled ? 'wait' : 'cadence' };
}

/** The longest deregistration delay (ms) of these target groups; throws when a read fails. */
export async function readDeregistrationDelay(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArns: readonly string[],
  signal?: AbortSignal,
): Promise<number | undefined> {
  let longest: number | undefined;
  for (const arn of targetGroupArns) {
    const out = await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }), {
      abortSignal: signal,
    });
    const value = out.Attributes?.find((a) => a.Key === DEREGISTRATION_DELAY)?.Value;
    const seconds = value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
    if (seconds !== undefined) longest = Math.max(longest ?? 0, seconds * 1000);
  }
  return longest;
}

/**
 * readDeregistrationDelay for a prediction: a denied or failed read is a debug line and no
 * delay (the watch then polls as it would without one), never the run's error.
 */
export function deregistrationDelayOrNone(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArns: readonly string[],
  log: Log,
  signal?: AbortSignal,
): Promise<number | undefined> {
  return readDeregistrationDelay(elb, targetGroupArns, signal).catch((err: unknown) => {
    log.debug(
      `No drain prediction: reading the target group's deregistration delay failed (${errorText(err)}).`,
    );
    return undefined;
  });
}

export interface DrainWatch {
  /** Looks at one DescribeServices answer; reads the delay the first time a drain shows. */
  observe(svc: Service, since: number, settled: boolean): Promise<void>;
  /** The predicted end of the drain, while it is still ahead or just past (else undefined). */
  due(): Due | undefined;
}

/**
 * Follows the draining of a rolling deployment's old tasks for the watch. The delay is read at
 * most once (its result, or its failure, kept); without an ELB client, target group or
 * delay there is no prediction, and the watch polls as it would without one.
 */
export function drainWatch(opts: {
  elb?: ElasticLoadBalancingV2Client;
  service: string;
  clock: Clock;
  log: Log;
  signal?: AbortSignal;
}): DrainWatch {
  const { elb, service, clock, log, signal } = opts;
  let delay: Promise<number | undefined> | undefined;
  let predicted: Due | undefined;
  // The polls that bound the newest draining: the last one before it showed, the first that did.
  let lastPoll: number | undefined;
  let seen: { event: number; after: number; seenAt: number } | undefined;
  return {
    async observe(svc, since, settled) {
      const polledAt = clock.now();
      const event = drainEvent(svc.events ?? [], service, since);
      if (event !== undefined && event !== seen?.event)
        seen = { event, after: lastPoll ?? Number.NEGATIVE_INFINITY, seenAt: polledAt };
      lastPoll = polledAt;
      const groups = targetGroupsOf(svc);
      if (seen === undefined || elb === undefined || groups.length === 0) return;
      delay ??= deregistrationDelayOrNone(elb, groups, log, signal);
      const delayMs = await delay;
      if (delayMs === undefined) return;
      const drainedAt = onWatchClock(new Date(seen.event), clock.now(), clock.wall());
      predicted = drainDue({ drainedAt, after: seen.after, seenAt: seen.seenAt, delayMs, settled });
    },
    due() {
      return predicted !== undefined && clock.now() <= predicted.to + DRAIN_MARGIN_MS ? predicted : undefined;
    },
  };
}
