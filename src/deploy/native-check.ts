/**
 * Before any change: is the service set up for an ECS-native blue/green, linear or canary
 * deployment? The load balancer's advancedConfiguration (alternate target group, production
 * and test listener rules, the ECS infrastructure role), both target groups attached to each
 * rule as AWS requires (else ECS rolls the deployment back), and every Lambda hook named.
 */
import type { LoadBalancer, Service } from '@aws-sdk/client-ecs';
import {
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type Rule,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Problem } from '../errors.js';
import { isAwsError } from './aws-errors.js';
import { isNativeStrategy } from './native.js';

const WHERE = 'deploy-mode';
const GUIDE =
  'See AWS\'s guide "Amazon ECS blue/green deployments" (resources), or the README\'s section ECS-native blue/green, linear and canary.';

/** What the service's own description lacks (pure): strategy, advancedConfiguration, hooks. */
export function serviceProblems(svc: Service): Problem[] {
  const name = `ECS service '${svc.serviceName ?? '?'}'`;
  const problems: Problem[] = [];
  const add = (what: string, fix: string) => problems.push({ where: WHERE, what: `${name} ${what}`, fix });
  if ((svc.deploymentController?.type ?? 'ECS') !== 'ECS') {
    add(
      `uses the ${svc.deploymentController?.type} deployment controller, not ECS.`,
      `Switch the service to the ECS deployment controller. ${GUIDE}`,
    );
  }
  const strategy = svc.deploymentConfiguration?.strategy;
  if (!isNativeStrategy(strategy)) {
    add(
      `has deploymentConfiguration.strategy ${strategy ?? 'ROLLING (the default)'}, not BLUE_GREEN, LINEAR or CANARY.`,
      'Set deploymentConfiguration.strategy (and bakeTimeInMinutes) on the service, or use deploy-mode: auto or rolling.',
    );
  }
  const lb = svc.loadBalancers?.[0];
  const adv = lb?.advancedConfiguration;
  const missing = [
    ...(lb?.targetGroupArn ? [] : ['loadBalancers[0].targetGroupArn']),
    ...(adv?.alternateTargetGroupArn ? [] : ['advancedConfiguration.alternateTargetGroupArn']),
    ...(adv?.productionListenerRule ? [] : ['advancedConfiguration.productionListenerRule']),
    ...(adv?.roleArn
      ? []
      : ['advancedConfiguration.roleArn (the ECS infrastructure role for load balancers)']),
  ];
  if (missing.length > 0) {
    add(
      `has no ${missing.join(', ')} on its load balancer.`,
      `Give the service's load balancer an advancedConfiguration. ${GUIDE}`,
    );
  }
  for (const [i, h] of (svc.deploymentConfiguration?.lifecycleHooks ?? []).entries()) {
    if ((h.targetType ?? 'AWS_LAMBDA') !== 'AWS_LAMBDA') continue;
    if (!h.hookTargetArn || !h.roleArn) {
      add(
        `has a Lambda lifecycle hook (lifecycleHooks[${i}]) without ${!h.hookTargetArn ? 'hookTargetArn' : 'roleArn'}.`,
        'Name the Lambda function and the role ECS invokes it with, or remove the hook.',
      );
    }
  }
  return problems;
}

/** The target groups a rule forwards to (weighted forward or the plain TargetGroupArn). */
export function forwardTargets(rule: Rule): string[] {
  return (rule.Actions ?? []).flatMap((a) =>
    a.Type !== 'forward'
      ? []
      : [
          ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn ?? ''),
          ...(a.TargetGroupArn ? [a.TargetGroupArn] : []),
        ],
  );
}

/** The service's two target groups: the one it names and advancedConfiguration's alternate. */
export function nativeTargetGroups(lb: LoadBalancer): string[] {
  return [lb.targetGroupArn, lb.advancedConfiguration?.alternateTargetGroupArn].filter(
    (g): g is string => !!g,
  );
}

/** The listener rules and target groups exist; both target groups are attached to each rule. */
export async function loadBalancerProblems(
  elb: ElasticLoadBalancingV2Client,
  lb: LoadBalancer,
): Promise<Problem[]> {
  const adv = lb.advancedConfiguration;
  const groups = nativeTargetGroups(lb);
  const problems: Problem[] = [];
  try {
    await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: groups }));
  } catch (err) {
    if (!isAwsError(err, 'TargetGroupNotFoundException')) throw err;
    problems.push({
      where: WHERE,
      what: `A target group of the service's load balancer does not exist (${groups.join(', ')}).`,
      fix: `Create the target group or correct loadBalancers / alternateTargetGroupArn. ${GUIDE}`,
    });
  }
  for (const [member, ruleArn] of [
    ['productionListenerRule', adv?.productionListenerRule],
    ['testListenerRule', adv?.testListenerRule],
  ] as const) {
    if (!ruleArn) continue;
    problems.push(...(await ruleProblems(elb, member, ruleArn, groups)));
  }
  return problems;
}

async function ruleProblems(
  elb: ElasticLoadBalancingV2Client,
  member: string,
  ruleArn: string,
  groups: string[],
): Promise<Problem[]> {
  let rule: Rule | undefined;
  try {
    rule = (await elb.send(new DescribeRulesCommand({ RuleArns: [ruleArn] }))).Rules?.[0];
  } catch (err) {
    if (!isAwsError(err, 'RuleNotFoundException', 'ListenerNotFoundException', 'ValidationError')) throw err;
  }
  if (!rule) {
    return [
      {
        where: WHERE,
        what: `advancedConfiguration.${member} ${ruleArn} does not exist.`,
        fix: `Create the listener rule, or correct ${member}. ${GUIDE}`,
      },
    ];
  }
  const attached = forwardTargets(rule);
  const absent = groups.filter((g) => !attached.includes(g));
  if (absent.length === 0) return [];
  return [
    {
      where: WHERE,
      what: `The ${member} ${ruleArn} does not forward to ${absent.join(' and ')}; ECS requires both target groups on it and would roll the deployment back ("Both targetGroup and alternateTargetGroup must be associated with the productionListenerRule or testListenerRule").`,
      fix: 'Make the rule a weighted forward to both target groups (the live one 100, the alternate 0).',
    },
  ];
}
