import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type ServiceEvent,
} from '@aws-sdk/client-ecs';
import {
  DescribeTargetGroupAttributesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { MemoryLog } from '../../../src/log.js';
import { watchRollingDeployment } from '../../../src/deploy/rolling-watch.js';
import type { WatchOptions } from '../../../src/deploy/watch.js';
import { ScriptedClock, sdkError } from './fakes.js';

const ecsMock = mockClient(ECSClient);
const ecs = new ECSClient({ region: 'us-east-1' });

const ID = 'ecs-svc/1111';
const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);
const CREATED = new Date(T0 - 2_000);
const OLD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:6';
const NEW = 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:7';

const ours = (d: Partial<Deployment> = {}): Deployment => ({
  id: ID,
  status: 'PRIMARY',
  taskDefinition: NEW,
  desiredCount: 2,
  runningCount: 0,
  pendingCount: 0,
  failedTasks: 0,
  rolloutState: 'IN_PROGRESS',
  createdAt: CREATED,
  ...d,
});

const old = (d: Partial<Deployment> = {}): Deployment => ({
  id: 'ecs-svc/0000',
  status: 'ACTIVE',
  taskDefinition: OLD,
  desiredCount: 2,
  runningCount: 2,
  rolloutState: 'COMPLETED',
  createdAt: new Date(T0 - 86_400_000),
  ...d,
});

const event = (id: string, offsetMs: number, message: string): ServiceEvent => ({
  id,
  createdAt: new Date(T0 + offsetMs),
  message,
});

const service = (
  deployments: Deployment[],
  events: ServiceEvent[] = [],
  s: Partial<Service> = {},
): Service => ({
  serviceName: 'web',
  status: 'ACTIVE',
  deployments,
  // DescribeServices lists events newest first.
  events: [...events].reverse(),
  ...s,
});

/** One DescribeServices answer (or error) per call; the last one repeats. */
function script(steps: (Service | Error)[]): void {
  let i = -1;
  ecsMock.on(DescribeServicesCommand).callsFake(() => {
    i++;
    const s = steps[Math.min(i, steps.length - 1)];
    if (s instanceof Error) throw s;
    return { services: [s], failures: [] };
  });
}

function options(
  clock: ScriptedClock,
  log: MemoryLog,
  o: Partial<WatchOptions & { previousTaskDefinitionArn: string }> = {},
) {
  return {
    cluster: 'prod',
    service: 'web',
    deploymentId: ID,
    previousTaskDefinitionArn: OLD,
    timeoutMs: 10 * 60_000,
    pollIntervalMs: 5_000,
    rollbackOnTimeout: true,
    clock,
    log,
    ...o,
  };
}

beforeEach(() => {
  ecsMock.reset();
});

describe('watchRollingDeployment', () => {
  it('succeeds once our deployment is PRIMARY, COMPLETED and fully running, printing only changes', async () => {
    const started = event('e1', 1_000, '(service web) has started 2 tasks: (task a) (task b).');
    const steady = event('e2', 40_000, '(service web) has reached a steady state.');
    const before = event('e0', -3_600_000, '(service web) has reached a steady state.');
    script([
      service([ours({ pendingCount: 2 }), old()], [before, started]),
      service([ours({ runningCount: 1, pendingCount: 1 }), old()], [before, started]),
      service([ours({ runningCount: 1, pendingCount: 1 }), old()], [before, started]),
      service([ours({ runningCount: 2, rolloutState: 'COMPLETED' })], [before, started, steady]),
    ]);
    const clock = new ScriptedClock(T0);
    const log = new MemoryLog();
    const result = await watchRollingDeployment(ecs, options(clock, log));

    expect(result).toEqual({
      outcome: 'succeeded',
      status: 'COMPLETED',
      message: `ECS deployment ${ID} completed: 2/2 tasks of ${NEW} running.`,
      diagnostics: [],
      rollbackRequested: false,
      elapsedMs: clock.t - T0,
      polls: 4,
    });
    expect(log.lines).toEqual([
      `ECS deployment ${ID} (PRIMARY): IN_PROGRESS, running 0/2, pending 2`,
      '  (service web) has started 2 tasks: (task a) (task b).',
      `ECS deployment ${ID} (PRIMARY): IN_PROGRESS, running 1/2, pending 1`,
      `ECS deployment ${ID} (PRIMARY): COMPLETED, running 2/2, pending 0`,
      '  (service web) has reached a steady state.',
    ]);
    expect(ecsMock).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: 'prod',
      services: ['web'],
    });
    expect(ecsMock.calls().every((c) => c.args[0] instanceof DescribeServicesCommand)).toBe(true);
  });

  it('keeps waiting while a COMPLETED deployment runs fewer tasks than desired', async () => {
    script([
      service([ours({ rolloutState: 'COMPLETED', runningCount: 1 })]),
      service([ours({ rolloutState: 'COMPLETED', runningCount: 2 })]),
    ]);
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('succeeded');
    expect(result.polls).toBe(2);
  });

  describe('when the circuit breaker rolls back', () => {
    const rollback = old({
      id: 'ecs-svc/2222',
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: `ECS deployment circuit breaker: rolling back to deploymentId ${ID}.`,
      createdAt: new Date(T0 + 30_000),
    });
    const pull =
      'CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:abc: not found';

    beforeEach(() => {
      ecsMock.on(ListTasksCommand).resolves({ taskArns: ['t1', 't2', 't3'] });
      ecsMock.on(DescribeTasksCommand).resolves({
        tasks: [
          {
            taskArn: 't1',
            taskDefinitionArn: NEW,
            stopCode: 'TaskFailedToStart',
            stoppedReason: pull,
            stoppedAt: new Date(T0 + 5_000),
          },
          {
            taskArn: 't2',
            taskDefinitionArn: NEW,
            stopCode: 'TaskFailedToStart',
            stoppedReason: pull,
            stoppedAt: new Date(T0 + 9_000),
          },
          {
            taskArn: 't3',
            taskDefinitionArn: OLD,
            stoppedReason: 'Scaling activity initiated by deployment',
            stoppedAt: new Date(T0 + 7_000),
          },
        ],
      });
    });

    it('reports our FAILED deployment as failed, naming the task definition it rolled back to and why tasks stopped', async () => {
      const failedToStart = event(
        'e1',
        20_000,
        `(service web) (deployment ${ID}) deployment failed: tasks failed to start.`,
      );
      script([
        service([ours({ failedTasks: 1, pendingCount: 2 }), old()]),
        service(
          [
            rollback,
            ours({
              status: 'ACTIVE',
              failedTasks: 3,
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            }),
          ],
          [failedToStart],
        ),
      ]);
      const log = new MemoryLog();
      const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), log));

      expect(result.outcome).toBe('failed');
      expect(result.status).toBe('FAILED');
      expect(result.rollbackRequested).toBe(false);
      expect(result.message).toBe(
        `ECS deployment ${ID} failed: ECS deployment circuit breaker: tasks failed to start; the deployment circuit breaker rolled back to ${OLD} (deployment ecs-svc/2222).`,
      );
      expect(result.diagnostics).toEqual([
        `service event ${new Date(T0 + 20_000).toISOString()}: (service web) (deployment ${ID}) deployment failed: tasks failed to start.`,
        `2 stopped tasks: TaskFailedToStart: ${pull}`,
        expect.stringMatching(/^hint: the image could not be pulled/),
      ]);
      expect(log.lines).toContain(
        `ECS deployment ${ID} (PRIMARY): IN_PROGRESS, running 0/2, pending 2, failedTasks 1`,
      );
      expect(ecsMock).toHaveReceivedCommandWith(ListTasksCommand, {
        cluster: 'prod',
        serviceName: 'web',
        desiredStatus: 'STOPPED',
      });
      expect(ecsMock).toHaveReceivedCommandWith(DescribeTasksCommand, {
        cluster: 'prod',
        tasks: ['t1', 't2', 't3'],
      });
      expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
    });

    it("follows the circuit breaker's rollback to its end: production back on the old revision", async () => {
      const failedOurs = ours({ status: 'ACTIVE', failedTasks: 3, rolloutState: 'FAILED' });
      script([
        service([ours({ failedTasks: 1 }), old()]),
        // The verdict; the same answer serves the findings' events, shows who replaced ours
        // and is the follow's first look at the rollback: no second read of it.
        service([rollback, failedOurs]),
        service([rollback, failedOurs]), // the rollback, still rolling
        service([{ ...rollback, rolloutState: 'COMPLETED', runningCount: 2 }]),
      ]);
      const clock = new ScriptedClock(T0);
      const result = await watchRollingDeployment(ecs, options(clock, new MemoryLog()));
      expect(result.failure).toMatchObject({
        kind: 'circuit-breaker',
        cause: `2 new tasks of web:7 stopped: TaskFailedToStart: ${pull}`,
        deployed: NEW,
        previous: OLD,
        production: OLD,
        rollback: {
          by: "the circuit breaker's rollback (ECS deployment ecs-svc/2222)",
          id: 'ecs-svc/2222',
          status: 'succeeded',
          taskDefinitionArn: OLD,
        },
      });
      expect(result.failure?.tasks.map((t) => t.taskArn)).toEqual(['t1', 't2']);
      // What production serves is the follow's last answer: no read of the service after it.
      expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(4);
    });

    it('another run replacing ours is not taken for a rollback', async () => {
      const other = {
        ...rollback,
        taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/web:8',
      };
      script([service([ours(), old()]), service([other, ours({ status: 'ACTIVE' })])]);
      const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
      expect(result.outcome).toBe('failed');
      expect(result.failure?.rollback).toBeUndefined();
      expect(result.failure?.kind).not.toBe('circuit-breaker');
    });

    it('reports our deployment vanishing behind another PRIMARY as a rollback', async () => {
      script([service([ours(), old()]), service([{ ...rollback, rolloutState: 'COMPLETED' }])]);
      const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
      expect(result.outcome).toBe('failed');
      expect(result.status).toBe('IN_PROGRESS');
      expect(result.message).toBe(
        `ECS deployment ${ID} is no longer in the service; the deployment circuit breaker rolled back to ${OLD} (deployment ecs-svc/2222).`,
      );
      expect(result.diagnostics).toContain(`2 stopped tasks: TaskFailedToStart: ${pull}`);
    });
  });

  it('reports a FAILED deployment without a rollback as failed', async () => {
    script([
      service([
        ours({
          rolloutState: 'FAILED',
          rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
        }),
      ]),
    ]);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('failed');
    expect(result.message).toBe(
      `ECS deployment ${ID} failed: ECS deployment circuit breaker: tasks failed to start.`,
    );
  });

  it('reports being replaced by a newer deployment as failed, pointing at concurrency', async () => {
    const newer = ours({ id: 'ecs-svc/3333', taskDefinition: `${NEW.slice(0, -1)}8` });
    script([service([ours(), old()]), service([newer, ours({ status: 'ACTIVE', runningCount: 1 })])]);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('failed');
    expect(result.message).toMatch(/was replaced by deployment ecs-svc\/3333 of .*web:8 .*concurrency:/);
  });

  it('fails when the service stops being ACTIVE', async () => {
    script([service([ours()]), service([ours()], [], { status: 'DRAINING' })]);
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), new MemoryLog()));
    expect(result.outcome).toBe('failed');
    expect(result.message).toBe(
      `ECS service 'web' became DRAINING in cluster 'prod', so deployment ${ID} cannot complete.`,
    );
  });

  describe('on timeout', () => {
    beforeEach(() => {
      script([service([ours({ runningCount: 1 }), old()])]);
      ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    });

    it('rolls the service back to the previous task definition when asked to', async () => {
      ecsMock.on(UpdateServiceCommand).resolves({ service: {} });
      const clock = new ScriptedClock(T0);
      const result = await watchRollingDeployment(
        ecs,
        options(clock, new MemoryLog(), { timeoutMs: 120_000 }),
      );
      expect(ecsMock).toHaveReceivedCommandTimes(UpdateServiceCommand, 1);
      expect(ecsMock.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
        cluster: 'prod',
        service: 'web',
        taskDefinition: OLD,
      });
      expect(result).toMatchObject({
        outcome: 'timed-out',
        status: 'IN_PROGRESS',
        rollbackRequested: true,
        elapsedMs: 120_000,
        message: `ECS deployment ${ID} did not complete within 2 min (last rolloutState IN_PROGRESS, running 1/2). Rolled the service back to ${OLD} (UpdateService).`,
      });
      expect(clock.t).toBe(T0 + 120_000);
    });

    it('does not roll back without a previous task definition', async () => {
      const result = await watchRollingDeployment(
        ecs,
        options(new ScriptedClock(T0), new MemoryLog(), {
          timeoutMs: 120_000,
          previousTaskDefinitionArn: undefined,
        }),
      );
      expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
      expect(result.rollbackRequested).toBe(false);
      expect(result.message).toMatch(/No previous task definition is known, so nothing was rolled back/);
    });

    it('does not roll back when rollback on timeout is off', async () => {
      const result = await watchRollingDeployment(
        ecs,
        options(new ScriptedClock(T0), new MemoryLog(), { timeoutMs: 120_000, rollbackOnTimeout: false }),
      );
      expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
      expect(result.outcome).toBe('timed-out');
      expect(result.rollbackRequested).toBe(false);
    });
  });

  it('keeps polling through throttling and server errors', async () => {
    script([
      service([ours()]),
      sdkError('ThrottlingException', 'Rate exceeded', 400),
      sdkError('ServerException', 'Internal error', 500),
      service([ours({ rolloutState: 'COMPLETED', runningCount: 2 })]),
    ]);
    const log = new MemoryLog();
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), log));
    expect(result.outcome).toBe('succeeded');
    expect(result.polls).toBe(4);
    expect(log.lines.filter((l) => l.startsWith('warning:'))).toHaveLength(2);
  });

  it('a storm of server errors and dropped connections: unknown, still running, no rollback', async () => {
    const dropped = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    script([
      service([ours()]),
      sdkError('ServerException', 'raw words', 500),
      dropped,
      sdkError('ServiceUnavailable', 'raw words', 503),
    ]);
    const log = new MemoryLog();
    const result = await watchRollingDeployment(ecs, options(new ScriptedClock(T0), log));
    expect(result.outcome).toBe('unknown');
    expect(result.rollbackRequested).toBe(false);
    expect(result.message).toContain('3 polls in a row failed (AWS answered HTTP 503 (ServiceUnavailable))');
    expect(result.message).toContain('aws ecs describe-services --cluster');
    expect(log.text()).toContain('the AWS endpoint did not answer (ECONNRESET)');
    expect(`${result.message}\n${log.text()}`).not.toContain('raw words');
    expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
  });

  it('returns stopped without rolling back when cancelled', async () => {
    script([service([ours()])]);
    const controller = new AbortController();
    const clock = new ScriptedClock(T0, (n) => {
      if (n === 3) controller.abort();
    });
    const result = await watchRollingDeployment(
      ecs,
      options(clock, new MemoryLog(), { signal: controller.signal }),
    );
    expect(result).toMatchObject({
      outcome: 'stopped',
      rollbackRequested: false,
      polls: 3,
      status: 'IN_PROGRESS',
    });
    expect(ecsMock).not.toHaveReceivedCommand(UpdateServiceCommand);
  });
});

describe('watchRollingDeployment behind a load balancer', () => {
  const elbMock = mockClient(ElasticLoadBalancingV2Client);
  const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
  const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg1/0123456789abcdef';
  // The timeline the issue measured: new tasks run at 30 s, the old ones drain for 20 s, and the
  // deployment completes at 50 s (T0 = our deployment's start on AWS's clock).
  const RUNNING_AT = 30_000;
  const DELAY_S = 20;
  const COMPLETED_AT = RUNNING_AT + DELAY_S * 1000;

  /** The runner's monotonic clock has its own origin, and its wall clock may be a little off AWS's. */
  class RunnerClock extends ScriptedClock {
    constructor(private readonly skewMs = 0) {
      super(5_000_000);
    }
    override wall(): Date {
      return new Date(T0 + (this.t - 5_000_000) + this.skewMs);
    }
    /** AWS time now. */
    aws(): number {
      return T0 + (this.t - 5_000_000);
    }
  }

  /** DescribeServices answers from AWS's time, whatever the poll count. */
  function timeline(clock: RunnerClock): void {
    ecsMock.on(DescribeServicesCommand).callsFake(() => {
      const at = clock.aws() - T0;
      const events = [event('e1', 500, '(service web) has started 2 tasks: (task a) (task b).')];
      if (at >= RUNNING_AT)
        events.push(event('e2', RUNNING_AT, '(service web) has begun draining connections on 2 tasks.'));
      const deployments =
        at >= COMPLETED_AT
          ? [ours({ runningCount: 2, rolloutState: 'COMPLETED', createdAt: new Date(T0) })]
          : at >= RUNNING_AT
            ? [ours({ runningCount: 2, createdAt: new Date(T0) }), old()]
            : [ours({ pendingCount: 2, createdAt: new Date(T0) }), old()];
      return {
        services: [
          service(deployments, events, {
            loadBalancers: [{ targetGroupArn: TG, containerName: 'web', containerPort: 8080 }],
          }),
        ],
        failures: [],
      };
    });
  }

  beforeEach(() => {
    elbMock.reset();
    elbMock.on(DescribeTargetGroupAttributesCommand).resolves({
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(DELAY_S) }],
    });
  });

  // Polls at 0, 5, 12.5, 23.8 and 40.6 s (the quiet back-off; the last one sees the drain), then
  // one as the window opens (49.25 s) and one just after the predicted end (50.25 s).
  it.each([
    ['clocks agree', 0, 7],
    ['the runner’s clock 600 ms behind', -600, 7],
    ['the runner’s clock 200 ms ahead', 200, 7],
    // Further ahead the aimed poll comes too early: the window's next poll, 1 s later, sees it.
    ['the runner’s clock 800 ms ahead', 800, 8],
    // A minute off: AWS's event time is not trusted; the polls before and after it bound the
    // drain, and the window between them is polled densely (more calls, the end still seen).
    ['the runner’s clock a minute behind', -60_000, 13],
    ['the runner’s clock a minute ahead', 60_000, 13],
  ])('polls within 1 s after the drain ends (%s), reading the delay once', async (_name, skew, polls) => {
    const clock = new RunnerClock(skew);
    timeline(clock);
    const result = await watchRollingDeployment(ecs, { ...options(clock, new MemoryLog()), elb });
    expect(result.outcome).toBe('succeeded');
    const lag = clock.aws() - T0 - COMPLETED_AT;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual(1_000);
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 1);
    expect(elbMock).toHaveReceivedCommandWith(DescribeTargetGroupAttributesCommand, { TargetGroupArn: TG });
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(polls);
  });

  it("follows the circuit breaker's rollback like a deployment: its drain's end seen within a second", async () => {
    // Ours fails at 20 s; the rollback's tasks run at 50 s, the failed revision's drain for
    // 20 s, and the rollback completes at 70 s (AWS time from our deployment's start).
    const FAILED_AT = 20_000;
    const ROLLED_BACK_AT = 70_000;
    const clock = new RunnerClock();
    const back = (d: Partial<Deployment>) =>
      old({ id: 'ecs-svc/2222', status: 'PRIMARY', createdAt: new Date(T0 + FAILED_AT), ...d });
    ecsMock.on(DescribeServicesCommand).callsFake(() => {
      const at = clock.aws() - T0;
      const failed = ours({
        status: 'ACTIVE',
        failedTasks: 3,
        rolloutState: 'FAILED',
        createdAt: new Date(T0),
      });
      const events = [
        event('e1', FAILED_AT, `(service web) (deployment ${ID}) deployment failed: tasks failed to start.`),
      ];
      if (at >= 50_000)
        events.push(event('e2', 50_000, '(service web) has begun draining connections on 2 tasks.'));
      const deployments =
        at < FAILED_AT
          ? [ours({ pendingCount: 2, failedTasks: 1, createdAt: new Date(T0) }), old()]
          : at < 50_000
            ? [back({ runningCount: 0, pendingCount: 2, rolloutState: 'IN_PROGRESS' }), failed, old()]
            : at < ROLLED_BACK_AT
              ? [back({ runningCount: 2, rolloutState: 'IN_PROGRESS' }), failed, old()]
              : [back({ runningCount: 2, rolloutState: 'COMPLETED' })];
      const lbs = [{ targetGroupArn: TG, containerName: 'web', containerPort: 8080 }];
      return { services: [service(deployments, events, { loadBalancers: lbs })], failures: [] };
    });
    ecsMock.on(ListTasksCommand).resolves({ taskArns: [] });
    const log = new MemoryLog();
    const result = await watchRollingDeployment(ecs, { ...options(clock, log), elb });
    expect(result.failure?.rollback).toMatchObject({ status: 'succeeded', taskDefinitionArn: OLD });
    expect(result.failure?.production).toBe(OLD);
    const lag = clock.aws() - T0 - ROLLED_BACK_AT;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThanOrEqual(1_000);
    // The rollback's progress is printed as it goes.
    expect(log.lines).toContain('ECS deployment ecs-svc/2222 (PRIMARY): IN_PROGRESS, running 2/2, pending 0');
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetGroupAttributesCommand, 1);
    expect(ecsMock.commandCalls(DescribeServicesCommand)).toHaveLength(10);
  });

  it('without the delay (no ELB client, or the read denied) polls as before: later, and still succeeds', async () => {
    for (const client of [undefined, elb]) {
      ecsMock.reset();
      elbMock.reset();
      elbMock.on(DescribeTargetGroupAttributesCommand).rejects(sdkError('AccessDenied', 'denied', 403));
      const clock = new RunnerClock();
      timeline(clock);
      const log = new MemoryLog();
      const result = await watchRollingDeployment(ecs, { ...options(clock, log), elb: client });
      expect(result.outcome).toBe('succeeded');
      expect(clock.aws() - T0 - COMPLETED_AT).toBeGreaterThan(1_000);
      expect(log.lines.filter((l) => l.startsWith('debug:'))).toHaveLength(client ? 1 : 0);
    }
  });
});
