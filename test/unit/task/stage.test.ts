/** The one-off task stage on mocked ECS and CloudWatch Logs: verdicts, logs, the record, StopTask. */
import { beforeEach, describe, expect, it } from '@jest/globals';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { readConfig } from '../../../src/config.js';
import { cleanUp, readSavedState } from '../../../src/cleanup.js';
import { MemoryLog } from '../../../src/log.js';
import { DeploymentFailed } from '../../../src/stages/deps.js';
import { Stages } from '../../../src/stages/stage.js';
import { runOneOffTask, type TaskTarget } from '../../../src/stages/task.js';
import { ScriptedClock } from '../deploy/fakes.js';
import { pipelineHarness } from '../support/harness.js';

const ecs = mockClient(ECSClient);
const logs = mockClient(CloudWatchLogsClient);
beforeEach(() => {
  ecs.reset();
  logs.reset();
});

const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:7';
const TASK = 'arn:aws:ecs:us-east-1:123456789012:task/demo/t1';
const config = (extra: Record<string, string> = {}) =>
  readConfig(
    (n) =>
      ({
        'task-definition': 'td.json',
        'ecr-repository': 'app',
        cluster: 'demo',
        service: 'web',
        'run-task': 'before',
        'run-task-command': '["node", "migrate.js"]',
        'poll-interval-seconds': '2',
        ...extra,
      })[n] ?? '',
    { GITHUB_WORKSPACE: '/w', GITHUB_SHA: 'a'.repeat(40), GITHUB_RUN_ID: '7', AWS_REGION: 'us-east-1' },
  );
const target: TaskTarget = {
  cluster: 'demo',
  region: 'us-east-1',
  taskDefinitionArn: TD,
  containers: [
    {
      name: 'web',
      logConfiguration: {
        logDriver: 'awslogs',
        options: { 'awslogs-group': '/ecs/app', 'awslogs-stream-prefix': 'ecs' },
      },
    },
  ],
  deployed: ['web'],
  service: {
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
    launchType: 'FARGATE',
  },
};
const status = (lastStatus: string, extra: Partial<Task> = {}) => ({
  tasks: [{ taskArn: TASK, lastStatus, ...extra }],
});
const stoppedWith = (exitCode: number) =>
  status('STOPPED', {
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    containers: [{ name: 'web', exitCode }],
  });

function harness(clock = new ScriptedClock()) {
  const h = pipelineHarness({ clock });
  h.deps.clients.logs = new CloudWatchLogsClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  return h;
}
const run = (h: ReturnType<typeof harness>, c = config()) =>
  runOneOffTask(c.task!, target, c, h.deps, new Stages(h.timer, h.deps), h.report);

describe('runOneOffTask', () => {
  it('records the task before RunTask, streams its lines while it runs, and succeeds on exit 0', async () => {
    const h = harness();
    ecs.on(RunTaskCommand).callsFake(() => {
      // The post step must know of the task before RunTask answers.
      expect(JSON.parse(h.state.task ?? '{}')).toMatchObject({ cluster: 'demo', taskDefinitionArn: TD });
      return { tasks: [{ taskArn: TASK, lastStatus: 'PROVISIONING' }], failures: [] };
    });
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce(status('RUNNING'))
      .resolvesOnce(status('RUNNING'))
      .resolves(stoppedWith(0));
    logs
      .on(GetLogEventsCommand)
      .resolvesOnce({ events: [{ message: 'migrating 001' }], nextForwardToken: 'f/1' })
      .resolvesOnce({ events: [], nextForwardToken: 'f/1' })
      .resolvesOnce({
        events: [{ message: '::set-output name=x::y' }, { message: 'done' }],
        nextForwardToken: 'f/2',
      })
      .resolves({ events: [], nextForwardToken: 'f/2' });
    await run(h);
    expect(ecs).toHaveReceivedCommandWith(RunTaskCommand, {
      cluster: 'demo',
      taskDefinition: TD,
      overrides: { containerOverrides: [{ name: 'web', command: ['node', 'migrate.js'] }] },
      networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'] } },
      launchType: 'FARGATE',
      clientToken: expect.stringMatching(/^ecs-deploy-/) as unknown as string,
    });
    expect(logs).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: '/ecs/app',
      logStreamName: 'ecs/web/t1',
      startFromHead: true,
    });
    const printed = h.log.lines.filter((l) => l.startsWith('| '));
    expect(printed).toEqual(['| migrating 001', '| ::set-output name=x::y', '| done']);
    // No printed line can start a workflow command.
    expect(h.log.lines.flatMap((l) => l.split('\n')).filter((l) => /^\s*::/.test(l))).toEqual([]);
    expect(h.outputs).toMatchObject({ 'task-arn': TASK, 'task-exit-code': '0' });
    expect(h.state['task-settled']).toBe('true');
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });

  it('fails with the exit code, stoppedReason and the last log lines when the migration fails', async () => {
    const h = harness();
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    ecs.on(DescribeTasksCommand).resolves(stoppedWith(3));
    logs
      .on(GetLogEventsCommand)
      .resolves({ events: [{ message: 'error: relation "users" exists' }], nextForwardToken: 'f/1' });
    const err = await run(h).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeploymentFailed);
    expect((err as Error).message).toContain(
      'nothing was deployed: web exited with code 3; stopped: EssentialContainerExited: Essential container in task exited.',
    );
    expect((err as DeploymentFailed).diagnostics).toEqual(['task: error: relation "users" exists']);
    expect(h.outputs['task-exit-code']).toBe('3');
    expect(h.report.outcome).toBe('task-failed');
  });

  it('a retried RunTask sends the same clientToken', async () => {
    const tokens: string[] = [];
    for (let i = 0; i < 2; i++) {
      ecs.reset();
      ecs
        .on(RunTaskCommand)
        .callsFake(
          (input: { clientToken: string }) => (
            tokens.push(input.clientToken),
            { tasks: [{ taskArn: TASK }] }
          ),
        );
      ecs.on(DescribeTasksCommand).resolves(stoppedWith(0));
      logs.on(GetLogEventsCommand).resolves({ events: [] });
      await run(harness());
    }
    expect(tokens[0]).toBe(tokens[1]);
  });

  it('stops the task when the run is cancelled while it runs, and leaves it settled', async () => {
    const abort = new AbortController();
    const clock = new ScriptedClock(undefined, (n) => {
      if (n === 2) abort.abort(new Error('cancelled'));
    });
    const h = harness(clock);
    h.deps.signal = abort.signal;
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    ecs.on(DescribeTasksCommand).resolves(status('RUNNING'));
    ecs.on(StopTaskCommand).resolves({});
    logs.on(GetLogEventsCommand).resolves({ events: [] });
    await expect(run(h)).rejects.toThrow('cancelled');
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'demo', task: TASK });
    expect(h.state['task-settled']).toBe('true');
  });

  it('stops the task and fails when run-task-timeout-minutes runs out', async () => {
    const h = harness();
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    ecs.on(DescribeTasksCommand).resolves(status('RUNNING'));
    ecs.on(StopTaskCommand).resolves({});
    logs.on(GetLogEventsCommand).resolves({ events: [] });
    await expect(run(h, config({ 'run-task-timeout-minutes': '1' }))).rejects.toThrow(
      /did not stop within run-task-timeout-minutes \(1\)/,
    );
    expect(ecs).toHaveReceivedCommandTimes(StopTaskCommand, 1);
  });

  it('turns a refusal of RunTask into the input to fix', async () => {
    const h = harness();
    ecs.on(RunTaskCommand).rejects(
      Object.assign(new Error('Override for container named x is not a container in the TaskDefinition.'), {
        name: 'InvalidParameterException',
      }),
    );
    await expect(run(h)).rejects.toThrow(
      /run-task: ECS refused to run the one-off task: Override for container named x/,
    );
  });
});

describe('the post step and a one-off task', () => {
  const deps = (log: MemoryLog) => ({
    codedeploy: () => {
      throw new Error('not used');
    },
    ecs: () => new ECSClient({ region: 'us-east-1' }),
    docker: { run: async () => ({ exitCode: 0, stdout: '', stderr: '' }) },
    log,
  });
  const record = {
    cluster: 'demo',
    region: 'us-east-1',
    taskDefinitionArn: TD,
    startedBy: 'ecs-deploy-pipeline',
    clientToken: 't',
  };

  it('stops a recorded task the run did not see stop', async () => {
    ecs.on(StopTaskCommand).resolves({});
    const state = readSavedState((n) => ({ task: JSON.stringify({ ...record, taskArn: TASK }) })[n] ?? '');
    await cleanUp(state, deps(new MemoryLog()) as never);
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { cluster: 'demo', task: TASK });
  });

  it('finds the task by startedBy and revision when only the intent was recorded', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [TASK, 'other'] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        { taskArn: TASK, taskDefinitionArn: TD },
        { taskArn: 'other', taskDefinitionArn: 'x' },
      ],
    });
    ecs.on(StopTaskCommand).resolves({});
    await cleanUp(
      readSavedState((n) => ({ task: JSON.stringify(record) })[n] ?? ''),
      deps(new MemoryLog()) as never,
    );
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, {
      cluster: 'demo',
      startedBy: 'ecs-deploy-pipeline',
      desiredStatus: 'RUNNING',
    });
    expect(ecs).toHaveReceivedCommandTimes(StopTaskCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(StopTaskCommand, { task: TASK });
  });

  it('leaves a settled task alone', async () => {
    const state = readSavedState(
      (n) => ({ task: JSON.stringify({ ...record, taskArn: TASK }), 'task-settled': 'true' })[n] ?? '',
    );
    await cleanUp(state, deps(new MemoryLog()) as never);
    expect(ecs).not.toHaveReceivedCommand(StopTaskCommand);
  });
});
