import { describe, expect, it, beforeEach } from '@jest/globals';
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTaskDefinitionCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { awslogsGroups, awslogsStream, readContainerLogs } from '../../../src/deploy/container-logs.js';
import { deploymentUrl, listenerUrl } from '../../../src/deploy/url.js';

const TD = 'arn:aws:ecs:us-east-1:123456789012:task-definition/app:12';
const awslogs = (group: string, prefix?: string) => ({
  logDriver: 'awslogs' as const,
  options: {
    'awslogs-group': group,
    'awslogs-region': 'us-east-1',
    ...(prefix ? { 'awslogs-stream-prefix': prefix } : {}),
  },
});

describe('awslogsStream: the stream ECS names', () => {
  it.each([
    [
      'with a prefix',
      { name: 'web', logConfiguration: awslogs('/ecs/app', 'web') },
      { logGroup: '/ecs/app', logStream: 'web/web/abc' },
    ],
    [
      'without a prefix',
      { name: 'web', logConfiguration: awslogs('/ecs/app') },
      { logGroup: '/ecs/app', logStream: 'abc' },
    ],
    ['another driver', { name: 'web', logConfiguration: { logDriver: 'json-file' as const } }, undefined],
    ['no log configuration', { name: 'web' }, undefined],
  ])('%s', (_n, def, stream) => expect(awslogsStream(def, 'abc')).toEqual(stream));

  it('lists each awslogs group once', () => {
    expect(
      awslogsGroups([
        { name: 'a', logConfiguration: awslogs('/ecs/app', 'a') },
        { name: 'b', logConfiguration: awslogs('/ecs/app', 'b') },
        { name: 'c', logConfiguration: { logDriver: 'splunk' } },
      ]),
    ).toEqual(['/ecs/app']);
  });
});

describe('readContainerLogs', () => {
  const ecsMock = mockClient(ECSClient);
  const logsMock = mockClient(CloudWatchLogsClient);
  const clients = {
    ecs: new ECSClient({ region: 'us-east-1' }),
    logs: new CloudWatchLogsClient({ region: 'us-east-1' }),
  };
  const task = (id: string) => ({
    taskArn: `arn:aws:ecs:us-east-1:123456789012:task/demo/${id}`,
    taskDefinitionArn: TD,
    containers: ['web'],
  });

  beforeEach(() => {
    ecsMock.reset();
    logsMock.reset();
    ecsMock.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        containerDefinitions: [
          { name: 'web', logConfiguration: awslogs('/ecs/app', 'web') },
          { name: 'sidecar', logConfiguration: awslogs('/ecs/app', 'side') },
        ],
      },
    });
  });

  it('reads the last lines of the stopped container, newest tasks only, the same output once', async () => {
    logsMock
      .on(GetLogEventsCommand)
      .resolves({ events: [{ message: 'boot' }, { message: 'Error: boom\n' }] });
    const out = await readContainerLogs(clients, [task('t1'), task('t2'), task('t3')], 50);
    expect(logsMock).toHaveReceivedCommandTimes(GetLogEventsCommand, 2);
    expect(logsMock).toHaveReceivedCommandWith(GetLogEventsCommand, {
      logGroupName: '/ecs/app',
      logStreamName: 'web/web/t2',
      limit: 50,
      startFromHead: false,
    });
    expect(out.logs).toEqual([
      {
        container: 'web',
        taskId: 't2',
        logGroup: '/ecs/app',
        logStream: 'web/web/t2',
        lines: ['boot', 'Error: boom'],
      },
    ]);
    expect(out.notes).toEqual(['container web of task t3 printed the same 2 lines as task t2']);
    expect(ecsMock).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
  });

  it('0 lines: nothing is read', async () => {
    const out = await readContainerLogs(clients, [task('t1')], 0);
    expect(out).toEqual({ logs: [], notes: [], denied: [] });
    expect(logsMock).toHaveReceivedCommandTimes(GetLogEventsCommand, 0);
  });

  it.each([
    ['AccessDeniedException', { denied: ['/ecs/app'], notes: [] }],
    [
      'ResourceNotFoundException',
      {
        denied: [],
        notes: ['container web of task t1 has no log stream /ecs/app:web/web/t1 (it may never have started)'],
      },
    ],
  ])('%s degrades to a note, never an error', async (name, expected) => {
    logsMock.on(GetLogEventsCommand).rejects(Object.assign(new Error('no'), { name }));
    const out = await readContainerLogs(clients, [task('t1')], 50);
    expect({ denied: out.denied, notes: out.notes }).toEqual(expected);
    expect(out.logs).toEqual([]);
  });
});

describe('the url output', () => {
  it.each([
    [{ Protocol: 'HTTPS' as const, Port: 443 }, 'https://app-1.us-east-1.elb.amazonaws.com/'],
    [{ Protocol: 'HTTP' as const, Port: 80 }, 'http://app-1.us-east-1.elb.amazonaws.com/'],
    [{ Protocol: 'HTTP' as const, Port: 8080 }, 'http://app-1.us-east-1.elb.amazonaws.com:8080/'],
    [{ Protocol: 'TCP' as const, Port: 80 }, undefined],
  ])('%j → %s', (listener, url) =>
    expect(listenerUrl('App-1.us-east-1.elb.amazonaws.com', listener)).toBe(url),
  );

  const elbMock = mockClient(ElasticLoadBalancingV2Client);
  const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
  const LB = 'arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1';
  const TG = 'arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/web/1';
  beforeEach(() => {
    elbMock.reset();
    elbMock
      .on(DescribeLoadBalancersCommand)
      .resolves({ LoadBalancers: [{ DNSName: 'web-1.elb.amazonaws.com' }] });
  });

  it("CodeDeploy: the group's production listener", async () => {
    elbMock
      .on(DescribeListenersCommand)
      .resolves({ Listeners: [{ LoadBalancerArn: LB, Protocol: 'HTTPS', Port: 443 }] });
    expect(await deploymentUrl(elb, { listenerArn: 'arn:l', targetGroupArn: TG })).toBe(
      'https://web-1.elb.amazonaws.com/',
    );
    expect(elbMock).toHaveReceivedCommandWith(DescribeListenersCommand, { ListenerArns: ['arn:l'] });
  });

  it("rolling: the listener forwarding to the service's target group", async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ LoadBalancerArns: [LB] }] });
    elbMock.on(DescribeListenersCommand).resolves({
      Listeners: [
        { Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'redirect' }] },
        { Protocol: 'HTTP', Port: 8080, DefaultActions: [{ Type: 'forward', TargetGroupArn: TG }] },
      ],
    });
    expect(await deploymentUrl(elb, { targetGroupArn: TG })).toBe('http://web-1.elb.amazonaws.com:8080/');
  });

  it('no load balancer: no url', async () => {
    expect(await deploymentUrl(elb, {})).toBeUndefined();
  });
});
