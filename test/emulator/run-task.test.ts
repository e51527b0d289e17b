import { afterEach, describe, expect, it } from '@jest/globals';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  AccessDeniedException,
  ClientException,
  ConflictException,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  InvalidParameterException,
  DeleteTaskDefinitionsCommand,
  DescribeTaskDefinitionCommand,
  ListTagsForResourceCommand,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  TagResourceCommand,
  UntagResourceCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  type ECSClient,
  type RunTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import { startEmulator, type ContainerScript, type Emulator, type Seed } from '../../emulator/index.js';
import { awsvpc, clients, fargateTaskDefinition } from './clients.js';

const GROUP = '/ecs/app';
const TD = fargateTaskDefinition('app', 'app:v2', {
  containerDefinitions: [
    {
      name: 'web',
      image: 'app:v2',
      essential: true,
      portMappings: [{ containerPort: 8080, protocol: 'tcp' }],
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': GROUP, 'awslogs-region': 'us-east-1', 'awslogs-stream-prefix': 'web' },
      },
    },
  ],
  tags: [{ key: 'team', value: 'payments' }],
});
const MIGRATE = ['node', 'migrate.js'];
const MIGRATE_FAIL = ['node', 'migrate.js', '--fail'];
const SCRIPTS: ContainerScript[] = [
  { command: MIGRATE, lines: ['migrating 001_users', 'migrating 002_orders', 'done'], durationSeconds: 30 },
  {
    command: MIGRATE_FAIL,
    lines: ['migrating 001_users', 'error: relation "orders" exists'],
    exitCode: 3,
    durationSeconds: 4,
  },
];

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

async function start(seed: Partial<Seed> = {}) {
  emulator = await startEmulator({
    manualClock: true,
    seed: { clusters: ['demo'], taskDefinitions: [TD], containers: SCRIPTS, ...seed },
  });
  const config = {
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  };
  return { emulator, ecs: clients(emulator).ecs, logs: new CloudWatchLogsClient(config) };
}

const migration = (command = MIGRATE, extra: Partial<RunTaskCommandInput> = {}): RunTaskCommandInput => ({
  cluster: 'demo',
  taskDefinition: 'app',
  launchType: 'FARGATE',
  networkConfiguration: awsvpc,
  overrides: {
    containerOverrides: [{ name: 'web', command, environment: [{ name: 'STEP', value: 'migrate' }] }],
  },
  startedBy: 'ecs-deploy-pipeline',
  ...extra,
});

async function describe1(ecs: ECSClient, taskArn: string): Promise<Task> {
  const out = await ecs.send(
    new DescribeTasksCommand({ cluster: 'demo', tasks: [taskArn], include: ['TAGS'] }),
  );
  return out.tasks?.[0] as Task;
}

async function lines(logs: CloudWatchLogsClient, task: Task): Promise<string[]> {
  const id = task.taskArn?.split('/').pop();
  const out = await logs.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: `web/web/${id}`, startFromHead: true }),
  );
  return (out.events ?? []).map((e) => e.message as string);
}

describe('RunTask: one-off tasks on the emulated clock', () => {
  it('goes PROVISIONING → PENDING → RUNNING → STOPPED, printing its lines as it runs, and exits 0', async () => {
    const { emulator: e, ecs, logs } = await start();
    const run = await ecs.send(new RunTaskCommand(migration()));
    expect(run.failures).toEqual([]);
    const task = run.tasks?.[0] as Task;
    expect(task).toMatchObject({
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      group: 'family:app',
      startedBy: 'ecs-deploy-pipeline',
      launchType: 'FARGATE',
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/app:1',
      overrides: {
        containerOverrides: [
          { name: 'web', command: MIGRATE, environment: [{ name: 'STEP', value: 'migrate' }] },
        ],
      },
      containers: [expect.objectContaining({ name: 'web', lastStatus: 'PENDING' })],
    });
    expect(task.taskArn).toMatch(/^arn:aws:ecs:us-east-1:000000000000:task\/demo\/[0-9a-f]{32}$/);
    const arn = task.taskArn as string;

    e.clock.advance(3_000);
    expect((await describe1(ecs, arn)).lastStatus).toBe('PENDING');
    e.clock.advance(7_000);
    const running = await describe1(ecs, arn);
    expect(running).toMatchObject({
      lastStatus: 'RUNNING',
      containers: [expect.objectContaining({ lastStatus: 'RUNNING' })],
    });
    expect(running.startedAt?.getTime()).toBe(e.clock.now());
    expect(await lines(logs, running)).toEqual(['migrating 001_users']);
    e.clock.advance(10_000);
    expect(await lines(logs, running)).toEqual(['migrating 001_users', 'migrating 002_orders']);

    e.clock.advance(20_000);
    const stopped = await describe1(ecs, arn);
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [expect.objectContaining({ name: 'web', lastStatus: 'STOPPED', exitCode: 0 })],
    });
    expect(stopped.stoppedAt?.getTime()).toBe(running.startedAt!.getTime() + 30_000);
    expect(await lines(logs, stopped)).toEqual(['migrating 001_users', 'migrating 002_orders', 'done']);
  });

  it('a failing command stops with its exit code and its last lines in the task stream', async () => {
    const { emulator: e, ecs, logs } = await start();
    const run = await ecs.send(new RunTaskCommand(migration(MIGRATE_FAIL)));
    e.clock.advance(15_000);
    const task = await describe1(ecs, run.tasks?.[0]?.taskArn as string);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      stoppedReason: 'Essential container in task exited',
      containers: [expect.objectContaining({ exitCode: 3 })],
    });
    expect(await lines(logs, task)).toEqual(['migrating 001_users', 'error: relation "orders" exists']);
  });

  it('a task without a matching script runs 5 s and exits 0; the newest matching script wins', async () => {
    const { emulator: e, ecs } = await start();
    const plain = await ecs.send(new RunTaskCommand(migration(['true'])));
    e.scriptContainers({ command: MIGRATE, exitCode: 9, durationSeconds: 1 });
    const scripted = await ecs.send(new RunTaskCommand(migration(MIGRATE)));
    const both = () =>
      Promise.all(
        [plain, scripted].map(async (r) => {
          const t = await describe1(ecs, r.tasks?.[0]?.taskArn as string);
          return [t.lastStatus, t.containers?.[0]?.exitCode];
        }),
      );
    e.clock.advance(10_000 + 4_000);
    expect(await both()).toEqual([
      ['RUNNING', undefined],
      ['STOPPED', 9],
    ]);
    e.clock.advance(1_000);
    expect(await both()).toEqual([
      ['STOPPED', 0],
      ['STOPPED', 9],
    ]);
    expect(() => e.scriptContainers({ exitCode: 300 })).toThrow('exitCode must be an integer from 0 to 255');
  });

  it('a crashTasks fault stops a one-off task before RUNNING with exit code 1 and its lines', async () => {
    const { emulator: e, ecs, logs } = await start();
    e.faults.crashTasks('app');
    const run = await ecs.send(new RunTaskCommand(migration(MIGRATE)));
    e.clock.advance(10_000);
    const task = await describe1(ecs, run.tasks?.[0]?.taskArn as string);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      containers: [expect.objectContaining({ exitCode: 1 })],
    });
    expect(task.startedAt).toBeUndefined();
    expect(await lines(logs, task)).toEqual(['migrating 001_users', 'migrating 002_orders', 'done']);
  });

  it('runs count tasks, with a capacity provider strategy, tags, propagated and managed tags', async () => {
    const { emulator: e, ecs } = await start();
    const run = await ecs.send(
      new RunTaskCommand(
        migration(MIGRATE, {
          count: 2,
          launchType: undefined,
          capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
          tags: [{ key: 'release', value: 'abc123' }],
          propagateTags: 'TASK_DEFINITION',
          enableECSManagedTags: true,
        }),
      ),
    );
    expect(run.tasks).toHaveLength(2);
    const task = await describe1(ecs, run.tasks?.[0]?.taskArn as string);
    expect(task).toMatchObject({ capacityProviderName: 'FARGATE_SPOT', launchType: 'FARGATE' });
    const expected = [
      { key: 'team', value: 'payments' },
      { key: 'release', value: 'abc123' },
      { key: 'aws:ecs:clusterName', value: 'demo' },
    ];
    expect(task.tags).toEqual(expected);
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn: task.taskArn }))).tags).toEqual(
      expected,
    );
    expect(e.state.ecs.tasks.filter((t) => t.group === 'family:app')).toHaveLength(2);
  });

  it('the same clientToken returns the same tasks; with another request it is a ConflictException', async () => {
    const { emulator: e, ecs } = await start();
    const input = migration(MIGRATE, { clientToken: 'deploy-42-migrate' });
    const first = await ecs.send(new RunTaskCommand(input));
    e.clock.advance(10_000);
    const again = await ecs.send(new RunTaskCommand(input));
    expect(again.tasks?.map((t) => t.taskArn)).toEqual(first.tasks?.map((t) => t.taskArn));
    expect(again.tasks?.[0]?.lastStatus).toBe('RUNNING');
    const listed = await ecs.send(
      new ListTasksCommand({ cluster: 'demo', startedBy: 'ecs-deploy-pipeline' }),
    );
    expect(listed.taskArns).toEqual(first.tasks?.map((t) => t.taskArn));

    const conflict = await ecs
      .send(new RunTaskCommand(migration(MIGRATE_FAIL, { clientToken: 'deploy-42-migrate' })))
      .catch((err: unknown) => err);
    expect(conflict).toBeInstanceOf(ConflictException);
    expect((conflict as ConflictException).resourceIds).toEqual(first.tasks?.map((t) => t.taskArn));
  });

  it.each<[string, Partial<RunTaskCommandInput>, unknown, string]>([
    [
      'a task definition that does not exist',
      { taskDefinition: 'nope' },
      ClientException,
      'TaskDefinition not found.',
    ],
    [
      'a revision that does not exist',
      { taskDefinition: 'app:9' },
      ClientException,
      'TaskDefinition not found.',
    ],
    [
      'an unknown container in the overrides',
      { overrides: { containerOverrides: [{ name: 'worker', command: ['x'] }] } },
      InvalidParameterException,
      'Override for container named worker is not a container in the TaskDefinition.',
    ],
    [
      'an awsvpc task without networkConfiguration',
      { networkConfiguration: undefined },
      InvalidParameterException,
      "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    ],
    [
      'a launch type and a capacity provider strategy together',
      { capacityProviderStrategy: [{ capacityProvider: 'FARGATE' }] },
      InvalidParameterException,
      'Specifying both a launch type and capacity provider strategy is not supported.',
    ],
    [
      'an unknown capacity provider',
      { launchType: undefined, capacityProviderStrategy: [{ capacityProvider: 'my-asg' }] },
      InvalidParameterException,
      'not associated with the cluster',
    ],
    ['count 11', { count: 11 }, InvalidParameterException, 'count must be between 1 and 10.'],
    [
      'an EXTERNAL launch for an awsvpc task definition',
      { launchType: 'EXTERNAL' },
      InvalidParameterException,
      'does not support launch_type EXTERNAL',
    ],
    [
      'a reserved tag key',
      { tags: [{ key: 'aws:x', value: 'y' }] },
      InvalidParameterException,
      "Tag keys beginning with 'aws:'",
    ],
  ])('refuses %s', async (_what, change, type, message) => {
    const { emulator: e, ecs } = await start();
    const error = await ecs
      .send(new RunTaskCommand({ ...migration(), ...change }))
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toContain(message);
    expect(e.state.ecs.tasks).toEqual([]);
  });

  it('refuses an INACTIVE revision, and a family whose every revision is INACTIVE', async () => {
    const { ecs } = await start();
    await ecs.send(new RegisterTaskDefinitionCommand(TD));
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'app:1' }));
    await expect(
      ecs.send(new RunTaskCommand(migration(MIGRATE, { taskDefinition: 'app:1' }))),
    ).rejects.toThrow('TaskDefinition is inactive');
    const latest = await ecs.send(new RunTaskCommand(migration(MIGRATE, { taskDefinition: 'app' })));
    expect(latest.tasks?.[0]?.taskDefinitionArn).toMatch(/task-definition\/app:2$/);
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: 'app:2' }));
    await expect(
      ecs.send(new RunTaskCommand(migration(MIGRATE, { taskDefinition: 'app' }))),
    ).rejects.toBeInstanceOf(ClientException);
  });
});

describe('StopTask and tasks outside services in ListTasks / DescribeTasks', () => {
  it('stops a running one-off task: STOPPING, then STOPPED with UserInitiated, the reason and exit code 143', async () => {
    const { emulator: e, ecs, logs } = await start();
    const run = await ecs.send(new RunTaskCommand(migration()));
    const arn = run.tasks?.[0]?.taskArn as string;
    e.clock.advance(10_000);
    const stopping = await ecs.send(
      new StopTaskCommand({ cluster: 'demo', task: arn, reason: 'Cancelled by the workflow run' }),
    );
    expect(stopping.task).toMatchObject({
      lastStatus: 'STOPPING',
      desiredStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Cancelled by the workflow run',
    });
    e.clock.advance(5_000);
    const stopped = await describe1(ecs, arn);
    expect(stopped).toMatchObject({
      lastStatus: 'STOPPED',
      containers: [expect.objectContaining({ exitCode: 143 })],
    });
    e.clock.advance(60_000);
    expect(await lines(logs, stopped)).toEqual(['migrating 001_users']);
    const again = await ecs.send(new StopTaskCommand({ cluster: 'demo', task: arn.split('/').pop() }));
    expect(again.task).toMatchObject({
      lastStatus: 'STOPPED',
      stoppedReason: 'Cancelled by the workflow run',
    });
  });

  it('a task stopped before it runs stops at once with "Task stopped by user"', async () => {
    const { emulator: e, ecs } = await start();
    const run = await ecs.send(new RunTaskCommand(migration()));
    const arn = run.tasks?.[0]?.taskArn as string;
    await ecs.send(new StopTaskCommand({ cluster: 'demo', task: arn }));
    e.clock.advance(0);
    const task = await describe1(ecs, arn);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'Task stopped by user',
    });
    expect(task.startedAt).toBeUndefined();
    e.clock.advance(60_000);
    expect((await describe1(ecs, arn)).lastStatus).toBe('STOPPED');
  });

  it('refuses a task that does not exist, and a cluster that does not exist', async () => {
    const { ecs } = await start();
    await expect(
      ecs.send(new StopTaskCommand({ cluster: 'demo', task: '0123456789abcdef0123456789abcdef' })),
    ).rejects.toThrow(
      new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} }),
    );
    await expect(ecs.send(new StopTaskCommand({ cluster: 'nope', task: 'x' }))).rejects.toThrow(
      'Cluster not found.',
    );
  });

  it('StopTask on a service task stops it as UserInitiated and the service replaces it', async () => {
    const { emulator: e, ecs } = await start({
      services: [
        {
          cluster: 'demo',
          serviceName: 'web',
          taskDefinition: 'app',
          desiredCount: 1,
          launchType: 'FARGATE',
        },
      ],
    });
    const [serviceTask] =
      (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'web' }))).taskArns ?? [];
    const out = await ecs.send(new StopTaskCommand({ cluster: 'demo', task: serviceTask, reason: 'poke' }));
    expect(out.task).toMatchObject({
      stopCode: 'UserInitiated',
      stoppedReason: 'poke',
      desiredStatus: 'STOPPED',
    });
    e.clock.advance(30_000);
    const svc = (await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['web'] })))
      .services?.[0];
    expect(svc?.runningCount).toBe(1);
    const now = (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: 'web' }))).taskArns;
    expect(now).toHaveLength(1);
    expect(now).not.toContain(serviceTask);
  });

  it('ListTasks finds one-off tasks by startedBy, family and desiredStatus; service filters leave them out', async () => {
    const { emulator: e, ecs } = await start({
      services: [
        {
          cluster: 'demo',
          serviceName: 'web',
          taskDefinition: 'app',
          desiredCount: 1,
          launchType: 'FARGATE',
        },
      ],
    });
    const quick = await ecs.send(new RunTaskCommand(migration(MIGRATE_FAIL, { startedBy: 'job-a' })));
    const slow = await ecs.send(new RunTaskCommand(migration(MIGRATE, { startedBy: 'job-b' })));
    e.clock.advance(15_000);
    const list = (input: Record<string, unknown>) =>
      ecs.send(new ListTasksCommand({ cluster: 'demo', ...input })).then((o) => o.taskArns);
    const quickArn = quick.tasks?.[0]?.taskArn;
    const slowArn = slow.tasks?.[0]?.taskArn;
    expect(await list({ startedBy: 'job-a', desiredStatus: 'STOPPED' })).toEqual([quickArn]);
    expect(await list({ startedBy: 'job-a' })).toEqual([]);
    expect(await list({ startedBy: 'job-b' })).toEqual([slowArn]);
    expect(await list({ family: 'app' })).toHaveLength(2);
    expect(await list({ serviceName: 'web' })).toHaveLength(1);
    expect(await list({ serviceName: 'web' })).not.toContain(slowArn);
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: 'demo', tasks: [quickArn as string, slowArn as string] }),
    );
    expect(described.tasks?.map((t) => [t.startedBy, t.lastStatus])).toEqual([
      ['job-a', 'STOPPED'],
      ['job-b', 'RUNNING'],
    ]);
  });
});

describe('task definitions: tags and revision hygiene as the deploy uses them', () => {
  it('tags a revision, deregisters old ones, deletes only INACTIVE ones; a deleted revision cannot run', async () => {
    const { ecs } = await start();
    await ecs.send(new RegisterTaskDefinitionCommand(TD));
    await ecs.send(new RegisterTaskDefinitionCommand(TD));
    const resourceArn = 'arn:aws:ecs:us-east-1:000000000000:task-definition/app:3';
    await ecs.send(
      new TagResourceCommand({
        resourceArn,
        tags: [
          { key: 'commit', value: 'abc123' },
          { key: 'team', value: 'core' },
        ],
      }),
    );
    await ecs.send(new UntagResourceCommand({ resourceArn, tagKeys: ['team'] }));
    expect((await ecs.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([
      { key: 'commit', value: 'abc123' },
    ]);
    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'app:3', include: ['TAGS'] }),
    );
    expect(described.tags).toEqual([{ key: 'commit', value: 'abc123' }]);

    const refused = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['app:1'] }));
    expect(refused.taskDefinitions).toEqual([]);
    expect(refused.failures?.[0]?.reason).toBe(
      'The specified task definition is still in ACTIVE status. Please deregister the target and try again.',
    );
    for (const revision of ['app:1', 'app:2']) {
      await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: revision }));
    }
    expect(
      (await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: 'app' }))).taskDefinitionArns,
    ).toEqual([resourceArn]);
    const deleted = await ecs.send(new DeleteTaskDefinitionsCommand({ taskDefinitions: ['app:1'] }));
    expect(deleted.taskDefinitions?.map((t) => t.status)).toEqual(['DELETE_IN_PROGRESS']);
    await expect(
      ecs.send(new RunTaskCommand(migration(MIGRATE, { taskDefinition: 'app:1' }))),
    ).rejects.toThrow('TaskDefinition not found.');
    await expect(
      ecs.send(new RunTaskCommand(migration(MIGRATE, { taskDefinition: 'app:2' }))),
    ).rejects.toThrow('TaskDefinition is inactive');
  });
});

describe('authorization and the call log', () => {
  it('RunTask needs ecs:RunTask on the task definition revision; StopTask on the task; both are mutating calls', async () => {
    const { emulator: e, ecs } = await start({
      iam: {
        roles: [
          {
            name: 'deploy',
            policies: [
              {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Action: ['ecs:StopTask', 'ecs:DescribeTasks'], Resource: '*' },
                  {
                    Effect: 'Allow',
                    Action: 'ecs:RunTask',
                    Resource: 'arn:aws:ecs:us-east-1:000000000000:task-definition/app:*',
                    Condition: {
                      ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:000000000000:cluster/demo' },
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const run = await ecs.send(new RunTaskCommand(migration()));
    await ecs.send(new StopTaskCommand({ cluster: 'demo', task: run.tasks?.[0]?.taskArn }));
    const denied = await ecs
      .send(new RunTaskCommand(migration(MIGRATE, { tags: [{ key: 'a', value: 'b' }] })))
      .catch((err: unknown) => err);
    expect(denied).toBeInstanceOf(AccessDeniedException);
    expect((denied as Error).message).toContain(
      'is not authorized to perform: ecs:TagResource on resource: arn:aws:ecs:us-east-1:000000000000:task/demo/*',
    );
    expect(e.mutatingCalls().map((c) => `${c.operation}:${c.status}`)).toEqual([
      'RunTask:200',
      'StopTask:200',
      'RunTask:400',
    ]);
  });
});
