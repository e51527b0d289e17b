import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AccessDeniedException,
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  InvalidParameterException,
  PutLogEventsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTasksCommand, ListTasksCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator, type Seed } from '../../emulator/index.js';
import { filterPattern } from '../../emulator/logs.js';
import { parseTimestampedLine } from '../../emulator/runtime/containers.js';
import { clients, fargateTaskDefinition } from './clients.js';

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

function logsClient(e: Emulator, accessKeyId = 'test'): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint: e.url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'test' },
    maxAttempts: 1,
  });
}

async function start(seed: Seed = {}): Promise<{ emulator: Emulator; logs: CloudWatchLogsClient }> {
  emulator = await startEmulator({ manualClock: true, seed });
  return { emulator, logs: logsClient(emulator) };
}

/** A group with one stream holding `count` events, one a second apart, `line 1` … `line N`. */
async function streamOf(logs: CloudWatchLogsClient, e: Emulator, count: number, stream = 's') {
  await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/app' })).catch(() => undefined);
  await logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/app', logStreamName: stream }));
  const t0 = e.clock.now() - count * 1000;
  if (count > 0) {
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: stream,
        logEvents: Array.from({ length: count }, (_, i) => ({
          timestamp: t0 + i * 1000,
          message: `line ${i + 1}`,
        })),
      }),
    );
  }
  return t0;
}

const messages = (events: { message?: string }[] | undefined) => (events ?? []).map((e) => e.message);

describe('CloudWatch Logs over AWS JSON 1.1', () => {
  it('creates groups and streams, refuses duplicates, and describes them with ARNs and epoch-ms times', async () => {
    const { emulator: e, logs } = await start();
    const t0 = await streamOf(logs, e, 3, 'web/web/abc');
    await expect(logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/app' }))).rejects.toBeInstanceOf(
      ResourceAlreadyExistsException,
    );
    await expect(
      logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/app', logStreamName: 'web/web/abc' })),
    ).rejects.toBeInstanceOf(ResourceAlreadyExistsException);
    await expect(
      logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/missing', logStreamName: 'x' })),
    ).rejects.toThrow(
      new ResourceNotFoundException({ message: 'The specified log group does not exist.', $metadata: {} }),
    );

    const groups = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/ecs/' }));
    expect(groups.logGroups).toEqual([
      expect.objectContaining({
        logGroupName: '/ecs/app',
        arn: 'arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app:*',
        logGroupArn: 'arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app',
        creationTime: e.clock.now(),
      }),
    ]);
    const streams = await logs.send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/app' }));
    expect(streams.logStreams).toEqual([
      expect.objectContaining({
        logStreamName: 'web/web/abc',
        arn: 'arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app:log-stream:web/web/abc',
        firstEventTimestamp: t0,
        lastEventTimestamp: t0 + 2000,
        lastIngestionTime: e.clock.now(),
      }),
    ]);
  });

  it('DescribeLogStreams filters by prefix, orders by last event time, and pages with nextToken', async () => {
    const { emulator: e, logs } = await start();
    await streamOf(logs, e, 2, 'web/a');
    e.clock.advance(10_000);
    await streamOf(logs, e, 1, 'job/b');
    await streamOf(logs, e, 0, 'web/c');
    const byPrefix = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: '/ecs/app', logStreamNamePrefix: 'web/' }),
    );
    expect(byPrefix.logStreams?.map((s) => s.logStreamName)).toEqual(['web/a', 'web/c']);
    expect(byPrefix.logStreams?.[1]?.firstEventTimestamp).toBeUndefined();
    const newest = await logs.send(
      new DescribeLogStreamsCommand({
        logGroupName: '/ecs/app',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 1,
      }),
    );
    expect(newest.logStreams?.map((s) => s.logStreamName)).toEqual(['web/c']);
    const second = await logs.send(
      new DescribeLogStreamsCommand({
        logGroupName: '/ecs/app',
        orderBy: 'LastEventTime',
        descending: true,
        limit: 1,
        nextToken: newest.nextToken,
      }),
    );
    expect(second.logStreams?.map((s) => s.logStreamName)).toEqual(['job/b']);
    await expect(
      logs.send(
        new DescribeLogStreamsCommand({
          logGroupName: '/ecs/app',
          orderBy: 'LastEventTime',
          logStreamNamePrefix: 'w',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(logs.send(new DescribeLogStreamsCommand({ logGroupName: '/nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('GetLogEvents: the newest events by default, the oldest with startFromHead, time range [start, end)', async () => {
    const { emulator: e, logs } = await start();
    const t0 = await streamOf(logs, e, 5);
    const tail = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: 's', limit: 2 }),
    );
    expect(messages(tail.events)).toEqual(['line 4', 'line 5']);
    expect(tail.events?.[0]).toEqual({
      timestamp: t0 + 3000,
      message: 'line 4',
      ingestionTime: e.clock.now(),
    });
    const head = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: 's',
        limit: 2,
        startFromHead: true,
      }),
    );
    expect(messages(head.events)).toEqual(['line 1', 'line 2']);
    const range = await logs.send(
      new GetLogEventsCommand({
        logGroupIdentifier: 'arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app',
        logStreamName: 's',
        startTime: t0 + 1000,
        endTime: t0 + 3000,
      }),
    );
    expect(messages(range.events)).toEqual(['line 2', 'line 3']);
  });

  it('GetLogEvents pages forward and backward; at the end the same token comes back until new events arrive', async () => {
    const { emulator: e, logs } = await start();
    await streamOf(logs, e, 5);
    const get = (nextToken?: string, extra: { startFromHead?: boolean } = {}) =>
      logs.send(
        new GetLogEventsCommand({
          logGroupName: '/ecs/app',
          logStreamName: 's',
          limit: 2,
          nextToken,
          ...extra,
        }),
      );
    const p1 = await get(undefined, { startFromHead: true });
    const p2 = await get(p1.nextForwardToken);
    const p3 = await get(p2.nextForwardToken);
    expect([p1, p2, p3].map((p) => messages(p.events))).toEqual([
      ['line 1', 'line 2'],
      ['line 3', 'line 4'],
      ['line 5'],
    ]);
    expect(p1.nextForwardToken).toMatch(/^f\/\d{56}$/);
    const end = await get(p3.nextForwardToken);
    expect(end.events).toEqual([]);
    expect(end.nextForwardToken).toBe(p3.nextForwardToken);
    expect(await get(end.nextForwardToken)).toMatchObject({ nextForwardToken: p3.nextForwardToken });

    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: 's',
        logEvents: [{ timestamp: e.clock.now(), message: 'line 6' }],
      }),
    );
    const more = await get(end.nextForwardToken);
    expect(messages(more.events)).toEqual(['line 6']);

    const back = await get(p2.nextBackwardToken);
    expect(messages(back.events)).toEqual(['line 1', 'line 2']);
    const head = await get(back.nextBackwardToken);
    expect(head.events).toEqual([]);
    expect(head.nextBackwardToken).toBe(back.nextBackwardToken);

    await expect(get('f/not-a-token')).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('GetLogEvents on an empty stream answers no events and a forward token that later finds the first ones', async () => {
    const { emulator: e, logs } = await start();
    await streamOf(logs, e, 0);
    const empty = await logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: 's' }));
    expect(empty.events).toEqual([]);
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: 's',
        logEvents: [{ timestamp: e.clock.now(), message: 'first' }],
      }),
    );
    const next = await logs.send(
      new GetLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: 's',
        nextToken: empty.nextForwardToken,
      }),
    );
    expect(messages(next.events)).toEqual(['first']);
  });

  it.each([
    [
      'a missing group',
      { logGroupName: '/nope', logStreamName: 's' },
      ResourceNotFoundException,
      'The specified log group does not exist.',
    ],
    [
      'a missing stream',
      { logGroupName: '/ecs/app', logStreamName: 'nope' },
      ResourceNotFoundException,
      'The specified log stream does not exist.',
    ],
    [
      'a limit of 0',
      { logGroupName: '/ecs/app', logStreamName: 's', limit: 0 },
      InvalidParameterException,
      "Value '0' at 'limit'",
    ],
    [
      'a limit over 10000',
      { logGroupName: '/ecs/app', logStreamName: 's', limit: 10_001 },
      InvalidParameterException,
      'less than or equal to 10000',
    ],
    [
      'both a name and an identifier',
      { logGroupName: '/ecs/app', logGroupIdentifier: '/ecs/app', logStreamName: 's' },
      InvalidParameterException,
      'mutually exclusive',
    ],
    [
      'no group at all',
      { logStreamName: 's' },
      InvalidParameterException,
      'logGroupIdentifier must be specified',
    ],
  ])('GetLogEvents refuses %s', async (_what, input, type, message) => {
    const { emulator: e, logs } = await start();
    await streamOf(logs, e, 1);
    const error = await logs.send(new GetLogEventsCommand(input)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(message);
  });

  it('PutLogEvents refuses events out of order and reports events too old or too new', async () => {
    const { emulator: e, logs } = await start();
    await streamOf(logs, e, 0);
    const now = e.clock.now();
    await expect(
      logs.send(
        new PutLogEventsCommand({
          logGroupName: '/ecs/app',
          logStreamName: 's',
          logEvents: [
            { timestamp: now, message: 'b' },
            { timestamp: now - 1, message: 'a' },
          ],
        }),
      ),
    ).rejects.toThrow('must be in chronological order');
    const out = await logs.send(
      new PutLogEventsCommand({
        logGroupName: '/ecs/app',
        logStreamName: 's',
        logEvents: [
          { timestamp: now - 15 * 24 * 3600_000, message: 'old' },
          { timestamp: now, message: 'ok' },
          { timestamp: now + 3 * 3600_000, message: 'future' },
        ],
      }),
    );
    expect(out.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 2 });
    const got = await logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: 's' }));
    expect(messages(got.events)).toEqual(['ok']);
  });

  it('FilterLogEvents merges streams by time, filters by names, prefix and pattern, and pages', async () => {
    const { emulator: e, logs } = await start();
    await logs.send(new CreateLogGroupCommand({ logGroupName: '/ecs/app' }));
    for (const s of ['web/1', 'web/2', 'job/1']) {
      await logs.send(new CreateLogStreamCommand({ logGroupName: '/ecs/app', logStreamName: s }));
    }
    const now = e.clock.now();
    const put = (s: string, offsets: number[], text: string) =>
      logs.send(
        new PutLogEventsCommand({
          logGroupName: '/ecs/app',
          logStreamName: s,
          logEvents: offsets.map((o) => ({ timestamp: now - 10_000 + o, message: `${text} at ${o}` })),
        }),
      );
    await put('web/1', [0, 2000], 'GET /');
    await put('web/2', [1000], 'ERROR db down');
    await put('job/1', [500, 1500], 'migrating');

    const all = await logs.send(new FilterLogEventsCommand({ logGroupName: '/ecs/app' }));
    expect(all.events?.map((ev) => `${ev.logStreamName}: ${ev.message}`)).toEqual([
      'web/1: GET / at 0',
      'job/1: migrating at 500',
      'web/2: ERROR db down at 1000',
      'job/1: migrating at 1500',
      'web/1: GET / at 2000',
    ]);
    expect(all.events?.[0]?.eventId).toMatch(/^\d{56}$/);
    expect(all.nextToken).toBeUndefined();

    const web = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', logStreamNamePrefix: 'web/' }),
    );
    expect(web.events).toHaveLength(3);
    const named = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', logStreamNames: ['job/1'] }),
    );
    expect(messages(named.events)).toEqual(['migrating at 500', 'migrating at 1500']);
    const errors = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', filterPattern: 'ERROR' }),
    );
    expect(messages(errors.events)).toEqual(['ERROR db down at 1000']);

    const page1 = await logs.send(new FilterLogEventsCommand({ logGroupName: '/ecs/app', limit: 2 }));
    const page2 = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', limit: 2, nextToken: page1.nextToken }),
    );
    const page3 = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', limit: 2, nextToken: page2.nextToken }),
    );
    expect([page1, page2, page3].flatMap((p) => messages(p.events))).toEqual(messages(all.events));
    expect(page3.nextToken).toBeUndefined();

    await expect(
      logs.send(
        new FilterLogEventsCommand({
          logGroupName: '/ecs/app',
          logStreamNames: ['a'],
          logStreamNamePrefix: 'a',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: '/nope' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it.each([
    ['', 'anything', true],
    ['ERROR', 'an ERROR here', true],
    ['ERROR', 'an error here', false],
    ['ERROR db', 'ERROR: db down', true],
    ['ERROR db', 'ERROR: cache down', false],
    ['"db down"', 'ERROR: db down', true],
    ['"db down"', 'down db', false],
    ['ERROR -cache', 'ERROR: cache down', false],
    ['?ERROR ?WARN', 'WARN: slow', true],
    ['?ERROR ?WARN', 'INFO: fine', false],
  ])('filter pattern %j on %j matches: %s', (pattern, message, expected) => {
    expect(filterPattern(pattern)(message)).toBe(expected);
  });

  it('authorizes logs:* actions on the stream and group ARNs', async () => {
    const groupArn = 'arn:aws:logs:us-east-1:000000000000:log-group:/ecs/app';
    const { emulator: e, logs } = await start({
      iam: {
        roles: [
          {
            name: 'deploy',
            policies: [
              {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
                    Resource: '*',
                  },
                  {
                    Effect: 'Allow',
                    Action: ['logs:GetLogEvents', 'logs:FilterLogEvents'],
                    Resource: `${groupArn}:*`,
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    await streamOf(logs, e, 1);
    await expect(
      logs.send(new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: 's' })),
    ).resolves.toMatchObject({
      events: [expect.objectContaining({ message: 'line 1' })],
    });
    await expect(logs.send(new FilterLogEventsCommand({ logGroupName: '/ecs/app' }))).resolves.toBeDefined();
    const denied = await logs
      .send(new DescribeLogStreamsCommand({ logGroupName: '/ecs/app' }))
      .catch((err: unknown) => err);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as Error).message).toBe(
      `User: arn:aws:sts::000000000000:assumed-role/deploy/GitHubActions is not authorized to perform: logs:DescribeLogStreams on resource: ${groupArn}:* because no identity-based policy allows the logs:DescribeLogStreams action`,
    );
    const calls = e.calls.filter((c) => c.service === 'logs').map((c) => `${c.operation}:${c.status}`);
    expect(calls).toEqual([
      'CreateLogGroup:200',
      'CreateLogStream:200',
      'PutLogEvents:200',
      'GetLogEvents:200',
      'FilterLogEvents:200',
      'DescribeLogStreams:400',
    ]);
    expect(e.mutatingCalls().map((c) => c.operation)).toEqual([
      'CreateLogGroup',
      'CreateLogStream',
      'PutLogEvents',
    ]);
  });
});

describe('ECS tasks write to their awslogs streams', () => {
  const awslogs = (image: string) =>
    fargateTaskDefinition('app', image, {
      containerDefinitions: [
        {
          name: 'web',
          image,
          essential: true,
          portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/ecs/app',
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'web',
            },
          },
        },
      ],
    });
  const world: Seed = {
    clusters: ['demo'],
    taskDefinitions: [awslogs('app:v1'), awslogs('app:v2')],
    services: [
      {
        cluster: 'demo',
        serviceName: 'web',
        taskDefinition: 'app:1',
        desiredCount: 1,
        launchType: 'FARGATE',
        deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
      },
    ],
    containers: [
      { image: 'app:v1', lines: ['listening on 8080'] },
      {
        image: 'app:v2',
        lines: ['starting v2', 'Error: Cannot find module express', '    at node:internal/modules'],
      },
    ],
  };

  it("a service task's lines are in <prefix>/<container>/<task id>; a crashing task's last lines are readable once it stopped", async () => {
    const { emulator: e, logs } = await start(world);
    const { ecs } = clients(e);
    const [first] =
      (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'web' }))).taskArns ?? [];
    const firstId = first?.split('/').pop();
    const running = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: `web/web/${firstId}` }),
    );
    expect(messages(running.events)).toEqual(['listening on 8080']);

    e.faults.crashTasks('app');
    await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: 'web', taskDefinition: 'app:2' }));
    e.clock.advance(10_000);
    const stopped = await ecs.send(
      new ListTasksCommand({ cluster: 'demo', serviceName: 'web', desiredStatus: 'STOPPED' }),
    );
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: 'demo', tasks: stopped.taskArns ?? [] }),
    );
    const crashed = described.tasks?.find((t) => t.taskDefinitionArn?.endsWith(':2'));
    expect(crashed).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      containers: [expect.objectContaining({ exitCode: 1 })],
    });
    const id = crashed?.taskArn?.split('/').pop();
    const tail = await logs.send(
      new GetLogEventsCommand({ logGroupName: '/ecs/app', logStreamName: `web/web/${id}`, limit: 2 }),
    );
    expect(messages(tail.events)).toEqual([
      'Error: Cannot find module express',
      '    at node:internal/modules',
    ]);
    expect(tail.events?.every((ev) => (ev.timestamp ?? 0) < (crashed?.stoppedAt?.getTime() ?? 0))).toBe(true);

    const streams = await logs.send(
      new DescribeLogStreamsCommand({ logGroupName: '/ecs/app', logStreamNamePrefix: 'web/web/' }),
    );
    expect(streams.logStreams?.map((st) => st.logStreamName)).toContain(`web/web/${firstId}`);
    const crashes = await logs.send(
      new FilterLogEventsCommand({ logGroupName: '/ecs/app', filterPattern: 'Error' }),
    );
    expect(new Set(crashes.events?.map((ev) => ev.logStreamName)).size).toBeGreaterThanOrEqual(1);
  });

  it('a container without the awslogs driver writes nothing to CloudWatch Logs', async () => {
    const { emulator: e } = await start({
      clusters: ['demo'],
      taskDefinitions: [fargateTaskDefinition('plain', 'plain:v1')],
      services: [{ cluster: 'demo', serviceName: 'plain', taskDefinition: 'plain', launchType: 'FARGATE' }],
      containers: [{ family: 'plain', lines: ['hello'] }],
    });
    expect(e.state.logs.groups.size).toBe(0);
  });
});

describe('the demo runtime reads `docker logs --timestamps` lines', () => {
  it.each([
    [
      '2026-12-02T06:41:37.123456789Z migrating 001',
      { realTime: Date.UTC(2026, 11, 2, 6, 41, 37, 123), message: 'migrating 001' },
    ],
    [
      '2026-12-02T06:41:37.5Z  indented',
      { realTime: Date.UTC(2026, 11, 2, 6, 41, 37, 500), message: ' indented' },
    ],
    ['2026-12-02T06:41:37Z', { realTime: Date.UTC(2026, 11, 2, 6, 41, 37), message: '' }],
    ['no timestamp here', undefined],
  ])('%j', (line, expected) => {
    expect(parseTimestampedLine(line)).toEqual(expected);
  });
});
