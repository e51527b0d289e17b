import { beforeEach, describe, expect, it } from '@jest/globals';
import type { ServiceEvent } from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupAttributesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  DRAIN_MARGIN_MS,
  DRAIN_SETTLE_MS,
  drainDue,
  drainEvent,
  drainWatch,
  readDeregistrationDelay,
  targetGroupsOf,
} from '../../../src/deploy/drain.js';
import { MemoryLog } from '../../../src/log.js';
import { ScriptedClock, sdkError } from './fakes.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const TG1 = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg1/0123456789abcdef';
const TG2 = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg2/fedcba9876543210';
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

const ev = (offsetMs: number, message: string): ServiceEvent => ({
  id: `e${offsetMs}`,
  createdAt: new Date(T0 + offsetMs),
  message,
});
const draining = (offsetMs: number, service = 'web') =>
  ev(offsetMs, `(service ${service}) has begun draining connections on 2 tasks.`);

beforeEach(() => {
  elbMock.reset();
});

describe('drainEvent', () => {
  it.each<[string, ServiceEvent[], number | undefined]>([
    ['none', [], undefined],
    ['other events only', [ev(1_000, '(service web) has started 2 tasks: (task a) (task b).')], undefined],
    ['one after our start', [draining(30_000)], T0 + 30_000],
    ['the newest of several', [draining(30_000), draining(70_000), draining(50_000)], T0 + 70_000],
    ['one before our deployment started', [draining(-5_000)], undefined],
    ['another service’s', [draining(30_000, 'web-2')], undefined],
    [
      'a look-alike message',
      [ev(30_000, '(service web) has begun draining connections on tasks.')],
      undefined,
    ],
    [
      'an event without a time',
      [{ message: '(service web) has begun draining connections on 1 tasks.' }],
      undefined,
    ],
  ])('%s', (_name, events, expected) => {
    expect(drainEvent(events, 'web', T0)).toBe(expected);
  });
});

describe('targetGroupsOf', () => {
  it.each<[string, { targetGroupArn?: string }[] | undefined, string[]]>([
    ['no load balancers', undefined, []],
    ['a classic load balancer (no target group)', [{}], []],
    ['one', [{ targetGroupArn: TG1 }], [TG1]],
    [
      'two, one twice (two container ports)',
      [{ targetGroupArn: TG1 }, { targetGroupArn: TG2 }, { targetGroupArn: TG1 }],
      [TG1, TG2],
    ],
  ])('%s', (_name, loadBalancers, expected) => {
    expect(targetGroupsOf({ loadBalancers })).toEqual(expected);
  });
});

describe('drainDue', () => {
  // Watch clock (any origin): the poll before the drain showed at 35 s, the one that saw it at 40 s.
  const bounds = { after: 35_000, seenAt: 40_000, delayMs: 20_000 };
  const window = (start: number, end = start) => ({
    from: start + 20_000 + DRAIN_SETTLE_MS,
    to: end + 20_000 + DRAIN_SETTLE_MS + DRAIN_MARGIN_MS,
  });
  it.each([
    ['all tasks running: a wait', 38_000, true, { ...window(38_000), kind: 'wait' }],
    ['tasks still starting: a cadence', 38_000, false, { ...window(38_000), kind: 'cadence' }],
    ['a second of skew before the last poll is allowed', 34_200, true, { ...window(34_200), kind: 'wait' }],
    // A runner clock far off AWS's: the polls that bound the event decide.
    ['the event time far before the last poll', 10_000, true, { ...window(35_000, 40_000), kind: 'wait' }],
    ['the event time after the poll that saw it', 45_000, true, { ...window(35_000, 40_000), kind: 'wait' }],
    ['no event time', undefined, true, { ...window(35_000, 40_000), kind: 'wait' }],
  ] as const)('%s', (_name, drainedAt, settled, expected) => {
    expect(drainDue({ ...bounds, drainedAt, settled })).toEqual(expected);
  });

  it('seen by the first poll with a time past it: no bound, no prediction', () => {
    expect(
      drainDue({ ...bounds, after: Number.NEGATIVE_INFINITY, drainedAt: 45_000, settled: true }),
    ).toBeUndefined();
    expect(
      drainDue({ ...bounds, after: Number.NEGATIVE_INFINITY, drainedAt: 12_000, settled: true }),
    ).toEqual({ ...window(12_000), kind: 'wait' });
  });
});

describe('readDeregistrationDelay', () => {
  const attributes = (seconds?: string) => ({
    Attributes: [
      { Key: 'stickiness.enabled', Value: 'false' },
      ...(seconds === undefined ? [] : [{ Key: 'deregistration_delay.timeout_seconds', Value: seconds }]),
    ],
  });
  it.each<[string, Record<string, string | undefined>, number | undefined]>([
    ['ELB’s default', { [TG1]: '300' }, 300_000],
    ['zero', { [TG1]: '0' }, 0],
    ['the longest of two groups', { [TG1]: '20', [TG2]: '45' }, 45_000],
    ['no such attribute', { [TG1]: undefined }, undefined],
    ['a value that is not whole seconds', { [TG1]: 'soon' }, undefined],
  ])('%s', async (_name, delays, expected) => {
    for (const [arn, seconds] of Object.entries(delays)) {
      elbMock.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: arn }).resolves(attributes(seconds));
    }
    expect(await readDeregistrationDelay(elb, Object.keys(delays))).toBe(expected);
    expect(elbMock).toHaveReceivedCommandTimes(
      DescribeTargetGroupAttributesCommand,
      Object.keys(delays).length,
    );
  });

  it('throws what the read throws (the caller decides)', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).rejects(sdkError('AccessDenied', 'not authorized', 403));
    await expect(readDeregistrationDelay(elb, [TG1])).rejects.toThrow('not authorized');
  });
});

describe('drainWatch', () => {
  const svc = (events: ServiceEvent[], groups: string[] = [TG1]) => ({
    serviceName: 'web',
    events,
    loadBalancers: groups.map((targetGroupArn) => ({
      targetGroupArn,
      containerName: 'web',
      containerPort: 8080,
    })),
  });

  it('reads the delay once, when a drain first shows, and predicts from the newest drain', async () => {
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '20' }],
    });
    const clock = new ScriptedClock(T0 + 10_000);
    const watch = drainWatch({ elb, service: 'web', clock, log: new MemoryLog() });
    await watch.observe(svc([]), T0, true);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 0);
    expect(watch.due()).toBeUndefined();
    clock.t = T0 + 40_000;
    await watch.observe(svc([draining(30_000)]), T0, true);
    expect(watch.due()).toEqual({
      from: T0 + 50_000 + DRAIN_SETTLE_MS,
      to: T0 + 50_000 + DRAIN_SETTLE_MS + DRAIN_MARGIN_MS,
      kind: 'wait',
    });
    clock.t = T0 + 60_000;
    await watch.observe(svc([draining(30_000), draining(55_000)]), T0, false);
    expect(watch.due()?.from).toBe(T0 + 75_000 + DRAIN_SETTLE_MS);
    expect(watch.due()?.kind).toBe('cadence');
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(DescribeTargetGroupAttributesCommand, { TargetGroupArn: TG1 });
    // Long past the window the prediction is dropped (the watch falls back to its cadence).
    clock.t = T0 + 75_000 + DRAIN_SETTLE_MS + 2 * DRAIN_MARGIN_MS + 1;
    expect(watch.due()).toBeUndefined();
  });

  it.each([
    [
      'denied',
      sdkError(
        'AccessDenied',
        'User is not authorized to perform: elasticloadbalancing:DescribeTargetGroupAttributes',
        403,
      ),
    ],
    [
      'a target group that is gone',
      sdkError('TargetGroupNotFoundException', 'One or more target groups not found', 400),
    ],
    ['no answer', sdkError('TimeoutError', 'socket hang up', 500)],
  ])('gives no prediction when the read fails (%s): one debug line, never read again', async (_name, err) => {
    elbMock.on(DescribeTargetGroupAttributesCommand).rejects(err);
    const log = new MemoryLog();
    const clock = new ScriptedClock(T0 + 40_000);
    const watch = drainWatch({ elb, service: 'web', clock, log });
    await watch.observe(svc([draining(30_000)]), T0, true);
    await watch.observe(svc([draining(30_000)]), T0, true);
    expect(watch.due()).toBeUndefined();
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 1);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(
      /^debug: No drain prediction: reading the target group's deregistration delay failed/,
    );
  });

  it.each([
    ['no ELB client', undefined, [TG1]],
    ['no target group', elb, []],
  ])('gives no prediction with %s, and reads nothing', async (_name, client, tg) => {
    const watch = drainWatch({
      elb: client,
      service: 'web',
      clock: new ScriptedClock(T0),
      log: new MemoryLog(),
    });
    await watch.observe(svc([draining(30_000)], tg), T0, true);
    expect(watch.due()).toBeUndefined();
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 0);
  });
});
