import { beforeEach, describe, expect, it } from '@jest/globals';
import {
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
  ModifyRuleCommand,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { UserError } from '../../../src/errors.js';
import { MemoryLog } from '../../../src/log.js';
import { previewNames } from '../../../src/preview/names.js';
import {
  choosePriority,
  ensureRouting,
  planRouting,
  removeRouting,
  ruleHosts,
  type RoutingPlan,
} from '../../../src/preview/routing.js';
import { sdkError } from '../deploy/fakes.js';

const elbMock = mockClient(ElasticLoadBalancingV2Client);
const elb = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
const LISTENER =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/previews/50dc6c49/f2f7dc8e';
const LB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/previews/50dc6c49';
const BASE_TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1111';
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-pr-42/2222';
const RULE =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/previews/50dc6c49/f2f7dc8e/9999';
const names = previewNames('web', {
  action: 'deploy',
  pullRequest: 42,
  domain: 'preview.example.com',
  listenerArn: LISTENER,
});
const OUR_TAGS = [
  { Key: 'preview-of', Value: 'web' },
  { Key: 'pull-request', Value: '42' },
];

const plan: RoutingPlan = {
  listenerArn: LISTENER,
  host: 'pr-42.preview.example.com',
  targetGroupName: 'web-pr-42',
  vpcId: 'vpc-1',
  targetType: 'ip',
  containerName: 'web',
  containerPort: 8080,
  healthCheck: { Protocol: 'HTTP', HealthCheckPath: '/healthz' },
  tags: OUR_TAGS,
  preferredPriority: 42,
};

const rule = (priority: string, host: string, arn = `${RULE}-${priority}`, tg = BASE_TG): Rule => ({
  RuleArn: arn,
  Priority: priority,
  Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
  Actions: [{ Type: 'forward', TargetGroupArn: tg }],
});
const defaultRule: Rule = {
  RuleArn: `${RULE}-default`,
  Priority: 'default',
  IsDefault: true,
  Conditions: [],
};

let log: MemoryLog;
beforeEach(() => {
  elbMock.reset();
  log = new MemoryLog();
});

describe('choosePriority and ruleHosts', () => {
  it.each([
    ['the pull request number when free', [1, 2, 3], 42, 42],
    ['the lowest free one when the number is taken', [1, 2, 42], 42, 3],
    ['the lowest free one for numbers past the range', [1], 60_000, 2],
  ])('%s', (_name, taken, preferred, expected) => {
    expect(choosePriority(new Set(taken), preferred)).toBe(expected);
  });

  it('refuses when every priority is taken', () => {
    const all = new Set(Array.from({ length: 50_000 }, (_, i) => i + 1));
    expect(() => choosePriority(all, 7)).toThrow(UserError);
  });

  it('reads host conditions in the new and the old form, case-insensitively', () => {
    expect(ruleHosts(rule('1', 'PR-1.Example.com'))).toEqual(['pr-1.example.com']);
    expect(
      ruleHosts({
        Conditions: [
          { Field: 'host-header', Values: ['a.example.com'] },
          { Field: 'path-pattern', Values: ['/x'] },
        ],
      }),
    ).toEqual(['a.example.com']);
  });
});

describe('planRouting', () => {
  const opts = {
    listenerArn: LISTENER,
    names,
    containerName: 'web',
    containerPort: 8080,
    awsvpc: true,
    baseTargetGroupArn: BASE_TG,
  };

  it('takes the VPC from the listener’s load balancer and the health check from the base target group', async () => {
    elbMock
      .on(DescribeListenersCommand)
      .resolves({ Listeners: [{ ListenerArn: LISTENER, LoadBalancerArn: LB }] });
    elbMock
      .on(DescribeLoadBalancersCommand)
      .resolves({ LoadBalancers: [{ LoadBalancerArn: LB, Type: 'application', VpcId: 'vpc-9' }] });
    elbMock.on(DescribeTargetGroupsCommand).resolves({
      TargetGroups: [
        {
          TargetGroupArn: BASE_TG,
          Protocol: 'HTTP',
          HealthCheckPath: '/healthz',
          Matcher: { HttpCode: '200-299' },
          HealthCheckIntervalSeconds: 10,
        },
      ],
    });
    expect(await planRouting(elb, opts)).toMatchObject({
      vpcId: 'vpc-9',
      targetType: 'ip',
      host: 'pr-42.preview.example.com',
      targetGroupName: 'web-pr-42',
      preferredPriority: 42,
      healthCheck: {
        Protocol: 'HTTP',
        HealthCheckPath: '/healthz',
        Matcher: { HttpCode: '200-299' },
        HealthCheckIntervalSeconds: 10,
      },
      tags: OUR_TAGS,
    });
  });

  it('names preview-listener-arn when the listener does not exist', async () => {
    elbMock
      .on(DescribeListenersCommand)
      .rejects(sdkError('ListenerNotFoundException', 'One or more listeners not found', 400));
    await expect(planRouting(elb, opts)).rejects.toMatchObject({
      problems: [
        expect.objectContaining({
          where: 'preview-listener-arn',
          what: expect.stringContaining('does not exist'),
        }),
      ],
    });
  });

  it('refuses a listener of a network load balancer', async () => {
    elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ LoadBalancerArn: LB }] });
    elbMock
      .on(DescribeLoadBalancersCommand)
      .resolves({ LoadBalancers: [{ Type: 'network', VpcId: 'vpc-1' }] });
    await expect(planRouting(elb, opts)).rejects.toThrow(
      /network load balancer; host-name rules need an Application Load Balancer/,
    );
  });

  it('uses default health check settings without a base target group', async () => {
    elbMock.on(DescribeListenersCommand).resolves({ Listeners: [{ LoadBalancerArn: LB }] });
    elbMock
      .on(DescribeLoadBalancersCommand)
      .resolves({ LoadBalancers: [{ Type: 'application', VpcId: 'vpc-1' }] });
    const planned = await planRouting(elb, { ...opts, baseTargetGroupArn: undefined, awsvpc: false });
    expect(planned).toMatchObject({
      targetType: 'instance',
      healthCheck: { Protocol: 'HTTP', HealthCheckPath: '/' },
    });
    expect(elbMock).not.toHaveReceivedCommand(DescribeTargetGroupsCommand);
  });
});

describe('ensureRouting', () => {
  const noTargetGroup = () =>
    elbMock
      .on(DescribeTargetGroupsCommand, { Names: ['web-pr-42'] })
      .rejects(sdkError('TargetGroupNotFoundException', 'not found', 400));

  it('creates the target group and a host rule at the pull request’s priority, tagged', async () => {
    noTargetGroup();
    elbMock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [defaultRule, rule('1', 'other.example.com')] });
    elbMock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE, Priority: '42' }] });
    expect(await ensureRouting(elb, plan, names, log)).toEqual({
      targetGroupArn: TG,
      ruleArn: RULE,
      priority: '42',
    });
    expect(elbMock).toHaveReceivedCommandWith(CreateTargetGroupCommand, {
      Name: 'web-pr-42',
      Port: 8080,
      VpcId: 'vpc-1',
      TargetType: 'ip',
      Protocol: 'HTTP',
      HealthCheckPath: '/healthz',
      Tags: OUR_TAGS,
    });
    expect(elbMock).toHaveReceivedCommandWith(CreateRuleCommand, {
      ListenerArn: LISTENER,
      Priority: 42,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-42.preview.example.com'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: TG }],
      Tags: OUR_TAGS,
    });
  });

  it('reads the priorities again and picks another when a concurrent run took one (PriorityInUse)', async () => {
    noTargetGroup();
    elbMock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock
      .on(DescribeRulesCommand)
      .resolvesOnce({ Rules: [rule('42', 'x.example.com')] })
      .resolves({ Rules: [rule('42', 'x.example.com'), rule('1', 'pr-7.preview.example.com')] });
    elbMock
      .on(CreateRuleCommand)
      .rejectsOnce(sdkError('PriorityInUseException', 'Priority 1 is currently in use', 400))
      .resolves({ Rules: [{ RuleArn: RULE }] });
    const routing = await ensureRouting(elb, plan, names, log);
    expect(routing.priority).toBe('2');
    const priorities = elbMock.commandCalls(CreateRuleCommand).map((c) => c.args[0].input.Priority);
    expect(priorities).toEqual([1, 2]);
    expect(log.text()).toContain('priority 1 was taken meanwhile');
  });

  it('gives up after a few collisions with the AWS error', async () => {
    noTargetGroup();
    elbMock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [] });
    elbMock.on(CreateRuleCommand).rejects(sdkError('PriorityInUseException', 'in use', 400));
    await expect(ensureRouting(elb, plan, names, log)).rejects.toThrow('in use');
    expect(elbMock.commandCalls(CreateRuleCommand)).toHaveLength(5);
  });

  it('reuses its own target group and rule on a re-run, changing nothing', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ ResourceArn: TG, Tags: OUR_TAGS }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [rule('42', 'pr-42.preview.example.com', RULE, TG)] });
    expect(await ensureRouting(elb, plan, names, log)).toEqual({
      targetGroupArn: TG,
      ruleArn: RULE,
      priority: '42',
    });
    expect(elbMock).not.toHaveReceivedCommand(CreateTargetGroupCommand);
    expect(elbMock).not.toHaveReceivedCommand(CreateRuleCommand);
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('points its own rule at the target group again when it forwards elsewhere', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: OUR_TAGS }] });
    elbMock
      .on(DescribeRulesCommand)
      .resolves({ Rules: [rule('42', 'pr-42.preview.example.com', RULE, BASE_TG)] });
    await ensureRouting(elb, plan, names, log);
    expect(elbMock).toHaveReceivedCommandWith(ModifyRuleCommand, {
      RuleArn: RULE,
      Actions: [{ Type: 'forward', TargetGroupArn: TG }],
    });
  });

  it('never takes over a target group of that name that is not the preview’s', async () => {
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: [] }] });
    await expect(ensureRouting(elb, plan, names, log)).rejects.toThrow(
      /target group named web-pr-42 exists and is not this preview's/,
    );
    expect(elbMock).not.toHaveReceivedCommand(CreateRuleCommand);
  });

  it('never takes over a rule for the host that is not the preview’s', async () => {
    noTargetGroup();
    elbMock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [rule('5', 'pr-42.preview.example.com')] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: [] }] });
    await expect(ensureRouting(elb, plan, names, log)).rejects.toThrow(
      /already has rule .* for host pr-42.preview.example.com, and it is not this preview's/,
    );
    expect(elbMock).not.toHaveReceivedCommand(ModifyRuleCommand);
  });

  it('follows DescribeRules pages', async () => {
    noTargetGroup();
    elbMock.on(CreateTargetGroupCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock
      .on(DescribeRulesCommand, { ListenerArn: LISTENER, Marker: undefined, PageSize: 400 })
      .resolves({ Rules: [rule('42', 'a.example.com')], NextMarker: 'm2' })
      .on(DescribeRulesCommand, { ListenerArn: LISTENER, Marker: 'm2', PageSize: 400 })
      .resolves({ Rules: [rule('1', 'b.example.com')] });
    elbMock.on(CreateRuleCommand).resolves({ Rules: [{ RuleArn: RULE }] });
    expect((await ensureRouting(elb, plan, names, log)).priority).toBe('2');
  });
});

describe('removeRouting', () => {
  it('deletes its own rule and target group', async () => {
    elbMock
      .on(DescribeRulesCommand)
      .resolves({ Rules: [defaultRule, rule('42', 'pr-42.preview.example.com', RULE, TG)] });
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: OUR_TAGS }] });
    expect(await removeRouting(elb, { listenerArn: LISTENER, names }, log)).toEqual({
      rule: RULE,
      targetGroup: TG,
    });
    expect(elbMock).toHaveReceivedCommandWith(DeleteRuleCommand, { RuleArn: RULE });
    expect(elbMock).toHaveReceivedCommandWith(DeleteTargetGroupCommand, { TargetGroupArn: TG });
    // The rule goes first: ELB refuses to delete a target group a rule still forwards to.
    const order = elbMock.calls().map((c) => c.args[0].constructor.name);
    expect(order.indexOf('DeleteRuleCommand')).toBeLessThan(order.indexOf('DeleteTargetGroupCommand'));
  });

  it('finds nothing to remove, and says so by returning nothing', async () => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [defaultRule] });
    elbMock
      .on(DescribeTargetGroupsCommand)
      .rejects(sdkError('TargetGroupNotFoundException', 'not found', 400));
    expect(await removeRouting(elb, { listenerArn: LISTENER, names }, log)).toEqual({});
    expect(elbMock).not.toHaveReceivedCommand(DeleteRuleCommand);
    expect(elbMock).not.toHaveReceivedCommand(DeleteTargetGroupCommand);
  });

  it('still removes the target group when the listener was deleted', async () => {
    elbMock
      .on(DescribeRulesCommand)
      .rejects(sdkError('ListenerNotFoundException', 'One or more listeners not found', 400));
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: OUR_TAGS }] });
    expect(await removeRouting(elb, { listenerArn: LISTENER, names }, log)).toEqual({ targetGroup: TG });
    expect(log.text()).toContain('does not exist (any more)');
  });

  it('leaves what is not the preview’s, with a warning', async () => {
    elbMock.on(DescribeRulesCommand).resolves({ Rules: [rule('42', 'pr-42.preview.example.com')] });
    elbMock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: TG }] });
    elbMock.on(DescribeTagsCommand).resolves({ TagDescriptions: [{ Tags: [{ Key: 'team', Value: 'x' }] }] });
    expect(await removeRouting(elb, { listenerArn: LISTENER, names }, log)).toEqual({});
    expect(elbMock).not.toHaveReceivedCommand(DeleteRuleCommand);
    expect(elbMock).not.toHaveReceivedCommand(DeleteTargetGroupCommand);
    expect(log.text()).toMatch(/warning: Listener rule .* is not this preview's/);
    expect(log.text()).toMatch(/warning: Target group web-pr-42 is not this preview's/);
  });
});
