import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  AddTagsCommand,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  ModifyRuleCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  InvalidConfigurationRequestException,
  ModifyTargetGroupAttributesCommand,
  DuplicateTagKeysException,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  OperationNotPermittedException,
  PriorityInUseException,
  RegisterTargetsCommand,
  RemoveTagsCommand,
  ResourceInUseException,
  RuleNotFoundException,
  SetRulePrioritiesCommand,
  TargetGroupAssociationLimitException,
  TargetGroupNotFoundException,
  TooManyRulesException,
  InvalidTargetException,
  type CreateTargetGroupCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { awsvpc, clients, fargateTaskDefinition } from './clients.js';

const VPC = 'vpc-0e0000000000000a1';
const ARN_PREFIX = 'arn:aws:elasticloadbalancing:us-east-1:000000000000:';

function elbClient(emulator: Emulator, accessKeyId = 'test', secretAccessKey = 'test') {
  return new ElasticLoadBalancingV2Client({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

const targetGroup = (name: string, extra: Partial<CreateTargetGroupCommandInput> = {}) =>
  new CreateTargetGroupCommand({
    Name: name,
    Protocol: 'HTTP',
    Port: 8080,
    VpcId: VPC,
    TargetType: 'ip',
    ...extra,
  });

const hostRule = (listenerArn: string, priority: number, host: string, targetGroupArn: string) =>
  new CreateRuleCommand({
    ListenerArn: listenerArn,
    Priority: priority,
    Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
    Actions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
  });

describe('Elastic Load Balancing v2', () => {
  let emulator: Emulator;
  let elb: ElasticLoadBalancingV2Client;
  let loadBalancerArn: string;
  let httpsListener: string;
  let httpListener: string;

  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      seed: {
        clusters: ['demo'],
        elbv2: {
          targetGroups: [{ name: 'demo-web-tg1', port: 8080 }],
          loadBalancers: [
            {
              name: 'previews',
              listeners: [
                { port: 443, protocol: 'HTTPS' },
                { port: 80, defaultTargetGroup: 'demo-web-tg1' },
              ],
            },
            { name: 'other' },
          ],
        },
      },
    });
    elb = elbClient(emulator);
    const lbs = await elb.send(new DescribeLoadBalancersCommand({ Names: ['previews'] }));
    loadBalancerArn = lbs.LoadBalancers?.[0]?.LoadBalancerArn as string;
    const listeners = await elb.send(new DescribeListenersCommand({ LoadBalancerArn: loadBalancerArn }));
    httpsListener = listeners.Listeners?.find((l) => l.Port === 443)?.ListenerArn as string;
    httpListener = listeners.Listeners?.find((l) => l.Port === 80)?.ListenerArn as string;
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('describes the seeded load balancers and listeners with AWS-shaped ARNs', async () => {
    const all = await elb.send(new DescribeLoadBalancersCommand({}));
    expect(all.LoadBalancers?.map((l) => l.LoadBalancerName)).toEqual(['previews', 'other']);
    const [lb] = all.LoadBalancers ?? [];
    expect(lb).toMatchObject({
      LoadBalancerArn: expect.stringMatching(
        /^arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer\/app\/previews\/[0-9a-f]{16}$/,
      ),
      DNSName: expect.stringMatching(/^previews-\d+\.us-east-1\.elb\.amazonaws\.com$/),
      Scheme: 'internet-facing',
      Type: 'application',
      VpcId: VPC,
      State: { Code: 'active' },
    });
    expect(lb?.CreatedTime).toBeInstanceOf(Date);
    const lbId = loadBalancerArn.split('/').at(-1);
    expect(httpsListener).toMatch(new RegExp(`^${ARN_PREFIX}listener/app/previews/${lbId}/[0-9a-f]{16}$`));
    const { Listeners } = await elb.send(new DescribeListenersCommand({ ListenerArns: [httpsListener] }));
    expect(Listeners?.[0]).toMatchObject({
      Protocol: 'HTTPS',
      Port: 443,
      SslPolicy: 'ELBSecurityPolicy-2016-08',
      DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
    });

    const missing = await elb
      .send(new DescribeLoadBalancersCommand({ Names: ['nope'] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(LoadBalancerNotFoundException);
    expect((missing as Error).message).toBe("Load balancers '[nope]' not found");
    const noListener = await elb
      .send(new DescribeListenersCommand({ ListenerArns: [`${httpsListener.slice(0, -1)}0`] }))
      .catch((e: unknown) => e);
    expect(noListener).toBeInstanceOf(ListenerNotFoundException);
  });

  it('creates target groups with ELB defaults; the same request again answers the same group', async () => {
    const created = await elb.send(targetGroup('pr-17', { Tags: [{ Key: 'pr', Value: '17' }] }));
    const [tg] = created.TargetGroups ?? [];
    expect(tg).toEqual({
      TargetGroupArn: expect.stringMatching(new RegExp(`^${ARN_PREFIX}targetgroup/pr-17/[0-9a-f]{16}$`)),
      TargetGroupName: 'pr-17',
      Protocol: 'HTTP',
      Port: 8080,
      VpcId: VPC,
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 2,
      HealthCheckPath: '/',
      Matcher: { HttpCode: '200' },
      LoadBalancerArns: [],
      TargetType: 'ip',
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    });
    const again = await elb.send(targetGroup('pr-17'));
    expect(again.TargetGroups?.[0]?.TargetGroupArn).toBe(tg?.TargetGroupArn);
    const different = await elb.send(targetGroup('pr-17', { Port: 9090 })).catch((e: unknown) => e);
    expect(different).toBeInstanceOf(DuplicateTargetGroupNameException);
    expect((different as Error).message).toBe(
      "A target group with the same name 'pr-17' exists, but with different settings",
    );
  });

  it('refuses target group names ELB refuses, and unknown VPCs, with ValidationError', async () => {
    const long = 'pr-1234-a-very-long-branch-namexy';
    expect(long.length).toBe(33);
    const cases: [string, Partial<CreateTargetGroupCommandInput>, RegExp][] = [
      [long, {}, /cannot be longer than '32' characters/],
      ['pr_17', {}, /can only contain characters that are alphanumeric characters or hyphens/],
      ['-pr', {}, /cannot begin or end with '-'/],
      ['pr-18', { VpcId: 'vpc-123' }, /The VPC ID 'vpc-123' is not found/],
      ['pr-18', { Port: undefined }, /A port must be specified/],
    ];
    for (const [name, extra, message] of cases) {
      const err = await elb.send(targetGroup(name, extra)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ElasticLoadBalancingV2ServiceException);
      expect([name, (err as Error).name, (err as Error).message]).toEqual([
        name,
        'ValidationError',
        expect.stringMatching(message),
      ]);
    }
    expect((await elb.send(targetGroup(long.slice(0, 32)))).TargetGroups?.[0]?.TargetGroupName).toHaveLength(
      32,
    );
  });

  it('describes target groups by name, ARN or load balancer; TargetGroupNotFound for any missing one', async () => {
    const byName = await elb.send(new DescribeTargetGroupsCommand({ Names: ['pr-17', 'demo-web-tg1'] }));
    expect(byName.TargetGroups?.map((t) => t.TargetGroupName)).toEqual(['pr-17', 'demo-web-tg1']);
    const seeded = byName.TargetGroups?.[1];
    expect(seeded?.LoadBalancerArns).toEqual([loadBalancerArn]);
    const byArn = await elb.send(
      new DescribeTargetGroupsCommand({ TargetGroupArns: [seeded?.TargetGroupArn as string] }),
    );
    expect(byArn.TargetGroups?.map((t) => t.TargetGroupName)).toEqual(['demo-web-tg1']);
    const byLoadBalancer = await elb.send(
      new DescribeTargetGroupsCommand({ LoadBalancerArn: loadBalancerArn }),
    );
    expect(byLoadBalancer.TargetGroups?.map((t) => t.TargetGroupName)).toEqual(['demo-web-tg1']);

    const missing = await elb
      .send(new DescribeTargetGroupsCommand({ Names: ['pr-17', 'nope'] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TargetGroupNotFoundException);
    expect(missing).toMatchObject({
      message: 'One or more target groups not found',
      $metadata: { httpStatusCode: 400 },
    });

    const paged = await elb.send(new DescribeTargetGroupsCommand({ PageSize: 1 }));
    expect(paged.TargetGroups).toHaveLength(1);
    const next = await elb.send(new DescribeTargetGroupsCommand({ PageSize: 1, Marker: paged.NextMarker }));
    expect(next.TargetGroups?.[0]?.TargetGroupName).not.toBe(paged.TargetGroups?.[0]?.TargetGroupName);
  });

  it('routes a host name to a target group with a rule; priorities are unique per listener', async () => {
    const tg = (await elb.send(targetGroup('pr-21'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const created = await elb.send(hostRule(httpsListener, 21, 'pr-21.preview.example.com', tg));
    const [rule] = created.Rules ?? [];
    expect(rule).toEqual({
      RuleArn: expect.stringMatching(
        new RegExp(`^${httpsListener.replace(':listener/', ':listener-rule/')}/[0-9a-f]{16}$`),
      ),
      Priority: '21',
      IsDefault: false,
      Conditions: [
        {
          Field: 'host-header',
          Values: ['pr-21.preview.example.com'],
          HostHeaderConfig: { Values: ['pr-21.preview.example.com'] },
        },
      ],
      Actions: [
        {
          Type: 'forward',
          TargetGroupArn: tg,
          Order: 1,
          ForwardConfig: {
            TargetGroups: [{ TargetGroupArn: tg, Weight: 1 }],
            TargetGroupStickinessConfig: { Enabled: false },
          },
        },
      ],
    });
    const described = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }));
    expect(described.TargetGroups?.[0]?.LoadBalancerArns).toEqual([loadBalancerArn]);

    const taken = await elb
      .send(hostRule(httpsListener, 21, 'other.preview.example.com', tg))
      .catch((e: unknown) => e);
    expect(taken).toBeInstanceOf(PriorityInUseException);
    expect((taken as Error).message).toBe("Priority '21' is currently in use");
    // Another listener has its own priorities.
    await elb.send(hostRule(httpListener, 21, 'pr-21.preview.example.com', tg));

    const rules = await elb.send(new DescribeRulesCommand({ ListenerArn: httpsListener }));
    expect(rules.Rules?.map((r) => [r.Priority, r.IsDefault])).toEqual([
      ['21', false],
      ['default', true],
    ]);
    const ghost = await elb
      .send(
        new CreateRuleCommand({
          ...hostRule(httpsListener, 22, 'x.example.com', `${tg.slice(0, -1)}0`).input,
        }),
      )
      .catch((e: unknown) => e);
    expect(ghost).toBeInstanceOf(TargetGroupNotFoundException);

    // A target group already behind this load balancer (a listener's default) may get more rules here.
    const seeded = (await elb.send(new DescribeTargetGroupsCommand({ Names: ['demo-web-tg1'] })))
      .TargetGroups?.[0];
    await expect(
      elb.send(hostRule(httpsListener, 23, 'y.example.com', seeded?.TargetGroupArn as string)),
    ).resolves.toMatchObject({ Rules: [{ Priority: '23' }] });
  });

  it('refuses to delete a target group a rule uses, and the default rule; deletes in order', async () => {
    const tg = (await elb.send(targetGroup('pr-30'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const rule = (await elb.send(hostRule(httpsListener, 30, 'pr-30.preview.example.com', tg))).Rules?.[0]
      ?.RuleArn as string;
    const inUse = await elb
      .send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }))
      .catch((e: unknown) => e);
    expect(inUse).toBeInstanceOf(ResourceInUseException);
    expect((inUse as Error).message).toBe(`Target group '${tg}' is currently in use by a listener or a rule`);

    const defaultRule = (
      await elb.send(new DescribeRulesCommand({ ListenerArn: httpsListener }))
    ).Rules?.find((r) => r.IsDefault)?.RuleArn as string;
    const notPermitted = await elb
      .send(new DeleteRuleCommand({ RuleArn: defaultRule }))
      .catch((e: unknown) => e);
    expect(notPermitted).toBeInstanceOf(OperationNotPermittedException);

    await elb.send(new DeleteRuleCommand({ RuleArn: rule }));
    const gone = await elb.send(new DescribeRulesCommand({ RuleArns: [rule] })).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(RuleNotFoundException);
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));
    const deleted = await elb
      .send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg] }))
      .catch((e: unknown) => e);
    expect(deleted).toBeInstanceOf(TargetGroupNotFoundException);
    expect(emulator.mutatingCalls().map((c) => c.operation)).toEqual(
      expect.arrayContaining(['CreateTargetGroup', 'CreateRule', 'DeleteRule', 'DeleteTargetGroup']),
    );
  });

  it('points a rule at another target group with ModifyRule, freeing the old one', async () => {
    const first = (await elb.send(targetGroup('pr-35-a'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const second = (await elb.send(targetGroup('pr-35-b'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const rule = (await elb.send(hostRule(httpsListener, 35, 'pr-35.preview.example.com', first))).Rules?.[0]
      ?.RuleArn as string;
    const modified = await elb.send(
      new ModifyRuleCommand({ RuleArn: rule, Actions: [{ Type: 'forward', TargetGroupArn: second }] }),
    );
    expect(modified.Rules?.[0]).toMatchObject({
      RuleArn: rule,
      Priority: '35',
      Conditions: [{ Field: 'host-header', Values: ['pr-35.preview.example.com'] }],
      Actions: [{ Type: 'forward', TargetGroupArn: second }],
    });
    const groups = await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [first, second] }));
    expect(groups.TargetGroups?.map((t) => t.LoadBalancerArns)).toEqual([[], [loadBalancerArn]]);
    await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: first }));

    const defaultRule = (
      await elb.send(new DescribeRulesCommand({ ListenerArn: httpsListener }))
    ).Rules?.find((r) => r.IsDefault)?.RuleArn;
    const refused = await elb
      .send(
        new ModifyRuleCommand({
          RuleArn: defaultRule,
          Actions: [{ Type: 'forward', TargetGroupArn: second }],
        }),
      )
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OperationNotPermittedException);
  });

  it('reorders rules with SetRulePriorities, refusing a collision', async () => {
    const tg = (await elb.send(targetGroup('pr-40'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const a = (await elb.send(hostRule(httpListener, 40, 'a.example.com', tg))).Rules?.[0]?.RuleArn as string;
    const b = (await elb.send(hostRule(httpListener, 41, 'b.example.com', tg))).Rules?.[0]?.RuleArn as string;
    const collision = await elb
      .send(new SetRulePrioritiesCommand({ RulePriorities: [{ RuleArn: a, Priority: 41 }] }))
      .catch((e: unknown) => e);
    expect(collision).toBeInstanceOf(PriorityInUseException);
    const swapped = await elb.send(
      new SetRulePrioritiesCommand({
        RulePriorities: [
          { RuleArn: a, Priority: 41 },
          { RuleArn: b, Priority: 40 },
        ],
      }),
    );
    expect(swapped.Rules?.map((r) => [r.RuleArn, r.Priority])).toEqual([
      [a, '41'],
      [b, '40'],
    ]);
  });

  it('tags target groups and rules: add, describe, remove; refuses duplicate keys', async () => {
    const tg = (await elb.send(targetGroup('pr-17'))).TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(
      new AddTagsCommand({
        ResourceArns: [tg],
        Tags: [
          { Key: 'branch', Value: 'feature/x' },
          { Key: 'pr', Value: '18' },
        ],
      }),
    );
    const described = await elb.send(new DescribeTagsCommand({ ResourceArns: [tg, loadBalancerArn] }));
    expect(described.TagDescriptions).toEqual([
      {
        ResourceArn: tg,
        Tags: [
          { Key: 'pr', Value: '18' },
          { Key: 'branch', Value: 'feature/x' },
        ],
      },
      { ResourceArn: loadBalancerArn, Tags: [] },
    ]);
    await elb.send(new RemoveTagsCommand({ ResourceArns: [tg], TagKeys: ['pr'] }));
    expect(
      (await elb.send(new DescribeTagsCommand({ ResourceArns: [tg] }))).TagDescriptions?.[0]?.Tags,
    ).toEqual([{ Key: 'branch', Value: 'feature/x' }]);
    const duplicate = await elb
      .send(
        new AddTagsCommand({
          ResourceArns: [tg],
          Tags: [
            { Key: 'a', Value: '1' },
            { Key: 'a', Value: '2' },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(DuplicateTagKeysException);
    const missing = await elb
      .send(new AddTagsCommand({ ResourceArns: [`${tg.slice(0, -1)}0`], Tags: [{ Key: 'a', Value: '1' }] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TargetGroupNotFoundException);
  });

  it('reports target health on the emulated clock: initial, healthy, draining, then gone', async () => {
    const unusedTg = (await elb.send(targetGroup('pr-50-idle'))).TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: unusedTg, Targets: [{ Id: '10.0.1.5' }] }));
    const idle = await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: unusedTg }));
    expect(idle.TargetHealthDescriptions).toEqual([
      {
        Target: { Id: '10.0.1.5', Port: 8080 },
        HealthCheckPort: '8080',
        TargetHealth: {
          State: 'unused',
          Reason: 'Target.NotInUse',
          Description: 'Target group is not configured to receive traffic from the load balancer',
        },
      },
    ]);

    const tg = (await elb.send(targetGroup('pr-50'))).TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(hostRule(httpsListener, 50, 'pr-50.preview.example.com', tg));
    await elb.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg,
        Targets: [{ Id: '10.0.1.7' }, { Id: '10.0.2.9', Port: 9000 }],
      }),
    );
    const state = async () =>
      (await elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }))).TargetHealthDescriptions?.map(
        (d) =>
          `${d.Target?.Id}:${d.Target?.Port}=${d.TargetHealth?.State}${d.TargetHealth?.Reason ? `/${d.TargetHealth.Reason}` : ''}`,
      );
    expect(await state()).toEqual([
      '10.0.1.7:8080=initial/Elb.RegistrationInProgress',
      '10.0.2.9:9000=initial/Elb.RegistrationInProgress',
    ]);
    emulator.clock.advance(30_000);
    expect(await state()).toEqual([
      '10.0.1.7:8080=initial/Elb.InitialHealthChecking',
      '10.0.2.9:9000=initial/Elb.InitialHealthChecking',
    ]);
    emulator.clock.advance(120_000);
    expect(await state()).toEqual(['10.0.1.7:8080=healthy', '10.0.2.9:9000=healthy']);

    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '45' }],
      }),
    );
    await elb.send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.7' }] }));
    expect(await state()).toEqual([
      '10.0.1.7:8080=draining/Target.DeregistrationInProgress',
      '10.0.2.9:9000=healthy',
    ]);
    // Draining for exactly the group's deregistration delay.
    emulator.clock.advance(44_999);
    expect((await state())?.[0]).toBe('10.0.1.7:8080=draining/Target.DeregistrationInProgress');
    emulator.clock.advance(1);
    expect(await state()).toEqual(['10.0.2.9:9000=healthy']);

    const notRegistered = await elb.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.7' }] }),
    );
    expect(notRegistered.TargetHealthDescriptions?.[0]?.TargetHealth).toEqual({
      State: 'unused',
      Reason: 'Target.NotRegistered',
      Description: 'Target is not registered to the target group',
    });
    const twice = await elb
      .send(new DeregisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: '10.0.1.7' }] }))
      .catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(InvalidTargetException);
    const badIp = await elb
      .send(new RegisterTargetsCommand({ TargetGroupArn: tg, Targets: [{ Id: 'i-0123456789abcdef0' }] }))
      .catch((e: unknown) => e);
    expect(badIp).toBeInstanceOf(InvalidTargetException);
  });

  it('answers and changes target group attributes; the deregistration delay starts at the compressed task stop', async () => {
    const tg = (await elb.send(targetGroup('attrs-1'))).TargetGroups?.[0]?.TargetGroupArn as string;
    const attributes = async () =>
      Object.fromEntries(
        (
          (await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg }))).Attributes ?? []
        ).map((a) => [a.Key, a.Value]),
      );
    // DEFAULT_TIMINGS.taskStop is 5 s: the emulator's compressed stand-in for ELB's 300 s.
    expect(await attributes()).toMatchObject({
      'deregistration_delay.timeout_seconds': '5',
      'stickiness.enabled': 'false',
      'load_balancing.algorithm.type': 'round_robin',
    });
    const modified = await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: tg,
        Attributes: [
          { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
          { Key: 'stickiness.enabled', Value: 'true' },
        ],
      }),
    );
    expect(modified.Attributes).toContainEqual({ Key: 'deregistration_delay.timeout_seconds', Value: '0' });
    expect(await attributes()).toMatchObject({
      'deregistration_delay.timeout_seconds': '0',
      'stickiness.enabled': 'true',
    });
    const refused = async (Attributes: { Key: string; Value: string }[]) =>
      elb
        .send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: tg, Attributes }))
        .catch((e: unknown) => e);
    for (const bad of [
      [{ Key: 'deregistration_delay.timeout_seconds', Value: '3601' }],
      [{ Key: 'deregistration_delay.timeout_seconds', Value: '-1' }],
      [{ Key: 'deregistration_delay.timeout_seconds', Value: '1.5' }],
      [{ Key: 'no.such.attribute', Value: '1' }],
      // All or nothing: the valid first change is not made either.
      [
        { Key: 'deregistration_delay.timeout_seconds', Value: '60' },
        { Key: 'stickiness.enabled', Value: 'yes' },
      ],
    ]) {
      expect(await refused(bad)).toBeInstanceOf(InvalidConfigurationRequestException);
    }
    expect((await attributes())['deregistration_delay.timeout_seconds']).toBe('0');
    const missing = await elb
      .send(
        new DescribeTargetGroupAttributesCommand({
          TargetGroupArn: `${ARN_PREFIX}targetgroup/gone/0123456789abcdef`,
        }),
      )
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TargetGroupNotFoundException);
  });

  it('lets an ECS service use a created target group', async () => {
    const tg = (await elb.send(targetGroup('pr-60'))).TargetGroups?.[0]?.TargetGroupArn as string;
    await elb.send(hostRule(httpsListener, 60, 'pr-60.preview.example.com', tg));
    const { ecs } = clients(emulator);
    await ecs.send(new RegisterTaskDefinitionCommand(fargateTaskDefinition('preview-60')));
    await ecs.send(
      new CreateServiceCommand({
        cluster: 'demo',
        serviceName: 'preview-60',
        taskDefinition: 'preview-60',
        desiredCount: 1,
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        loadBalancers: [{ targetGroupArn: tg, containerName: 'web', containerPort: 8080 }],
      }),
    );
    const described = await ecs.send(
      new DescribeServicesCommand({ cluster: 'demo', services: ['preview-60'] }),
    );
    expect(described.services?.[0]?.loadBalancers).toEqual([
      { targetGroupArn: tg, containerName: 'web', containerPort: 8080 },
    ]);
  });

  it('stops at 100 rules per listener with TooManyRules', async () => {
    const fresh = await startEmulator({
      manualClock: true,
      seed: {
        elbv2: { targetGroups: [{ name: 'tg' }], loadBalancers: [{ name: 'lb', listeners: [{ port: 80 }] }] },
      },
    });
    try {
      const client = elbClient(fresh);
      const tg = (await client.send(new DescribeTargetGroupsCommand({ Names: ['tg'] }))).TargetGroups?.[0]
        ?.TargetGroupArn as string;
      const lb = (await client.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.[0]
        ?.LoadBalancerArn as string;
      const listener = (await client.send(new DescribeListenersCommand({ LoadBalancerArn: lb })))
        .Listeners?.[0]?.ListenerArn as string;
      for (let i = 1; i <= 100; i++) await client.send(hostRule(listener, i, `pr-${i}.example.com`, tg));
      const full = await client
        .send(hostRule(listener, 101, 'pr-101.example.com', tg))
        .catch((e: unknown) => e);
      expect(full).toBeInstanceOf(TooManyRulesException);
      const rules = await client.send(new DescribeRulesCommand({ ListenerArn: listener, PageSize: 400 }));
      expect(rules.Rules).toHaveLength(101);
    } finally {
      await fresh.stop();
    }
  });

  it('keeps a target group to one load balancer: TargetGroupAssociationLimit', async () => {
    const fresh = await startEmulator({
      manualClock: true,
      seed: {
        elbv2: {
          targetGroups: [{ name: 'shared' }],
          loadBalancers: [
            { name: 'a', listeners: [{ port: 80, defaultTargetGroup: 'shared' }] },
            { name: 'b', listeners: [{ port: 80 }] },
          ],
        },
      },
    });
    try {
      const client = elbClient(fresh);
      const tg = (await client.send(new DescribeTargetGroupsCommand({ Names: ['shared'] }))).TargetGroups?.[0]
        ?.TargetGroupArn as string;
      const b = (await client.send(new DescribeLoadBalancersCommand({ Names: ['b'] }))).LoadBalancers?.[0]
        ?.LoadBalancerArn as string;
      const listener = (await client.send(new DescribeListenersCommand({ LoadBalancerArn: b })))
        .Listeners?.[0]?.ListenerArn as string;
      const err = await client.send(hostRule(listener, 1, 'x.example.com', tg)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TargetGroupAssociationLimitException);
    } finally {
      await fresh.stop();
    }
  });
});

describe('Elastic Load Balancing v2 under IAM', () => {
  it('refuses what the caller may not do: AccessDenied (403), with tag-on-create checked too', async () => {
    const emulator = await startEmulator({
      manualClock: true,
      seed: {
        elbv2: { loadBalancers: [{ name: 'lb', listeners: [{ port: 80 }] }] },
        iam: {
          roles: [
            {
              name: 'deploy',
              policies: [
                {
                  Version: '2012-10-17',
                  Statement: [
                    { Effect: 'Allow', Action: 'elasticloadbalancing:Describe*', Resource: '*' },
                    {
                      Effect: 'Allow',
                      Action: 'elasticloadbalancing:CreateTargetGroup',
                      Resource: `${ARN_PREFIX}targetgroup/pr-*`,
                    },
                  ],
                },
              ],
            },
          ],
        },
      },
    });
    try {
      const elb = elbClient(emulator);
      await expect(elb.send(new DescribeLoadBalancersCommand({}))).resolves.toBeDefined();
      await expect(elb.send(targetGroup('pr-1'))).resolves.toBeDefined();
      const other = await elb.send(targetGroup('main-1')).catch((e: unknown) => e);
      expect(other).toMatchObject({
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
        message: `User: arn:aws:sts::000000000000:assumed-role/deploy/GitHubActions is not authorized to perform: elasticloadbalancing:CreateTargetGroup on resource: ${ARN_PREFIX}targetgroup/main-1/* because no identity-based policy allows the elasticloadbalancing:CreateTargetGroup action`,
      });
      const tagged = await elb
        .send(targetGroup('pr-2', { Tags: [{ Key: 'pr', Value: '2' }] }))
        .catch((e: unknown) => e);
      expect((tagged as Error).message).toMatch(
        /not authorized to perform: elasticloadbalancing:AddTags on resource: .*targetgroup\/pr-2\/\*/,
      );
      expect(emulator.state.elbv2.targetGroups.size).toBe(1);
    } finally {
      await emulator.stop();
    }
  });
});

describe('ECS service tasks behind a target group', () => {
  it('drain for the group’s deregistration delay (seeded or modified), others stop after taskStop', async () => {
    const emulator = await startEmulator({
      manualClock: true,
      seed: {
        clusters: ['demo'],
        taskDefinitions: [fargateTaskDefinition('app')],
        services: [
          {
            cluster: 'demo',
            serviceName: 'behind',
            taskDefinition: 'app',
            loadBalancers: [{ containerName: 'web', containerPort: 8080, deregistrationDelaySeconds: 12 }],
          },
          { cluster: 'demo', serviceName: 'alone', taskDefinition: 'app' },
          {
            cluster: 'demo',
            serviceName: 'modified',
            taskDefinition: 'app',
            loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
          },
        ],
      },
    });
    try {
      const { ecs } = clients(emulator);
      const elb = elbClient(emulator);
      const groupOf = async (service: string) =>
        (await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: [service] }))).services?.[0]
          ?.loadBalancers?.[0]?.targetGroupArn as string;
      const delayOf = async (service: string) =>
        (
          await elb.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: await groupOf(service) }))
        ).Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
      expect([await delayOf('behind'), await delayOf('modified')]).toEqual(['12', '5']);
      await elb.send(
        new ModifyTargetGroupAttributesCommand({
          TargetGroupArn: await groupOf('modified'),
          Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
        }),
      );
      const services = ['behind', 'alone', 'modified'];
      const taskArns = Object.fromEntries(
        await Promise.all(
          services.map(async (s) => [
            s,
            (await ecs.send(new ListTasksCommand({ cluster: 'demo', serviceName: s })))
              .taskArns?.[0] as string,
          ]),
        ),
      );
      for (const s of services) {
        await ecs.send(new UpdateServiceCommand({ cluster: 'demo', service: s, desiredCount: 0 }));
      }
      const states = async () => {
        const out = [];
        for (const s of services) {
          const task = (
            await ecs.send(new DescribeTasksCommand({ cluster: 'demo', tasks: [taskArns[s] as string] }))
          ).tasks?.[0];
          out.push(`${s}=${task?.lastStatus}`);
        }
        return out;
      };
      expect(await states()).toEqual(['behind=STOPPING', 'alone=STOPPING', 'modified=STOPPING']);
      emulator.clock.advance(5_000);
      expect(await states()).toEqual(['behind=STOPPING', 'alone=STOPPED', 'modified=STOPPING']);
      emulator.clock.advance(6_999);
      expect(await states()).toEqual(['behind=STOPPING', 'alone=STOPPED', 'modified=STOPPING']);
      emulator.clock.advance(1);
      expect(await states()).toEqual(['behind=STOPPED', 'alone=STOPPED', 'modified=STOPPING']);
      emulator.clock.advance(18_000);
      expect(await states()).toEqual(['behind=STOPPED', 'alone=STOPPED', 'modified=STOPPED']);
      const events = (
        await ecs.send(new DescribeServicesCommand({ cluster: 'demo', services: ['behind'] }))
      ).services?.[0]?.events?.map((e) => e.message);
      expect(events).toContain('(service behind) has begun draining connections on 1 tasks.');
    } finally {
      await emulator.stop();
    }
  });
});
