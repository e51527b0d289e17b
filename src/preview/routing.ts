/**
 * Routing a preview through the team's Application Load Balancer: a target group of its own
 * and a listener rule for host pr-<N>.<domain> that forwards to it. Everything is found
 * again by name and host, so a re-run or a synchronize reuses what is there, and a destroy
 * removes only what carries this preview's tags.
 */
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
  type CreateTargetGroupCommandInput,
  type Rule,
  type Tag,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { clientConfig } from '../client-config.js';
import { isAwsError } from '../deploy/aws-errors.js';
import { UserError } from '../errors.js';
import type { Log } from '../log.js';
import { isPreviewTagged, type PreviewNames } from './names.js';

/** With the settings of every other client; made only for runs that route previews. */
export function createElbClient(region: string, maxRetries: number): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientConfig(region, maxRetries));
}

/** Listener rule priorities run from 1 to 50000; lower ones are evaluated first. */
const MAX_PRIORITY = 50_000;
/** Attempts at creating the rule when other runs take the chosen priority first. */
const PRIORITY_ATTEMPTS = 5;

type HealthCheck = Pick<
  CreateTargetGroupCommandInput,
  | 'Protocol'
  | 'ProtocolVersion'
  | 'HealthCheckProtocol'
  | 'HealthCheckPath'
  | 'HealthCheckIntervalSeconds'
  | 'HealthCheckTimeoutSeconds'
  | 'HealthyThresholdCount'
  | 'UnhealthyThresholdCount'
  | 'Matcher'
>;

/** Everything routing needs, read before any change. */
export interface RoutingPlan {
  listenerArn: string;
  host: string;
  targetGroupName: string;
  vpcId: string;
  /** awsvpc tasks register by IP address, others by instance. */
  targetType: 'ip' | 'instance';
  containerName: string;
  containerPort: number;
  /** The base service's target group settings, so the preview is judged healthy the same way. */
  healthCheck: HealthCheck;
  tags: Tag[];
  preferredPriority: number;
}

export interface Routing {
  targetGroupArn: string;
  ruleArn: string;
  priority: string;
}

function elbTags(names: PreviewNames): Tag[] {
  return names.tags.map((t) => ({ Key: t.key, Value: t.value }));
}

/**
 * Read-only: the listener must exist on an Application Load Balancer (its VPC is the target
 * group's), and the base service's target group lends its health check settings.
 */
export async function planRouting(
  elb: ElasticLoadBalancingV2Client,
  opts: {
    listenerArn: string;
    names: PreviewNames;
    containerName: string;
    containerPort: number;
    awsvpc: boolean;
    baseTargetGroupArn?: string;
  },
): Promise<RoutingPlan> {
  const { names } = opts;
  if (names.host === undefined) throw new Error('planRouting needs the preview host (preview-domain).');
  let listener;
  try {
    listener = (await elb.send(new DescribeListenersCommand({ ListenerArns: [opts.listenerArn] })))
      .Listeners?.[0];
  } catch (err) {
    if (!isAwsError(err, 'ListenerNotFoundException')) throw err;
  }
  if (listener?.LoadBalancerArn === undefined) {
    throw new UserError({
      where: 'preview-listener-arn',
      what: `The listener ${opts.listenerArn} does not exist.`,
      fix: 'Give the ARN of the HTTPS listener previews are reached through (EC2 console, Load balancers, Listeners), in the region of this run.',
    });
  }
  const lb = (
    await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [listener.LoadBalancerArn] }))
  ).LoadBalancers?.[0];
  if (lb?.Type !== 'application' || lb.VpcId === undefined) {
    throw new UserError({
      where: 'preview-listener-arn',
      what: `The listener ${opts.listenerArn} belongs to a ${lb?.Type ?? 'missing'} load balancer; host-name rules need an Application Load Balancer.`,
      fix: 'Use a listener of an Application Load Balancer.',
    });
  }
  return {
    listenerArn: opts.listenerArn,
    host: names.host,
    targetGroupName: names.targetGroup,
    vpcId: lb.VpcId,
    targetType: opts.awsvpc ? 'ip' : 'instance',
    containerName: opts.containerName,
    containerPort: opts.containerPort,
    healthCheck: await baseHealthCheck(elb, opts.baseTargetGroupArn),
    tags: elbTags(names),
    preferredPriority: names.pullRequest,
  };
}

async function baseHealthCheck(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string | undefined,
): Promise<HealthCheck> {
  const defaults: HealthCheck = { Protocol: 'HTTP', HealthCheckPath: '/' };
  if (targetGroupArn === undefined) return defaults;
  let base: TargetGroup | undefined;
  try {
    base = (await elb.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [targetGroupArn] })))
      .TargetGroups?.[0];
  } catch (err) {
    if (!isAwsError(err, 'TargetGroupNotFoundException')) throw err;
  }
  if (base === undefined) return defaults;
  return {
    Protocol: base.Protocol ?? 'HTTP',
    ProtocolVersion: base.ProtocolVersion,
    HealthCheckProtocol: base.HealthCheckProtocol,
    HealthCheckPath: base.HealthCheckPath ?? '/',
    HealthCheckIntervalSeconds: base.HealthCheckIntervalSeconds,
    HealthCheckTimeoutSeconds: base.HealthCheckTimeoutSeconds,
    HealthyThresholdCount: base.HealthyThresholdCount,
    UnhealthyThresholdCount: base.UnhealthyThresholdCount,
    Matcher: base.Matcher,
  };
}

/** The host names a rule matches on (host-header conditions, old and new form). */
export function ruleHosts(rule: Rule): string[] {
  return (rule.Conditions ?? [])
    .filter((c) => c.Field === 'host-header')
    .flatMap((c) => c.HostHeaderConfig?.Values ?? c.Values ?? [])
    .map((h) => h.toLowerCase());
}

/**
 * The priority for a new rule: the pull request's number when it is free (numbers are
 * unique, so concurrent previews rarely meet), else the lowest free one.
 */
export function choosePriority(taken: ReadonlySet<number>, preferred: number): number {
  if (preferred >= 1 && preferred <= MAX_PRIORITY && !taken.has(preferred)) return preferred;
  for (let p = 1; p <= MAX_PRIORITY; p++) if (!taken.has(p)) return p;
  throw new UserError({
    where: 'preview-listener-arn',
    what: `Every rule priority of the listener (1 to ${MAX_PRIORITY}) is taken.`,
    fix: 'Remove unused rules from the listener, or route previews through another listener.',
  });
}

async function listRules(elb: ElasticLoadBalancingV2Client, listenerArn: string): Promise<Rule[]> {
  const rules: Rule[] = [];
  let marker: string | undefined;
  do {
    const out = await elb.send(
      new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker, PageSize: 400 }),
    );
    rules.push(...(out.Rules ?? []));
    marker = out.NextMarker;
  } while (marker !== undefined);
  return rules;
}

async function findRule(elb: ElasticLoadBalancingV2Client, listenerArn: string, host: string) {
  const rules = await listRules(elb, listenerArn);
  return { rules, rule: rules.find((r) => ruleHosts(r).includes(host.toLowerCase())) };
}

async function isOurs(
  elb: ElasticLoadBalancingV2Client,
  arn: string,
  names: Pick<PreviewNames, 'baseService' | 'pullRequest'>,
): Promise<boolean> {
  const out = await elb.send(new DescribeTagsCommand({ ResourceArns: [arn] }));
  return isPreviewTagged(out.TagDescriptions?.[0]?.Tags, names);
}

async function findTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  name: string,
): Promise<TargetGroup | undefined> {
  try {
    return (await elb.send(new DescribeTargetGroupsCommand({ Names: [name] }))).TargetGroups?.[0];
  } catch (err) {
    if (isAwsError(err, 'TargetGroupNotFoundException')) return undefined;
    throw err;
  }
}

/** Creates (or finds again) the preview's target group and its host rule. */
export async function ensureRouting(
  elb: ElasticLoadBalancingV2Client,
  plan: RoutingPlan,
  names: PreviewNames,
  log: Log,
): Promise<Routing> {
  const targetGroupArn = await ensureTargetGroup(elb, plan, names, log);
  const forward = [{ Type: 'forward' as const, TargetGroupArn: targetGroupArn }];
  const collided = new Set<number>();
  for (let attempt = 1; ; attempt++) {
    const { rules, rule } = await findRule(elb, plan.listenerArn, plan.host);
    if (rule?.RuleArn !== undefined) {
      const forwardsHere = rule.Actions?.some((a) => a.TargetGroupArn === targetGroupArn) ?? false;
      if (!forwardsHere) {
        if (!(await isOurs(elb, rule.RuleArn, names))) {
          throw new UserError({
            where: 'preview-domain',
            what: `The listener already has rule ${rule.RuleArn} (priority ${rule.Priority}) for host ${plan.host}, and it is not this preview's.`,
            fix: `Remove that rule, or use another preview-domain.`,
          });
        }
        await elb.send(new ModifyRuleCommand({ RuleArn: rule.RuleArn, Actions: forward }));
        log.info(`Listener rule for ${plan.host} now forwards to ${plan.targetGroupName}.`);
      }
      return { targetGroupArn, ruleArn: rule.RuleArn, priority: rule.Priority ?? '' };
    }
    const taken = new Set([
      ...collided,
      ...rules.map((r) => Number(r.Priority)).filter((p) => Number.isInteger(p)),
    ]);
    const priority = choosePriority(taken, plan.preferredPriority);
    try {
      const out = await elb.send(
        new CreateRuleCommand({
          ListenerArn: plan.listenerArn,
          Priority: priority,
          Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [plan.host] } }],
          Actions: forward,
          Tags: plan.tags,
        }),
      );
      const created = out.Rules?.[0];
      if (created?.RuleArn === undefined) throw new Error('CreateRule returned no rule.');
      log.info(
        `Created listener rule ${created.RuleArn}: host ${plan.host} → ${plan.targetGroupName} (priority ${priority}).`,
      );
      return { targetGroupArn, ruleArn: created.RuleArn, priority: String(priority) };
    } catch (err) {
      // Another run took the priority between our read and our write: read again, pick again.
      if (!isAwsError(err, 'PriorityInUseException') || attempt >= PRIORITY_ATTEMPTS) throw err;
      collided.add(priority);
      log.info(`Listener rule priority ${priority} was taken meanwhile; choosing another.`);
    }
  }
}

async function ensureTargetGroup(
  elb: ElasticLoadBalancingV2Client,
  plan: RoutingPlan,
  names: PreviewNames,
  log: Log,
): Promise<string> {
  const existing = await findTargetGroup(elb, plan.targetGroupName);
  if (existing?.TargetGroupArn !== undefined) {
    if (!(await isOurs(elb, existing.TargetGroupArn, names))) {
      throw new UserError({
        where: 'service',
        what: `A target group named ${plan.targetGroupName} exists and is not this preview's (it lacks the tags preview-of=${names.baseService}, pull-request=${names.pullRequest}).`,
        fix: 'Rename or delete that target group; preview target groups are named <service>-pr-<number>.',
      });
    }
    return existing.TargetGroupArn;
  }
  try {
    const out = await elb.send(
      new CreateTargetGroupCommand({
        Name: plan.targetGroupName,
        Port: plan.containerPort,
        VpcId: plan.vpcId,
        TargetType: plan.targetType,
        ...plan.healthCheck,
        Tags: plan.tags,
      }),
    );
    const arn = out.TargetGroups?.[0]?.TargetGroupArn;
    if (arn === undefined) throw new Error('CreateTargetGroup returned no target group.');
    log.info(
      `Created target group ${plan.targetGroupName} (${plan.targetType}, port ${plan.containerPort}).`,
    );
    return arn;
  } catch (err) {
    if (!isAwsError(err, 'DuplicateTargetGroupNameException')) throw err;
    const found = await findTargetGroup(elb, plan.targetGroupName);
    if (found?.TargetGroupArn === undefined) throw err;
    return found.TargetGroupArn;
  }
}

/** Removes the preview's host rule and target group, when they are this preview's. */
export async function removeRouting(
  elb: ElasticLoadBalancingV2Client,
  opts: { listenerArn: string; names: PreviewNames },
  log: Log,
): Promise<{ rule?: string; targetGroup?: string }> {
  const { names } = opts;
  const removed: { rule?: string; targetGroup?: string } = {};
  if (names.host !== undefined) {
    let rule: Rule | undefined;
    try {
      ({ rule } = await findRule(elb, opts.listenerArn, names.host));
    } catch (err) {
      // A deleted listener took its rules with it; the target group may still be there.
      if (!isAwsError(err, 'ListenerNotFoundException')) throw err;
      log.warning(`Listener ${opts.listenerArn} does not exist (any more), so it has no rule to remove.`);
    }
    if (rule?.RuleArn !== undefined) {
      if (await isOurs(elb, rule.RuleArn, names)) {
        await elb.send(new DeleteRuleCommand({ RuleArn: rule.RuleArn }));
        removed.rule = rule.RuleArn;
      } else {
        log.warning(
          `Listener rule ${rule.RuleArn} for ${names.host} is not this preview's (no preview tags); left alone.`,
        );
      }
    }
  }
  const group = await findTargetGroup(elb, names.targetGroup);
  if (group?.TargetGroupArn !== undefined) {
    if (await isOurs(elb, group.TargetGroupArn, names)) {
      await elb.send(new DeleteTargetGroupCommand({ TargetGroupArn: group.TargetGroupArn }));
      removed.targetGroup = group.TargetGroupArn;
    } else {
      log.warning(`Target group ${names.targetGroup} is not this preview's (no preview tags); left alone.`);
    }
  }
  return removed;
}
