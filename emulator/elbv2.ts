/**
 * Elastic Load Balancing v2 (Application Load Balancers), as far as pull-request preview
 * environments use it: seeded load balancers and listeners; target groups; listener rules
 * routing a host name to a target group; tags; targets and their health on the emulated clock.
 */
import type {
  Action,
  Listener,
  LoadBalancer,
  Rule,
  RuleCondition,
  Tag,
  TargetGroup,
  TargetHealth,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { EmulatorContext } from './context.js';
import { AwsError } from './errors.js';
import {
  optionalQueryBoolean,
  optionalQueryInteger,
  optionalQueryString,
  optionalQueryStringList,
  optionalQueryStruct,
  optionalQueryStructList,
  page,
  requiredQueryString,
  VALIDATION_ERROR,
  type QueryInput,
  type QueryService,
} from './query.js';
import type { ElbTargetRecord, Elbv2State, TargetGroupRecord } from './state.js';

export interface SeedElbv2 {
  /** Created first, so that listeners can forward to them by name. */
  targetGroups?: SeedTargetGroup[];
  loadBalancers?: SeedLoadBalancer[];
}

export interface SeedTargetGroup {
  name: string;
  /** Default 80. */
  port?: number;
  /** Default HTTP. */
  protocol?: string;
  /** Default ip (what awsvpc tasks register as). */
  targetType?: 'ip' | 'instance';
  healthCheckPath?: string;
}

export interface SeedLoadBalancer {
  name: string;
  listeners?: {
    port: number;
    /** Default HTTP. */
    protocol?: 'HTTP' | 'HTTPS';
    /** A seeded target group's name; without one the default action answers a fixed 404. */
    defaultTargetGroup?: string;
  }[];
}

/** The one VPC the emulated account has, with a subnet in each of two zones. */
export const EMULATED_VPC = 'vpc-0e0000000000000a1';
const SUBNETS = ['subnet-0e0000000000000a1', 'subnet-0e0000000000000b2'];
const SECURITY_GROUP = 'sg-0e0000000000000a1';

export const MAX_RULES_PER_LISTENER = 100;
const MAX_TAGS = 50;
/** deregistration_delay.timeout_seconds, ELB's default (a target group here starts with `defaultDeregistrationDelay`). */
export const DEREGISTRATION_DELAY_SECONDS = 300;
export const DEREGISTRATION_DELAY = 'deregistration_delay.timeout_seconds';
/**
 * The attributes an Application Load Balancer's target group has (instance or ip targets), with
 * ELB's defaults; ModifyTargetGroupAttributes checks a new value with its rule.
 */
const TARGET_GROUP_ATTRIBUTES: Record<
  string,
  { value: string; valid: (v: string) => boolean; rule: string }
> = {
  [DEREGISTRATION_DELAY]: {
    value: String(DEREGISTRATION_DELAY_SECONDS),
    valid: (v) => intIn(v, 0, 3600),
    rule: 'an integer from 0 to 3600',
  },
  'stickiness.enabled': {
    value: 'false',
    valid: (v) => v === 'true' || v === 'false',
    rule: 'true or false',
  },
  'stickiness.type': {
    value: 'lb_cookie',
    valid: (v) => v === 'lb_cookie' || v === 'app_cookie',
    rule: 'lb_cookie or app_cookie',
  },
  'stickiness.lb_cookie.duration_seconds': {
    value: '86400',
    valid: (v) => intIn(v, 1, 604800),
    rule: 'an integer from 1 to 604800',
  },
  'slow_start.duration_seconds': {
    value: '0',
    valid: (v) => v === '0' || intIn(v, 30, 900),
    rule: '0 or an integer from 30 to 900',
  },
  'load_balancing.algorithm.type': {
    value: 'round_robin',
    valid: (v) => ['round_robin', 'least_outstanding_requests', 'weighted_random'].includes(v),
    rule: 'round_robin, least_outstanding_requests or weighted_random',
  },
};

function intIn(value: string, min: number, max: number): boolean {
  return /^\d+$/.test(value) && Number(value) >= min && Number(value) <= max;
}

/**
 * A new target group's deregistration delay here: the emulator's compressed `timings.taskStop`
 * (whole seconds), so a task behind a load balancer stops as fast as one that is not, and
 * ECS's stop of a service task follows its group's delay (ModifyTargetGroupAttributes changes it).
 */
export function defaultDeregistrationDelay(taskStopMs: number): number {
  return Math.max(0, Math.round(taskStopMs / 1000));
}
const TARGET_TYPES = ['instance', 'ip'];
const PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'];

function notFound(code: string, what: string): AwsError {
  return new AwsError(code, `One or more ${what} not found`);
}

function validation(message: string): AwsError {
  return new AwsError(VALIDATION_ERROR, message);
}

/** ELB names: at most 32 alphanumerics and hyphens, no hyphen at either end. */
function checkName(kind: 'Target group' | 'Load balancer', name: string): void {
  if (name.length > 32) throw validation(`${kind} name '${name}' cannot be longer than '32' characters`);
  if (!/^[A-Za-z0-9-]+$/.test(name)) {
    throw validation(
      `${kind} name '${name}' can only contain characters that are alphanumeric characters or hyphens(-)`,
    );
  }
  if (name.startsWith('-') || name.endsWith('-'))
    throw validation(`${kind} name '${name}' cannot begin or end with '-'`);
  if (kind === 'Load balancer' && name.startsWith('internal-')) {
    throw validation(`Load balancer name '${name}' cannot begin with 'internal-'`);
  }
}

function forwardTo(targetGroupArn: string): Action {
  return {
    Type: 'forward',
    TargetGroupArn: targetGroupArn,
    Order: 1,
    ForwardConfig: {
      TargetGroups: [{ TargetGroupArn: targetGroupArn, Weight: 1 }],
      TargetGroupStickinessConfig: { Enabled: false },
    },
  };
}

/** The target groups an action sends traffic to. */
function targetGroupsOf(action: Action): string[] {
  const arns = action.ForwardConfig?.TargetGroups?.map((t) => t.TargetGroupArn ?? '') ?? [];
  return [...new Set([...(action.TargetGroupArn ? [action.TargetGroupArn] : []), ...arns])].filter(Boolean);
}

export class Elbv2Emulator implements QueryService {
  readonly service = 'elbv2';
  readonly signingName = 'elasticloadbalancing';
  readonly version = '2015-12-01';
  readonly xmlns = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
  readonly operations = {
    DescribeLoadBalancers: (input: QueryInput) => this.describeLoadBalancers(input),
    DescribeListeners: (input: QueryInput) => this.describeListeners(input),
    CreateTargetGroup: (input: QueryInput) => this.createTargetGroup(input),
    DescribeTargetGroups: (input: QueryInput) => this.describeTargetGroups(input),
    DeleteTargetGroup: (input: QueryInput) => this.deleteTargetGroup(input),
    CreateRule: (input: QueryInput) => this.createRule(input),
    DescribeRules: (input: QueryInput) => this.describeRules(input),
    ModifyRule: (input: QueryInput) => this.modifyRule(input),
    DeleteRule: (input: QueryInput) => this.deleteRule(input),
    SetRulePriorities: (input: QueryInput) => this.setRulePriorities(input),
    AddTags: (input: QueryInput) => this.addTags(input),
    RemoveTags: (input: QueryInput) => this.removeTags(input),
    DescribeTags: (input: QueryInput) => this.describeTags(input),
    RegisterTargets: (input: QueryInput) => this.registerTargets(input),
    DeregisterTargets: (input: QueryInput) => this.deregisterTargets(input),
    DescribeTargetHealth: (input: QueryInput) => this.describeTargetHealth(input),
    DescribeTargetGroupAttributes: (input: QueryInput) => this.describeTargetGroupAttributes(input),
    ModifyTargetGroupAttributes: (input: QueryInput) => this.modifyTargetGroupAttributes(input),
  };

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly state: Elbv2State,
  ) {}

  private arn(resource: string): string {
    return `arn:aws:elasticloadbalancing:${this.ctx.region}:${this.ctx.accountId}:${resource}`;
  }

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  // ------------------------------------------------------------ seeding

  seed(seed: SeedElbv2, where: (what: string, step: () => void) => void): void {
    for (const tg of seed.targetGroups ?? []) {
      where(`elbv2.targetGroups '${tg.name}'`, () => {
        const protocol = tg.protocol ?? 'HTTP';
        this.createTargetGroup({
          Name: tg.name,
          Protocol: protocol,
          Port: String(tg.port ?? 80),
          VpcId: EMULATED_VPC,
          TargetType: tg.targetType ?? 'ip',
          ...(tg.healthCheckPath !== undefined && { HealthCheckPath: tg.healthCheckPath }),
        });
      });
    }
    for (const lb of seed.loadBalancers ?? []) {
      where(`elbv2.loadBalancers '${lb.name}'`, () => this.seedLoadBalancer(lb));
    }
  }

  private seedLoadBalancer(seed: SeedLoadBalancer): void {
    checkName('Load balancer', seed.name);
    if ([...this.state.loadBalancers.values()].some((l) => l.loadBalancer.LoadBalancerName === seed.name)) {
      throw new AwsError(
        'DuplicateLoadBalancerName',
        `A load balancer with the name '${seed.name}' already exists`,
      );
    }
    const id = this.ctx.ids.hex(16);
    const loadBalancerArn = this.arn(`loadbalancer/app/${seed.name}/${id}`);
    const loadBalancer: LoadBalancer = {
      LoadBalancerArn: loadBalancerArn,
      DNSName: `${seed.name}-${parseInt(id.slice(0, 8), 16)}.${this.ctx.region}.elb.amazonaws.com`,
      CreatedTime: this.now(),
      LoadBalancerName: seed.name,
      Scheme: 'internet-facing',
      VpcId: EMULATED_VPC,
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: SUBNETS.map((subnet, i) => ({
        ZoneName: `${this.ctx.region}${'ab'[i]}`,
        SubnetId: subnet,
        LoadBalancerAddresses: [],
      })),
      SecurityGroups: [SECURITY_GROUP],
      IpAddressType: 'ipv4',
    };
    this.state.loadBalancers.set(loadBalancerArn, { loadBalancer, tags: [] });
    const ports = new Set<number>();
    for (const l of seed.listeners ?? []) {
      if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535) {
        throw validation(`Listener port ${l.port} must be between 1 and 65535`);
      }
      if (ports.has(l.port))
        throw new AwsError(
          'DuplicateListener',
          'A listener already exists on this port for this load balancer',
        );
      ports.add(l.port);
      const protocol = l.protocol ?? 'HTTP';
      if (protocol !== 'HTTP' && protocol !== 'HTTPS') {
        throw new AwsError(
          'UnsupportedProtocol',
          `Protocol '${String(protocol)}' is not supported: an Application Load Balancer listens on HTTP or HTTPS`,
        );
      }
      const defaultAction: Action =
        l.defaultTargetGroup === undefined
          ? {
              Type: 'fixed-response',
              Order: 1,
              FixedResponseConfig: { StatusCode: '404', ContentType: 'text/plain', MessageBody: 'Not Found' },
            }
          : forwardTo(this.seededTargetGroupArn(l.defaultTargetGroup));
      for (const tg of targetGroupsOf(defaultAction)) this.checkAssociation(tg, loadBalancerArn);
      const listenerArn = this.arn(`listener/app/${seed.name}/${id}/${this.ctx.ids.hex(16)}`);
      const listener: Listener = {
        ListenerArn: listenerArn,
        LoadBalancerArn: loadBalancerArn,
        Port: l.port,
        Protocol: protocol,
        DefaultActions: [defaultAction],
        ...(protocol === 'HTTPS' && {
          Certificates: [
            {
              CertificateArn: `arn:aws:acm:${this.ctx.region}:${this.ctx.accountId}:certificate/${this.ctx.ids.uuid()}`,
            },
          ],
          SslPolicy: 'ELBSecurityPolicy-2016-08',
        }),
      };
      this.state.listeners.set(listenerArn, { listener, tags: [] });
      const ruleArn = `${listenerArn.replace(':listener/', ':listener-rule/')}/${this.ctx.ids.hex(16)}`;
      this.state.rules.set(ruleArn, {
        rule: {
          RuleArn: ruleArn,
          Priority: 'default',
          Conditions: [],
          Actions: [defaultAction],
          IsDefault: true,
        },
        listenerArn,
        tags: [],
      });
    }
  }

  private seededTargetGroupArn(name: string): string {
    const record = this.findTargetGroupNamed(name);
    if (!record) {
      throw new AwsError(
        'TargetGroupNotFound',
        `listener defaultTargetGroup '${name}' is not a target group: add it to elbv2.targetGroups first`,
      );
    }
    return record.targetGroup.TargetGroupArn as string;
  }

  // ------------------------------------------------------------ lookups

  private findTargetGroupNamed(name: string): TargetGroupRecord | undefined {
    return [...this.state.targetGroups.values()].find((t) => t.targetGroup.TargetGroupName === name);
  }

  private targetGroupNamed(name: string): TargetGroupRecord {
    const record = this.findTargetGroupNamed(name);
    if (!record) throw notFound('TargetGroupNotFound', 'target groups');
    return record;
  }

  private targetGroup(arn: string): TargetGroupRecord {
    const record = this.state.targetGroups.get(arn);
    if (!record) throw notFound('TargetGroupNotFound', 'target groups');
    return record;
  }

  private listener(arn: string) {
    const record = this.state.listeners.get(arn);
    if (!record) throw notFound('ListenerNotFound', 'listeners');
    return record;
  }

  private rule(arn: string) {
    const record = this.state.rules.get(arn);
    if (!record) throw notFound('RuleNotFound', 'rules');
    return record;
  }

  /** Every action of every listener (default actions) and rule, with the load balancer it belongs to. */
  private actions(): { action: Action; loadBalancerArn: string }[] {
    return [...this.state.rules.values()].flatMap((r) => {
      const loadBalancerArn = this.state.listeners.get(r.listenerArn)?.listener.LoadBalancerArn as string;
      return (r.rule.Actions ?? []).map((action) => ({ action, loadBalancerArn }));
    });
  }

  private loadBalancersOf(targetGroupArn: string): string[] {
    return [
      ...new Set(
        this.actions()
          .filter((a) => targetGroupsOf(a.action).includes(targetGroupArn))
          .map((a) => a.loadBalancerArn),
      ),
    ];
  }

  /** A target group serves one load balancer. */
  private checkAssociation(targetGroupArn: string, loadBalancerArn: string): void {
    this.targetGroup(targetGroupArn);
    if (this.loadBalancersOf(targetGroupArn).some((lb) => lb !== loadBalancerArn)) {
      throw new AwsError(
        'TargetGroupAssociationLimit',
        `The following target groups cannot be associated with more than one load balancer: ${targetGroupArn}`,
      );
    }
  }

  private describeTargetGroup(record: TargetGroupRecord): TargetGroup {
    return {
      ...record.targetGroup,
      LoadBalancerArns: this.loadBalancersOf(record.targetGroup.TargetGroupArn as string),
    };
  }

  private pageSize(input: QueryInput): number {
    return optionalQueryInteger(input, 'PageSize', { min: 1, max: 400 }) ?? 400;
  }

  // ------------------------------------------------------------ load balancers and listeners

  private describeLoadBalancers(input: QueryInput) {
    const names = optionalQueryStringList(input, 'Names') ?? [];
    const arns = optionalQueryStringList(input, 'LoadBalancerArns') ?? [];
    if (names.length > 0 && arns.length > 0) {
      throw validation('Load balancer names and load balancer ARNs cannot be specified at the same time');
    }
    const all = [...this.state.loadBalancers.values()].map((l) => l.loadBalancer);
    let found = all;
    if (names.length > 0) {
      const missing = names.filter((n) => !all.some((l) => l.LoadBalancerName === n));
      if (missing.length > 0)
        throw new AwsError('LoadBalancerNotFound', `Load balancers '[${missing.join(', ')}]' not found`);
      found = all.filter((l) => names.includes(l.LoadBalancerName as string));
    } else if (arns.length > 0) {
      if (arns.some((a) => !this.state.loadBalancers.has(a)))
        throw notFound('LoadBalancerNotFound', 'load balancers');
      found = all.filter((l) => arns.includes(l.LoadBalancerArn as string));
    }
    const { items, nextMarker } = page(found, optionalQueryString(input, 'Marker'), this.pageSize(input));
    return { LoadBalancers: items, NextMarker: nextMarker };
  }

  private describeListeners(input: QueryInput) {
    const loadBalancerArn = optionalQueryString(input, 'LoadBalancerArn');
    const arns = optionalQueryStringList(input, 'ListenerArns') ?? [];
    if ((loadBalancerArn === undefined) === (arns.length === 0)) {
      throw validation('You must specify either listener ARNs or a load balancer ARN');
    }
    let found: Listener[];
    if (loadBalancerArn !== undefined) {
      if (!this.state.loadBalancers.has(loadBalancerArn))
        throw notFound('LoadBalancerNotFound', 'load balancers');
      found = [...this.state.listeners.values()]
        .map((l) => l.listener)
        .filter((l) => l.LoadBalancerArn === loadBalancerArn);
    } else {
      found = arns.map((a) => this.listener(a).listener);
    }
    const { items, nextMarker } = page(found, optionalQueryString(input, 'Marker'), this.pageSize(input));
    return { Listeners: items, NextMarker: nextMarker };
  }

  // ------------------------------------------------------------ target groups

  private createTargetGroup(input: QueryInput) {
    const name = requiredQueryString(input, 'Name');
    checkName('Target group', name);
    const targetType = optionalQueryString(input, 'TargetType') ?? 'instance';
    if (!TARGET_TYPES.includes(targetType)) {
      throw validation(`Target type '${targetType}' is not supported here: use ${TARGET_TYPES.join(' or ')}`);
    }
    const protocol = optionalQueryString(input, 'Protocol');
    if (protocol === undefined) throw validation('A protocol must be specified');
    if (!PROTOCOLS.includes(protocol))
      throw validation(`Protocol '${protocol}' must be one of ${PROTOCOLS.join(', ')}`);
    const port = optionalQueryInteger(input, 'Port', { min: 1, max: 65535 });
    if (port === undefined) throw validation('A port must be specified');
    const vpcId = optionalQueryString(input, 'VpcId');
    if (vpcId === undefined) throw validation('A VPC ID must be specified');
    if (vpcId !== EMULATED_VPC) throw validation(`The VPC ID '${vpcId}' is not found`);
    const http = protocol === 'HTTP' || protocol === 'HTTPS';
    const healthCheckProtocol =
      optionalQueryString(input, 'HealthCheckProtocol') ?? (http ? protocol : 'TCP');
    const healthCheckHttp = healthCheckProtocol === 'HTTP' || healthCheckProtocol === 'HTTPS';
    const matcher = optionalQueryStruct(input, 'Matcher');
    const targetGroup: TargetGroup = {
      TargetGroupArn: '',
      TargetGroupName: name,
      Protocol: protocol as TargetGroup['Protocol'],
      Port: port,
      VpcId: vpcId,
      HealthCheckProtocol: healthCheckProtocol as TargetGroup['HealthCheckProtocol'],
      HealthCheckPort: optionalQueryString(input, 'HealthCheckPort') ?? 'traffic-port',
      HealthCheckEnabled: optionalQueryBoolean(input, 'HealthCheckEnabled') ?? true,
      HealthCheckIntervalSeconds:
        optionalQueryInteger(input, 'HealthCheckIntervalSeconds', { min: 5, max: 300 }) ?? 30,
      HealthCheckTimeoutSeconds:
        optionalQueryInteger(input, 'HealthCheckTimeoutSeconds', { min: 2, max: 120 }) ?? (http ? 5 : 10),
      HealthyThresholdCount: optionalQueryInteger(input, 'HealthyThresholdCount', { min: 2, max: 10 }) ?? 5,
      UnhealthyThresholdCount:
        optionalQueryInteger(input, 'UnhealthyThresholdCount', { min: 2, max: 10 }) ?? 2,
      ...(healthCheckHttp && {
        HealthCheckPath: optionalQueryString(input, 'HealthCheckPath') ?? '/',
        Matcher: { HttpCode: (matcher && optionalQueryString(matcher, 'HttpCode')) ?? '200' },
      }),
      TargetType: targetType as TargetGroup['TargetType'],
      ...(http && { ProtocolVersion: optionalQueryString(input, 'ProtocolVersion') ?? 'HTTP1' }),
      IpAddressType: 'ipv4',
    };
    const existing = this.findTargetGroupNamed(name);
    if (existing) {
      // Creating a target group again with the same settings answers the existing one.
      const same =
        JSON.stringify({ ...existing.targetGroup, TargetGroupArn: '' }) === JSON.stringify(targetGroup);
      if (!same) {
        throw new AwsError(
          'DuplicateTargetGroupName',
          `A target group with the same name '${name}' exists, but with different settings`,
        );
      }
      return { TargetGroups: [this.describeTargetGroup(existing)] };
    }
    const tags = this.tagsFrom(input, 'Tags');
    targetGroup.TargetGroupArn = this.arn(`targetgroup/${name}/${this.ctx.ids.hex(16)}`);
    const attributes = Object.fromEntries(
      Object.entries(TARGET_GROUP_ATTRIBUTES).map(([key, a]) => [key, a.value]),
    );
    attributes[DEREGISTRATION_DELAY] = String(defaultDeregistrationDelay(this.ctx.timings.taskStop));
    const record: TargetGroupRecord = { targetGroup, tags, targets: [], attributes };
    this.state.targetGroups.set(targetGroup.TargetGroupArn, record);
    return { TargetGroups: [this.describeTargetGroup(record)] };
  }

  private describeTargetGroups(input: QueryInput) {
    const names = optionalQueryStringList(input, 'Names') ?? [];
    const arns = optionalQueryStringList(input, 'TargetGroupArns') ?? [];
    const loadBalancerArn = optionalQueryString(input, 'LoadBalancerArn');
    if ([names.length > 0, arns.length > 0, loadBalancerArn !== undefined].filter(Boolean).length > 1) {
      throw validation('Specify only one of target group names, target group ARNs and a load balancer ARN');
    }
    let found: TargetGroupRecord[];
    if (names.length > 0) found = names.map((n) => this.targetGroupNamed(n));
    else if (arns.length > 0) found = arns.map((a) => this.targetGroup(a));
    else if (loadBalancerArn !== undefined) {
      if (!this.state.loadBalancers.has(loadBalancerArn))
        throw notFound('LoadBalancerNotFound', 'load balancers');
      found = [...this.state.targetGroups.values()].filter((t) =>
        this.loadBalancersOf(t.targetGroup.TargetGroupArn as string).includes(loadBalancerArn),
      );
    } else found = [...this.state.targetGroups.values()];
    const { items, nextMarker } = page(found, optionalQueryString(input, 'Marker'), this.pageSize(input));
    return { TargetGroups: items.map((t) => this.describeTargetGroup(t)), NextMarker: nextMarker };
  }

  private deleteTargetGroup(input: QueryInput) {
    const arn = requiredQueryString(input, 'TargetGroupArn');
    // The model lists no not-found error for DeleteTargetGroup: deleting one that is gone succeeds.
    if (!this.state.targetGroups.has(arn)) return undefined;
    if (this.actions().some((a) => targetGroupsOf(a.action).includes(arn))) {
      throw new AwsError(
        'ResourceInUse',
        `Target group '${arn}' is currently in use by a listener or a rule`,
      );
    }
    this.state.targetGroups.delete(arn);
    return undefined;
  }

  /** A target group's deregistration delay in ms, or undefined when there is no such group. */
  deregistrationDelayMs(targetGroupArn: string): number | undefined {
    const record = this.state.targetGroups.get(targetGroupArn);
    return record && Number(record.attributes[DEREGISTRATION_DELAY]) * 1000;
  }

  private attributeList(record: TargetGroupRecord) {
    return { Attributes: Object.entries(record.attributes).map(([Key, Value]) => ({ Key, Value })) };
  }

  private describeTargetGroupAttributes(input: QueryInput) {
    return this.attributeList(this.targetGroup(requiredQueryString(input, 'TargetGroupArn')));
  }

  /** All or nothing: every attribute is checked before any changes. */
  private modifyTargetGroupAttributes(input: QueryInput) {
    const record = this.targetGroup(requiredQueryString(input, 'TargetGroupArn'));
    const changes = (optionalQueryStructList(input, 'Attributes') ?? []).map((a) => ({
      key: optionalQueryString(a, 'Key') ?? '',
      value: optionalQueryString(a, 'Value') ?? '',
    }));
    if (changes.length === 0) throw validation('At least one attribute must be specified');
    for (const { key, value } of changes) {
      const attribute = TARGET_GROUP_ATTRIBUTES[key];
      if (attribute === undefined) {
        throw new AwsError(
          'InvalidConfigurationRequest',
          `Target group attribute key '${key}' is not recognized`,
        );
      }
      if (!attribute.valid(value)) {
        throw new AwsError(
          'InvalidConfigurationRequest',
          `Target group attribute '${key}' value '${value}' is not valid: it must be ${attribute.rule}`,
        );
      }
    }
    for (const { key, value } of changes) record.attributes[key] = value;
    return this.attributeList(record);
  }

  // ------------------------------------------------------------ rules

  private conditions(input: QueryInput): RuleCondition[] {
    const conditions = optionalQueryStructList(input, 'Conditions') ?? [];
    if (conditions.length === 0) throw validation('A rule must have at least one condition');
    return conditions.map((c, i) => {
      const field = optionalQueryString(c, 'Field');
      const config =
        field === 'host-header'
          ? 'HostHeaderConfig'
          : field === 'path-pattern'
            ? 'PathPatternConfig'
            : undefined;
      if (config === undefined) {
        throw validation(
          `Conditions.member.${i + 1}.Field '${field ?? ''}' is not supported here: use host-header or path-pattern`,
        );
      }
      const nested = optionalQueryStruct(c, config);
      const values = [
        ...(optionalQueryStringList(c, 'Values') ?? []),
        ...((nested && optionalQueryStringList(nested, 'Values')) ?? []),
      ];
      if (values.length === 0) throw validation(`Conditions.member.${i + 1} must have at least one value`);
      const pattern =
        field === 'host-header' ? /^[A-Za-z0-9.*?-]{1,128}$/ : /^[A-Za-z0-9_\-.$/~"'@:+&()!,;=*?]{1,128}$/;
      const bad = values.find((v) => !pattern.test(v));
      if (bad !== undefined) throw validation(`Condition value '${bad}' is not a valid ${field} value`);
      return { Field: field, Values: values, [config]: { Values: values } } as RuleCondition;
    });
  }

  private ruleActions(input: QueryInput, loadBalancerArn: string): Action[] {
    const actions = optionalQueryStructList(input, 'Actions') ?? [];
    if (actions.length !== 1)
      throw validation('A rule must have exactly one action: forward or fixed-response');
    const a = actions[0] as QueryInput;
    const type = optionalQueryString(a, 'Type');
    let action: Action;
    if (type === 'forward') {
      const forward = optionalQueryStruct(a, 'ForwardConfig');
      const weighted = ((forward && optionalQueryStructList(forward, 'TargetGroups')) ?? []).map((t) => ({
        TargetGroupArn: requiredQueryString(t, 'TargetGroupArn'),
        Weight: optionalQueryInteger(t, 'Weight', { min: 0, max: 999 }) ?? 1,
      }));
      const single = optionalQueryString(a, 'TargetGroupArn');
      if (single === undefined && weighted.length === 0)
        throw validation('A forward action needs a TargetGroupArn or a ForwardConfig');
      action =
        single !== undefined && weighted.length === 0
          ? forwardTo(single)
          : {
              Type: 'forward',
              ...(single !== undefined && { TargetGroupArn: single }),
              Order: 1,
              ForwardConfig: { TargetGroups: weighted, TargetGroupStickinessConfig: { Enabled: false } },
            };
    } else if (type === 'fixed-response') {
      const config = optionalQueryStruct(a, 'FixedResponseConfig');
      const statusCode = config && optionalQueryString(config, 'StatusCode');
      if (!statusCode || !/^[2-5]\d\d$/.test(statusCode))
        throw validation('FixedResponseConfig.StatusCode must be a 2XX, 4XX or 5XX code');
      action = {
        Type: 'fixed-response',
        Order: 1,
        FixedResponseConfig: {
          StatusCode: statusCode,
          ContentType: optionalQueryString(config as QueryInput, 'ContentType') ?? 'text/plain',
          MessageBody: optionalQueryString(config as QueryInput, 'MessageBody'),
        },
      };
    } else {
      throw validation(`Action type '${type ?? ''}' is not supported here: use forward or fixed-response`);
    }
    action.Order = optionalQueryInteger(a, 'Order', { min: 1, max: 50000 }) ?? 1;
    for (const tg of targetGroupsOf(action)) this.checkAssociation(tg, loadBalancerArn);
    return [action];
  }

  private rulesOf(listenerArn: string): Rule[] {
    const priority = (r: Rule) => (r.IsDefault ? Infinity : Number(r.Priority));
    return [...this.state.rules.values()]
      .filter((r) => r.listenerArn === listenerArn)
      .map((r) => r.rule)
      .sort((a, b) => priority(a) - priority(b));
  }

  private createRule(input: QueryInput) {
    const listenerArn = requiredQueryString(input, 'ListenerArn');
    const { listener } = this.listener(listenerArn);
    const priority = optionalQueryInteger(input, 'Priority', { min: 1, max: 50000 });
    if (priority === undefined)
      throw validation(
        "1 validation error detected: Value null at 'priority' failed to satisfy constraint: Member must not be null",
      );
    const conditions = this.conditions(input);
    const actions = this.ruleActions(input, listener.LoadBalancerArn as string);
    const rules = this.rulesOf(listenerArn);
    if (rules.some((r) => r.Priority === String(priority))) {
      throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
    }
    if (rules.filter((r) => !r.IsDefault).length >= MAX_RULES_PER_LISTENER) {
      throw new AwsError(
        'TooManyRules',
        `The listener '${listenerArn}' already has the maximum of ${MAX_RULES_PER_LISTENER} rules`,
      );
    }
    const tags = this.tagsFrom(input, 'Tags');
    const ruleArn = `${listenerArn.replace(':listener/', ':listener-rule/')}/${this.ctx.ids.hex(16)}`;
    const rule: Rule = {
      RuleArn: ruleArn,
      Priority: String(priority),
      Conditions: conditions,
      Actions: actions,
      IsDefault: false,
    };
    this.state.rules.set(ruleArn, { rule, listenerArn, tags });
    return { Rules: [rule] };
  }

  private describeRules(input: QueryInput) {
    const listenerArn = optionalQueryString(input, 'ListenerArn');
    const arns = optionalQueryStringList(input, 'RuleArns') ?? [];
    if ((listenerArn === undefined) === (arns.length === 0)) {
      throw validation('You must specify either listener ARN or rule ARNs');
    }
    let found: Rule[];
    if (listenerArn !== undefined) {
      this.listener(listenerArn);
      found = this.rulesOf(listenerArn);
    } else {
      found = arns.map((a) => this.rule(a).rule);
    }
    const { items, nextMarker } = page(found, optionalQueryString(input, 'Marker'), this.pageSize(input));
    return { Rules: items, NextMarker: nextMarker };
  }

  /** New conditions and/or actions for a rule; the default rule follows its listener instead. */
  private modifyRule(input: QueryInput) {
    const arn = requiredQueryString(input, 'RuleArn');
    const record = this.rule(arn);
    if (record.rule.IsDefault) {
      throw new AwsError(
        'OperationNotPermitted',
        `Default rule '${arn}' cannot be modified: its actions are the listener's default actions`,
      );
    }
    const { listener } = this.listener(record.listenerArn);
    const conditions = input.Conditions === undefined ? record.rule.Conditions : this.conditions(input);
    const actions =
      input.Actions === undefined
        ? record.rule.Actions
        : this.ruleActions(input, listener.LoadBalancerArn as string);
    record.rule.Conditions = conditions;
    record.rule.Actions = actions;
    return { Rules: [record.rule] };
  }

  private deleteRule(input: QueryInput) {
    const arn = requiredQueryString(input, 'RuleArn');
    if (this.rule(arn).rule.IsDefault)
      throw new AwsError('OperationNotPermitted', `Default rule '${arn}' cannot be deleted`);
    this.state.rules.delete(arn);
    return undefined;
  }

  private setRulePriorities(input: QueryInput) {
    const changes = (optionalQueryStructList(input, 'RulePriorities') ?? []).map((p) => {
      const arn = requiredQueryString(p, 'RuleArn');
      const record = this.rule(arn);
      if (record.rule.IsDefault)
        throw new AwsError('OperationNotPermitted', `Default rule '${arn}' cannot be modified`);
      const priority = optionalQueryInteger(p, 'Priority', { min: 1, max: 50000 });
      if (priority === undefined) throw validation(`A priority must be specified for rule '${arn}'`);
      return { record, priority: String(priority) };
    });
    if (changes.length === 0) throw validation('At least one rule priority must be specified');
    for (const listenerArn of new Set(changes.map((c) => c.record.listenerArn))) {
      const after = new Map(
        this.rulesOf(listenerArn)
          .filter((r) => !r.IsDefault)
          .map((r) => [r.RuleArn, r.Priority]),
      );
      for (const c of changes)
        if (c.record.listenerArn === listenerArn) after.set(c.record.rule.RuleArn, c.priority);
      const seen = new Set<string>();
      for (const priority of after.values()) {
        if (seen.has(priority as string))
          throw new AwsError('PriorityInUse', `Priority '${priority}' is currently in use`);
        seen.add(priority as string);
      }
    }
    for (const c of changes) c.record.rule.Priority = c.priority;
    return { Rules: changes.map((c) => c.record.rule) };
  }

  // ------------------------------------------------------------ tags

  private tagsFrom(input: QueryInput, member: string): (Tag & { Key: string })[] {
    const tags = (optionalQueryStructList(input, member) ?? []).map((t) => ({
      Key: requiredQueryString(t, 'Key'),
      ...(optionalQueryString(t, 'Value') !== undefined && { Value: optionalQueryString(t, 'Value') }),
    }));
    const keys = new Set<string>();
    for (const t of tags) {
      if (keys.has(t.Key))
        throw new AwsError('DuplicateTagKeys', `Tag key '${t.Key}' is specified more than once`);
      keys.add(t.Key);
    }
    if (tags.length > MAX_TAGS)
      throw new AwsError('TooManyTags', `A resource can have at most ${MAX_TAGS} tags`);
    return tags;
  }

  /** The tag list of any taggable resource, by ARN. */
  private tagged(arn: string): { tags: Tag[] } {
    const record =
      this.state.loadBalancers.get(arn) ??
      this.state.targetGroups.get(arn) ??
      this.state.listeners.get(arn) ??
      this.state.rules.get(arn);
    if (record) return record;
    if (arn.includes(':targetgroup/')) throw notFound('TargetGroupNotFound', 'target groups');
    if (arn.includes(':listener-rule/')) throw notFound('RuleNotFound', 'rules');
    if (arn.includes(':listener/')) throw notFound('ListenerNotFound', 'listeners');
    throw notFound('LoadBalancerNotFound', 'load balancers');
  }

  private addTags(input: QueryInput) {
    const arns = optionalQueryStringList(input, 'ResourceArns') ?? [];
    if (arns.length === 0) throw validation('At least one resource ARN must be specified');
    const tags = this.tagsFrom(input, 'Tags');
    const merged = arns.map((a) => {
      const record = this.tagged(a);
      const byKey = new Map(record.tags.map((t) => [t.Key as string, t]));
      for (const t of tags) byKey.set(t.Key, t);
      if (byKey.size > MAX_TAGS)
        throw new AwsError('TooManyTags', `A resource can have at most ${MAX_TAGS} tags`);
      return { record, tags: [...byKey.values()] };
    });
    for (const m of merged) m.record.tags = m.tags;
    return undefined;
  }

  private removeTags(input: QueryInput) {
    const arns = optionalQueryStringList(input, 'ResourceArns') ?? [];
    const keys = optionalQueryStringList(input, 'TagKeys') ?? [];
    if (arns.length === 0 || keys.length === 0)
      throw validation('ResourceArns and TagKeys must be specified');
    for (const record of arns.map((a) => this.tagged(a))) {
      record.tags = record.tags.filter((t) => !keys.includes(t.Key as string));
    }
    return undefined;
  }

  private describeTags(input: QueryInput) {
    const arns = optionalQueryStringList(input, 'ResourceArns') ?? [];
    if (arns.length === 0 || arns.length > 20)
      throw validation('Between 1 and 20 resource ARNs must be specified');
    return { TagDescriptions: arns.map((a) => ({ ResourceArn: a, Tags: this.tagged(a).tags })) };
  }

  // ------------------------------------------------------------ targets

  private targets(
    input: QueryInput,
    record: TargetGroupRecord,
  ): { id: string; port: number; availabilityZone?: string }[] {
    const targets = optionalQueryStructList(input, 'Targets') ?? [];
    return targets.map((t) => {
      const id = requiredQueryString(t, 'Id');
      const port =
        optionalQueryInteger(t, 'Port', { min: 1, max: 65535 }) ?? (record.targetGroup.Port as number);
      const availabilityZone = optionalQueryString(t, 'AvailabilityZone');
      return { id, port, ...(availabilityZone !== undefined && { availabilityZone }) };
    });
  }

  private registerTargets(input: QueryInput) {
    const record = this.targetGroup(requiredQueryString(input, 'TargetGroupArn'));
    const targets = this.targets(input, record);
    if (targets.length === 0) throw validation('At least one target must be specified');
    const ip = record.targetGroup.TargetType === 'ip';
    const invalid = targets.filter((t) =>
      ip
        ? !/^(\d{1,3})(\.\d{1,3}){3}$/.test(t.id) || t.id.split('.').some((o) => Number(o) > 255)
        : !/^i-[0-9a-f]{8,17}$/.test(t.id),
    );
    if (invalid.length > 0) {
      throw new AwsError(
        'InvalidTarget',
        ip
          ? `The IP address '${invalid[0]?.id}' is not a valid IPv4 address`
          : `The following targets are not valid instance IDs: '${invalid.map((t) => t.id).join("', '")}'`,
      );
    }
    this.pruneDrained(record);
    for (const t of targets) {
      record.targets = record.targets.filter((r) => !(r.id === t.id && r.port === t.port));
      record.targets.push({ ...t, registeredAt: this.now() });
    }
    return undefined;
  }

  private deregisterTargets(input: QueryInput) {
    const arn = requiredQueryString(input, 'TargetGroupArn');
    const record = this.targetGroup(arn);
    const targets = this.targets(input, record);
    if (targets.length === 0) throw validation('At least one target must be specified');
    this.pruneDrained(record);
    const registered = (t: { id: string; port: number }) =>
      record.targets.find((r) => r.id === t.id && r.port === t.port && r.deregisteredAt === undefined);
    const missing = targets.filter((t) => registered(t) === undefined);
    if (missing.length > 0) {
      throw new AwsError(
        'InvalidTarget',
        `The following targets are not registered in target group '${arn}': '${missing.map((t) => t.id).join("', '")}'`,
      );
    }
    for (const t of targets) (registered(t) as ElbTargetRecord).deregisteredAt = this.now();
    return undefined;
  }

  /** Draining targets leave once the deregistration delay is over. */
  private pruneDrained(record: TargetGroupRecord): void {
    const now = this.ctx.scheduler.now();
    const delay = Number(record.attributes[DEREGISTRATION_DELAY]) * 1000;
    record.targets = record.targets.filter(
      (t) => t.deregisteredAt === undefined || now < t.deregisteredAt.getTime() + delay,
    );
  }

  /**
   * A target's health as ELB reports it, from the emulated time since registration: health
   * checks always pass here (nothing answers them), so a target in a group a load balancer
   * uses is healthy after HealthyThresholdCount intervals.
   */
  private health(record: TargetGroupRecord, target: ElbTargetRecord): TargetHealth {
    if (target.deregisteredAt !== undefined) {
      return {
        State: 'draining',
        Reason: 'Target.DeregistrationInProgress',
        Description: 'Target deregistration is in progress',
      };
    }
    if (this.loadBalancersOf(record.targetGroup.TargetGroupArn as string).length === 0) {
      return {
        State: 'unused',
        Reason: 'Target.NotInUse',
        Description: 'Target group is not configured to receive traffic from the load balancer',
      };
    }
    const tg = record.targetGroup;
    const interval = (tg.HealthCheckIntervalSeconds ?? 30) * 1000;
    const elapsed = this.ctx.scheduler.now() - target.registeredAt.getTime();
    if (elapsed < interval) {
      return {
        State: 'initial',
        Reason: 'Elb.RegistrationInProgress',
        Description: 'Target registration is in progress',
      };
    }
    if (elapsed < interval * (tg.HealthyThresholdCount ?? 5)) {
      return {
        State: 'initial',
        Reason: 'Elb.InitialHealthChecking',
        Description: 'Initial health checks in progress',
      };
    }
    return { State: 'healthy' };
  }

  private describeTargetHealth(input: QueryInput) {
    const record = this.targetGroup(requiredQueryString(input, 'TargetGroupArn'));
    this.pruneDrained(record);
    const asked = this.targets(input, record);
    const described = (t: ElbTargetRecord) => ({
      Target: { Id: t.id, Port: t.port, AvailabilityZone: t.availabilityZone },
      HealthCheckPort:
        record.targetGroup.HealthCheckPort === 'traffic-port'
          ? String(t.port)
          : record.targetGroup.HealthCheckPort,
      TargetHealth: this.health(record, t),
    });
    if (asked.length === 0) return { TargetHealthDescriptions: record.targets.map(described) };
    return {
      TargetHealthDescriptions: asked.map((a) => {
        const target = record.targets.find((t) => t.id === a.id && t.port === a.port);
        if (target) return described(target);
        return {
          Target: { Id: a.id, Port: a.port, AvailabilityZone: a.availabilityZone },
          TargetHealth: {
            State: 'unused',
            Reason: 'Target.NotRegistered',
            Description: 'Target is not registered to the target group',
          },
        };
      }),
    };
  }
}
