/**
 * Every operation the endpoint serves, in both directions, against the AWS models the SDK
 * packages ship: a valid request passes and its response conforms to the output shape (the
 * emulator runs with checkResponses 'throw', so a response that breaks the model is a 500);
 * a member of the wrong type is refused with the protocol's error; a missing required member
 * with an error the model lists; an unknown member (top level and nested) is dropped before
 * the handler sees it. The operations come from the emulator's own dispatch tables, so an
 * operation added without a case here fails the first test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { NormalizedSchema } from '@smithy/core/schema';
import { startEmulator, type Emulator, type ServedService } from '../../emulator/index.js';
import { requiredMembers, SERVICE_PACKAGES, serviceModel } from '../../emulator/model.js';
import { decodeQueryInput } from '../../emulator/query.js';
import { errorListed, responseProblems, UNSUPPORTED, validateRequest } from '../../emulator/validate.js';
import { awsvpc, fargateTaskDefinition } from './clients.js';

type Input = Record<string, unknown>;

const require = createRequire(import.meta.url);

interface Answer {
  status: number;
  /** The error type (JSON `__type`, Query `<Code>`), when there is one. */
  error?: string;
  text: string;
}

/** Values one case hands to a later one (ARNs, ids). */
const ctx: Record<string, string> = {};

interface Case {
  service: string;
  operation: string;
  input(): Input;
  /** Keeps what later cases need from the answer's text. */
  keep?(text: string): void;
  /** Runs first (e.g. moves the emulated clock). */
  before?(emulator: Emulator): void | Promise<void>;
}

const ACCOUNT = '000000000000';
const ARN = `arn:aws:ecs:us-east-1:${ACCOUNT}`;
const APP = 'AppECS-demo-web';
const GROUP = 'DgpECS-demo-web';
const APPSPEC = [
  'version: 0.0',
  'Resources:',
  '  - TargetService:',
  '      Type: AWS::ECS::Service',
  '      Properties:',
  `        TaskDefinition: "${ARN}:task-definition/app:2"`,
  '        LoadBalancerInfo:',
  '          ContainerName: "web"',
  '          ContainerPort: 8080',
  '',
].join('\n');

const grab = (name: string, pattern: RegExp) => (text: string) => {
  const found = pattern.exec(text)?.[1];
  if (!found) throw new Error(`${name} not found in ${text.slice(0, 400)}`);
  ctx[name] = found;
};

/** A deployment waits in Ready (readyWaitMinutes) so ContinueDeployment has something to continue. */
async function untilStatus(emulator: Emulator, status: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (emulator.state.codedeploy.deployments.get(ctx.deploymentId as string)?.status === status) return;
    emulator.clock.advance(1_000);
  }
  const last = emulator.state.codedeploy.deployments.get(ctx.deploymentId as string)?.status;
  throw new Error(`deployment ${ctx.deploymentId} never reached ${status} (last ${last})`);
}

const tdArn = `${ARN}:task-definition/conf:1`;

/** The seeded native service's deployment waits at its PAUSE hook. */
function awaitingPause(emulator: Emulator): boolean {
  return [...emulator.state.ecs.serviceDeployments.values()].some((d) =>
    d.lifecycleHookDetails?.some((h) => h.status === 'AWAITING_ACTION'),
  );
}

/** Filled once the emulator runs: the dispatch tables by service. */
const byService = new Map<string, ServedService>();
const CASES: Case[] = [
  // ECS
  {
    service: 'ecs',
    operation: 'CreateCluster',
    input: () => ({ clusterName: 'conf', tags: [{ key: 'a', value: 'b' }] }),
  },
  { service: 'ecs', operation: 'DescribeClusters', input: () => ({ clusters: ['conf'], include: ['TAGS'] }) },
  { service: 'ecs', operation: 'ListClusters', input: () => ({ maxResults: 10 }) },
  { service: 'ecs', operation: 'RegisterTaskDefinition', input: () => fargateTaskDefinition('conf') },
  {
    service: 'ecs',
    operation: 'DescribeTaskDefinition',
    input: () => ({ taskDefinition: 'conf:1', include: ['TAGS'] }),
  },
  { service: 'ecs', operation: 'ListTaskDefinitions', input: () => ({ familyPrefix: 'conf', sort: 'DESC' }) },
  {
    service: 'ecs',
    operation: 'CreateService',
    input: () => ({
      cluster: 'conf',
      serviceName: 's',
      taskDefinition: 'conf:1',
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: awsvpc,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    }),
  },
  {
    service: 'ecs',
    operation: 'UpdateService',
    input: () => ({ cluster: 'conf', service: 's', desiredCount: 2, forceNewDeployment: true }),
  },
  {
    service: 'ecs',
    operation: 'DescribeServices',
    input: () => ({ cluster: 'conf', services: ['s', 'nope'] }),
  },
  { service: 'ecs', operation: 'ListServices', input: () => ({ cluster: 'conf' }) },
  {
    service: 'ecs',
    operation: 'ListTasks',
    input: () => ({ cluster: 'conf', serviceName: 's' }),
    keep: grab('taskArn', /"(arn:aws:ecs:[^"]+:task\/[^"]+)"/),
    before: (emulator) => emulator.clock.advance(30_000),
  },
  {
    service: 'ecs',
    operation: 'DescribeTasks',
    input: () => ({ cluster: 'conf', tasks: [ctx.taskArn, 'missing'] }),
  },
  {
    service: 'ecs',
    operation: 'RunTask',
    input: () => ({
      cluster: 'conf',
      taskDefinition: 'conf:1',
      launchType: 'FARGATE',
      networkConfiguration: awsvpc,
      count: 1,
      startedBy: 'conformance',
      overrides: { containerOverrides: [{ name: 'web', command: ['true'] }] },
    }),
    keep: grab('oneOffTaskArn', /"taskArn":"([^"]+)"/),
  },
  {
    service: 'ecs',
    operation: 'StopTask',
    input: () => ({ cluster: 'conf', task: ctx.oneOffTaskArn, reason: 'conformance' }),
  },
  {
    service: 'ecs',
    operation: 'TagResource',
    input: () => ({ resourceArn: `${ARN}:cluster/conf`, tags: [{ key: 'k', value: 'v' }] }),
  },
  { service: 'ecs', operation: 'ListTagsForResource', input: () => ({ resourceArn: `${ARN}:cluster/conf` }) },
  {
    service: 'ecs',
    operation: 'UntagResource',
    input: () => ({ resourceArn: `${ARN}:cluster/conf`, tagKeys: ['k'] }),
  },
  {
    service: 'ecs',
    operation: 'DeleteService',
    input: () => ({ cluster: 'conf', service: 's', force: true }),
  },
  // ECS-native: the seeded service `native` (BLUE_GREEN with a PAUSE hook before production traffic).
  {
    service: 'ecs',
    operation: 'ListServiceDeployments',
    input: () => ({ cluster: 'demo', service: 'native', status: ['IN_PROGRESS'] }),
    before: async (emulator) => {
      const ecs = byService.get('ecs') as ServedService;
      const started = await send(emulator, ecs, 'UpdateService', {
        cluster: 'demo',
        service: 'native',
        taskDefinition: 'app:2',
      });
      if (started.status !== 200) throw new Error(`UpdateService on native: ${started.text}`);
      for (let i = 0; i < 120 && !awaitingPause(emulator); i++) emulator.clock.advance(1_000);
    },
    keep: grab('serviceDeploymentArn', /"serviceDeploymentArn":"([^"]+)"/),
  },
  {
    service: 'ecs',
    operation: 'DescribeServiceDeployments',
    input: () => ({
      serviceDeploymentArns: [ctx.serviceDeploymentArn, `${ARN}:service-deployment/demo/native/missing`],
    }),
    keep: (text) => {
      grab('hookId', /"hookId":"([^"]+)"/)(text);
      grab('serviceRevisionArn', /"targetServiceRevision":\{[^}]*"arn":"([^"]+)"/)(text);
    },
  },
  {
    service: 'ecs',
    operation: 'DescribeServiceRevisions',
    input: () => ({ serviceRevisionArns: [ctx.serviceRevisionArn] }),
  },
  {
    service: 'ecs',
    operation: 'ContinueServiceDeployment',
    input: () => ({ serviceDeploymentArn: ctx.serviceDeploymentArn, hookId: ctx.hookId, action: 'CONTINUE' }),
  },
  {
    service: 'ecs',
    operation: 'StopServiceDeployment',
    input: () => ({ serviceDeploymentArn: ctx.serviceDeploymentArn, stopType: 'ROLLBACK' }),
  },
  { service: 'ecs', operation: 'DeregisterTaskDefinition', input: () => ({ taskDefinition: tdArn }) },
  { service: 'ecs', operation: 'DeleteTaskDefinitions', input: () => ({ taskDefinitions: [tdArn] }) },
  // ECR
  { service: 'ecr', operation: 'GetAuthorizationToken', input: () => ({}) },
  {
    service: 'ecr',
    operation: 'CreateRepository',
    input: () => ({ repositoryName: 'conf', imageScanningConfiguration: { scanOnPush: false } }),
    keep: grab('repositoryArn', /"repositoryArn":"([^"]+)"/),
  },
  { service: 'ecr', operation: 'DescribeRepositories', input: () => ({ repositoryNames: ['conf'] }) },
  {
    service: 'ecr',
    operation: 'DescribeImages',
    input: () => ({ repositoryName: 'conf', filter: { tagStatus: 'TAGGED' } }),
  },
  {
    service: 'ecr',
    operation: 'BatchDeleteImage',
    input: () => ({ repositoryName: 'conf', imageIds: [{ imageTag: 'gone' }] }),
  },
  {
    service: 'ecr',
    operation: 'PutImageTagMutability',
    input: () => ({ repositoryName: 'conf', imageTagMutability: 'IMMUTABLE' }),
  },
  {
    service: 'ecr',
    operation: 'TagResource',
    input: () => ({ resourceArn: ctx.repositoryArn, tags: [{ Key: 'k', Value: 'v' }] }),
  },
  { service: 'ecr', operation: 'ListTagsForResource', input: () => ({ resourceArn: ctx.repositoryArn }) },
  {
    service: 'ecr',
    operation: 'UntagResource',
    input: () => ({ resourceArn: ctx.repositoryArn, tagKeys: ['k'] }),
  },
  // CodeDeploy
  {
    service: 'codedeploy',
    operation: 'CreateApplication',
    input: () => ({ applicationName: 'conf-app', computePlatform: 'ECS' }),
  },
  { service: 'codedeploy', operation: 'GetApplication', input: () => ({ applicationName: 'conf-app' }) },
  { service: 'codedeploy', operation: 'ListApplications', input: () => ({}) },
  {
    service: 'codedeploy',
    operation: 'CreateDeploymentGroup',
    input: () => ({
      applicationName: 'conf-app',
      deploymentGroupName: 'conf-dg',
      serviceRoleArn: `arn:aws:iam::${ACCOUNT}:role/cd`,
      ecsServices: [{ clusterName: 'demo', serviceName: 'web2' }],
      deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
      blueGreenDeploymentConfiguration: {
        deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
        terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 0 },
      },
      loadBalancerInfo: {
        targetGroupPairInfoList: [
          {
            targetGroups: [{ name: 'tg-a' }, { name: 'tg-b' }],
            prodTrafficRoute: { listenerArns: [ctx.listenerArn] },
          },
        ],
      },
    }),
  },
  {
    service: 'codedeploy',
    operation: 'GetDeploymentGroup',
    input: () => ({ applicationName: 'conf-app', deploymentGroupName: 'conf-dg' }),
  },
  {
    service: 'codedeploy',
    operation: 'ListDeploymentGroups',
    input: () => ({ applicationName: 'conf-app' }),
  },
  {
    service: 'codedeploy',
    operation: 'GetDeploymentConfig',
    input: () => ({ deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce' }),
  },
  { service: 'codedeploy', operation: 'ListDeploymentConfigs', input: () => ({}) },
  {
    service: 'codedeploy',
    operation: 'CreateDeployment',
    input: () => ({
      applicationName: APP,
      deploymentGroupName: GROUP,
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: APPSPEC, sha256: createHash('sha256').update(APPSPEC).digest('hex') },
      },
    }),
    keep: grab('deploymentId', /"deploymentId":"([^"]+)"/),
  },
  { service: 'codedeploy', operation: 'GetDeployment', input: () => ({ deploymentId: ctx.deploymentId }) },
  {
    service: 'codedeploy',
    operation: 'BatchGetDeployments',
    input: () => ({ deploymentIds: [ctx.deploymentId] }),
  },
  {
    service: 'codedeploy',
    operation: 'ListDeployments',
    input: () => ({ applicationName: APP, deploymentGroupName: GROUP, includeOnlyStatuses: ['Created'] }),
  },
  {
    service: 'codedeploy',
    operation: 'ListDeploymentTargets',
    input: () => ({ deploymentId: ctx.deploymentId }),
    keep: grab('targetId', /"targetIds":\["([^"]+)"/),
    before: (emulator) => untilStatus(emulator, 'InProgress'),
  },
  {
    service: 'codedeploy',
    operation: 'GetDeploymentTarget',
    input: () => ({ deploymentId: ctx.deploymentId, targetId: ctx.targetId }),
  },
  {
    service: 'codedeploy',
    operation: 'BatchGetDeploymentTargets',
    input: () => ({ deploymentId: ctx.deploymentId, targetIds: [ctx.targetId] }),
  },
  {
    service: 'codedeploy',
    operation: 'ContinueDeployment',
    input: () => ({ deploymentId: ctx.deploymentId, deploymentWaitType: 'READY_WAIT' }),
    before: (emulator) => untilStatus(emulator, 'Ready'),
  },
  {
    service: 'codedeploy',
    operation: 'StopDeployment',
    input: () => ({ deploymentId: ctx.deploymentId, autoRollbackEnabled: true }),
  },
  // CloudWatch Logs
  { service: 'logs', operation: 'CreateLogGroup', input: () => ({ logGroupName: '/conf' }) },
  {
    service: 'logs',
    operation: 'CreateLogStream',
    input: () => ({ logGroupName: '/conf', logStreamName: 's' }),
  },
  { service: 'logs', operation: 'DescribeLogGroups', input: () => ({ logGroupNamePrefix: '/conf' }) },
  { service: 'logs', operation: 'DescribeLogStreams', input: () => ({ logGroupName: '/conf' }) },
  {
    service: 'logs',
    operation: 'PutLogEvents',
    before: (emulator) => {
      ctx.now = String(emulator.clock.now());
    },
    input: () => ({
      logGroupName: '/conf',
      logStreamName: 's',
      logEvents: [{ timestamp: Number(ctx.now), message: 'hello' }],
    }),
  },
  {
    service: 'logs',
    operation: 'GetLogEvents',
    input: () => ({ logGroupName: '/conf', logStreamName: 's', startFromHead: true }),
  },
  {
    service: 'logs',
    operation: 'FilterLogEvents',
    input: () => ({ logGroupName: '/conf', filterPattern: 'hello' }),
  },
  // STS, IAM
  { service: 'sts', operation: 'GetCallerIdentity', input: () => ({}) },
  { service: 'iam', operation: 'GetRole', input: () => ({ RoleName: 'deploy' }) },
  {
    service: 'iam',
    operation: 'SimulatePrincipalPolicy',
    input: () => ({
      PolicySourceArn: `arn:aws:iam::${ACCOUNT}:role/deploy`,
      ActionNames: ['ecs:ListTasks'],
      ResourceArns: ['*'],
      MaxItems: '10',
    }),
  },
  // ELBv2
  {
    service: 'elbv2',
    operation: 'DescribeLoadBalancers',
    input: () => ({ Names: ['lb'] }),
    keep: grab('loadBalancerArn', /<LoadBalancerArn>([^<]+)</),
  },
  {
    service: 'elbv2',
    operation: 'DescribeListeners',
    input: () => ({ LoadBalancerArn: ctx.loadBalancerArn }),
  },
  {
    service: 'elbv2',
    operation: 'CreateTargetGroup',
    input: () => ({
      Name: 'conf-tg',
      Protocol: 'HTTP',
      Port: '80',
      VpcId: 'vpc-0e0000000000000a1',
      TargetType: 'ip',
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
    }),
    keep: grab('targetGroupArn', /<TargetGroupArn>([^<]+)</),
  },
  { service: 'elbv2', operation: 'DescribeTargetGroups', input: () => ({ Names: ['conf-tg'] }) },
  {
    service: 'elbv2',
    operation: 'CreateRule',
    input: () => ({
      ListenerArn: ctx.listenerArn,
      Priority: '10',
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/conf/*'] } }],
      Actions: [{ Type: 'forward', TargetGroupArn: ctx.targetGroupArn }],
    }),
    keep: grab('ruleArn', /<RuleArn>([^<]+)</),
  },
  { service: 'elbv2', operation: 'DescribeRules', input: () => ({ ListenerArn: ctx.listenerArn }) },
  {
    service: 'elbv2',
    operation: 'ModifyRule',
    input: () => ({
      RuleArn: ctx.ruleArn,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/other/*'] } }],
    }),
  },
  {
    service: 'elbv2',
    operation: 'SetRulePriorities',
    input: () => ({ RulePriorities: [{ RuleArn: ctx.ruleArn, Priority: '11' }] }),
  },
  {
    service: 'elbv2',
    operation: 'AddTags',
    input: () => ({ ResourceArns: [ctx.targetGroupArn], Tags: [{ Key: 'k', Value: 'v' }] }),
  },
  { service: 'elbv2', operation: 'DescribeTags', input: () => ({ ResourceArns: [ctx.targetGroupArn] }) },
  {
    service: 'elbv2',
    operation: 'RemoveTags',
    input: () => ({ ResourceArns: [ctx.targetGroupArn], TagKeys: ['k'] }),
  },
  {
    service: 'elbv2',
    operation: 'RegisterTargets',
    input: () => ({ TargetGroupArn: ctx.targetGroupArn, Targets: [{ Id: '10.0.0.7', Port: '80' }] }),
  },
  {
    service: 'elbv2',
    operation: 'DescribeTargetHealth',
    input: () => ({ TargetGroupArn: ctx.targetGroupArn }),
  },
  {
    service: 'elbv2',
    operation: 'ModifyTargetGroupAttributes',
    input: () => ({
      TargetGroupArn: ctx.targetGroupArn,
      Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }],
    }),
  },
  {
    service: 'elbv2',
    operation: 'DescribeTargetGroupAttributes',
    input: () => ({ TargetGroupArn: ctx.targetGroupArn }),
  },
  {
    service: 'elbv2',
    operation: 'DeregisterTargets',
    input: () => ({ TargetGroupArn: ctx.targetGroupArn, Targets: [{ Id: '10.0.0.7', Port: '80' }] }),
  },
  { service: 'elbv2', operation: 'DeleteRule', input: () => ({ RuleArn: ctx.ruleArn }) },
  { service: 'elbv2', operation: 'DeleteTargetGroup', input: () => ({ TargetGroupArn: ctx.targetGroupArn }) },
];

/** The form a Query client sends: lists as `Name.member.N`, structures as `Name.Member`. */
function toForm(value: unknown, prefix: string, out: [string, string][] = []): [string, string][] {
  if (Array.isArray(value)) {
    if (value.length === 0) out.push([prefix, '']);
    value.forEach((v, i) => toForm(v, `${prefix}.member.${i + 1}`, out));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) toForm(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, String(value)]);
  }
  return out;
}

async function send(
  emulator: Emulator,
  served: ServedService,
  operation: string,
  input: Input,
): Promise<Answer> {
  const url = new URL(emulator.url);
  const query = served.protocol === 'query';
  const body = query
    ? new URLSearchParams([
        ['Action', operation],
        ['Version', VERSIONS[served.service] as string],
        ...toForm(input, ''),
      ]).toString()
    : JSON.stringify(input);
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      ...(query
        ? { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }
        : { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${served.target}.${operation}` }),
    },
    body,
  });
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'us-east-1',
    service: served.signingName,
    sha256: Hash.bind(null, 'sha256'),
  });
  const { headers } = await signer.sign(request);
  const res = await fetch(emulator.url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'host')),
    body,
  });
  const text = await res.text();
  const error = query
    ? /<Code>([^<]+)<\/Code>/.exec(text)?.[1]
    : (res.headers.get('x-amzn-errortype') ?? undefined);
  return { status: res.status, error, text };
}

const VERSIONS: Record<string, string> = { sts: '2011-06-15', iam: '2010-05-08', elbv2: '2015-12-01' };

function inputShape(service: string, operation: string): NormalizedSchema {
  const op = serviceModel(service).operation(operation);
  if (!op) throw new Error(`${service} ${operation} is not in the model`);
  return op.input;
}

/** The same input with one member of the wrong type for its protocol; undefined when the input has no members. */
function mistyped(service: string, operation: string, input: Input, query: boolean): Input | undefined {
  const members = inputShape(service, operation).getMemberSchemas();
  const name = Object.keys(input)[0] ?? Object.keys(members)[0];
  if (!name) return undefined;
  const schema = members[name] as NormalizedSchema;
  const scalar = !schema.isStructSchema() && !schema.isListSchema() && !schema.isMapSchema();
  // Query: a scalar sent as a structure, anything else sent as a plain string.
  if (query) return { ...input, [name]: scalar ? { Deep: 'x' } : 'x' };
  return { ...input, [name]: schema.isStringSchema() ? 12345 : 'wrong' };
}

/** The same input with unknown members at the top and in its first nested structure. */
function withUnknown(input: Input, query: boolean): Input {
  const extra = query ? 'x' : 1;
  const copy = structuredClone(input);
  const nested = Object.values(copy)
    .flatMap((v) => (Array.isArray(v) ? v : [v]))
    .find((v): v is Input => typeof v === 'object' && v !== null && !Array.isArray(v));
  if (nested) nested[query ? 'ZzNestedUnknown' : 'zzNestedUnknown'] = extra;
  return { ...copy, [query ? 'ZzUnknown' : 'zzUnknown']: extra };
}

/** What the handler should see for an input: the Query form decodes to strings. */
function expectedAccepted(input: Input, query: boolean): unknown {
  if (!query) return input;
  return decodeQueryInput(new URLSearchParams(toForm(input, '')));
}

describe('every operation the endpoint serves conforms to the AWS model, both ways', () => {
  let emulator: Emulator;

  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      checkResponses: 'throw',
      seed: {
        clusters: ['demo'],
        taskDefinitions: [fargateTaskDefinition('app', 'app:v1'), fargateTaskDefinition('app', 'app:v2')],
        services: [
          {
            cluster: 'demo',
            serviceName: 'web',
            taskDefinition: 'app:1',
            desiredCount: 1,
            deploymentController: 'CODE_DEPLOY',
            launchType: 'FARGATE',
            loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
          },
          ...['web2', 'web3'].map((serviceName) => ({
            cluster: 'demo',
            serviceName,
            taskDefinition: 'app:1',
            desiredCount: 1,
            deploymentController: 'CODE_DEPLOY' as const,
            launchType: 'FARGATE',
            loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
          })),
          {
            cluster: 'demo',
            serviceName: 'native',
            taskDefinition: 'app:1',
            desiredCount: 1,
            launchType: 'FARGATE',
            deploymentConfiguration: {
              strategy: 'BLUE_GREEN',
              bakeTimeInMinutes: 1,
              lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['PRE_PRODUCTION_TRAFFIC_SHIFT'] }],
            },
            nativeLoadBalancer: { containerName: 'web', containerPort: 8080 },
          },
        ],
        codedeploy: {
          applications: [APP],
          deploymentGroups: [
            {
              application: APP,
              name: GROUP,
              cluster: 'demo',
              service: 'web',
              readyWaitMinutes: 30,
              readyAction: 'STOP_DEPLOYMENT',
            },
            { application: APP, name: `${GROUP}3`, cluster: 'demo', service: 'web3' },
          ],
        },
        elbv2: {
          targetGroups: [{ name: 'tg-a' }, { name: 'tg-b' }],
          loadBalancers: [{ name: 'lb', listeners: [{ port: 80, defaultTargetGroup: 'tg-a' }] }],
        },
      },
    });
    for (const s of emulator.served) byService.set(s.service, s);
    ctx.listenerArn = [...emulator.state.elbv2.listeners.keys()][0] as string;
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('has a case for every operation in the dispatch tables, and a model for each', () => {
    const served = emulator.served.flatMap((s) => s.operations.map((op) => `${s.service} ${op}`)).sort();
    const covered = new Set(CASES.map((c) => `${c.service} ${c.operation}`));
    // Cases may run ahead of the dispatch tables (operations landing from other branches); the
    // walk skips those until they are served.
    expect(served.filter((op) => !covered.has(op))).toEqual([]);
    for (const key of served) {
      const [service, operation] = key.split(' ') as [string, string];
      expect([key, serviceModel(service).operation(operation) !== undefined]).toEqual([key, true]);
    }
  });

  it('refuses a deployment target lookup while the deployment is still Created: DeploymentNotStartedException', async () => {
    // The clock does not move here: the deployment stays Created.
    const cd = byService.get('codedeploy') as ServedService;
    const created = await send(emulator, cd, 'CreateDeployment', {
      applicationName: APP,
      deploymentGroupName: `${GROUP}3`,
      revision: {
        revisionType: 'AppSpecContent',
        appSpecContent: { content: APPSPEC, sha256: createHash('sha256').update(APPSPEC).digest('hex') },
      },
    });
    expect(created.status).toBe(200);
    const id = /"deploymentId":"([^"]+)"/.exec(created.text)?.[1] as string;
    for (const operation of ['ListDeploymentTargets', 'GetDeploymentTarget', 'BatchGetDeploymentTargets']) {
      const answer = await send(emulator, cd, operation, {
        deploymentId: id,
        targetId: 'demo:web',
        targetIds: ['demo:web'],
      });
      expect([operation, answer.status, answer.error]).toEqual([
        operation,
        400,
        'DeploymentNotStartedException',
      ]);
    }
  });

  it('answers tag operations on a missing service with the errors their models list', async () => {
    const ecs = byService.get('ecs') as ServedService;
    const resourceArn = `${ARN}:service/demo/missing`;
    const answers = await Promise.all([
      send(emulator, ecs, 'TagResource', { resourceArn, tags: [{ key: 'k', value: 'v' }] }),
      send(emulator, ecs, 'UntagResource', { resourceArn, tagKeys: ['k'] }),
      send(emulator, ecs, 'ListTagsForResource', { resourceArn }),
      send(emulator, ecs, 'ListTagsForResource', { resourceArn: `${ARN}:cluster/missing` }),
    ]);
    expect(answers.map((a) => [a.status, a.error])).toEqual([
      [400, 'ResourceNotFoundException'],
      [400, 'ResourceNotFoundException'],
      [400, 'InvalidParameterException'],
      [400, 'ClusterNotFoundException'],
    ]);
  });

  it('refuses a model member it does not emulate, on both protocols, before the handler', async () => {
    const ecs = await send(emulator, byService.get('ecs') as ServedService, 'ListTasks', {
      cluster: 'demo',
      containerInstance: 'ci-1',
    });
    expect([ecs.status, ecs.error]).toEqual([400, 'InvalidParameterException']);
    expect(ecs.text).toContain("'containerInstance' is not supported by the local endpoint");
    const elb = await send(emulator, byService.get('elbv2') as ServedService, 'DescribeTargetHealth', {
      TargetGroupArn: 'arn:tg',
      Include: ['AnomalyDetection'],
    });
    expect([elb.status, elb.error]).toEqual([400, 'ValidationError']);
    expect(emulator.calls.at(-1)?.accepted).toBeUndefined();
  });

  it('walks every operation: wrong type refused, missing required refused, unknown members dropped, valid request answered by the model', async () => {
    let requiredChecked = 0;
    const memberless: string[] = [];
    for (const c of CASES) {
      const served = byService.get(c.service);
      if (!served?.operations.includes(c.operation)) continue;
      const query = served.protocol === 'query';
      await c.before?.(emulator);
      const valid = c.input();
      const label = `${c.service} ${c.operation}`;

      const wrongInput = mistyped(c.service, c.operation, valid, query);
      if (wrongInput) {
        const wrong = await send(emulator, served, c.operation, wrongInput);
        expect([label, 'wrong type', wrong.status, wrong.error]).toEqual([
          label,
          'wrong type',
          400,
          query ? 'ValidationError' : 'SerializationException',
        ]);
        expect([label, emulator.calls.at(-1)?.accepted]).toEqual([label, undefined]);
      } else {
        memberless.push(label);
      }

      const required = requiredMembers(inputShape(c.service, c.operation))[0];
      if (required !== undefined) {
        const { [required]: _dropped, ...missing } = valid;
        const answer = await send(emulator, served, c.operation, missing);
        expect([label, 'missing ' + required, answer.status]).toEqual([label, 'missing ' + required, 400]);
        expect([label, answer.error]).not.toEqual([label, 'SerializationException']);
        expect([label, answer.error, errorListed(c.service, c.operation, answer.error ?? '')]).toEqual([
          label,
          answer.error,
          true,
        ]);
        expect([label, emulator.calls.at(-1)?.accepted]).toEqual([label, undefined]);
        requiredChecked++;
      }

      const ok = await send(emulator, served, c.operation, withUnknown(valid, query));
      expect([label, ok.status, ok.status === 200 ? '' : ok.text]).toEqual([label, 200, '']);
      expect([label, emulator.calls.at(-1)?.accepted]).toEqual([label, expectedAccepted(valid, query)]);
      c.keep?.(ok.text);
    }
    expect(requiredChecked).toBeGreaterThan(40);
    expect(memberless).toEqual(['sts GetCallerIdentity']);
    expect(emulator.modelViolations).toEqual([]);
  });
});

describe('the model checks themselves', () => {
  it('read required members, enums and errors from the SDK packages', () => {
    const ecs = serviceModel('ecs');
    expect(requiredMembers(inputShape('ecs', 'CreateTaskSet'))).toEqual([
      'service',
      'cluster',
      'taskDefinition',
    ]);
    expect(requiredMembers(inputShape('iam', 'GetRole'))).toEqual(['RoleName']);
    expect(requiredMembers(inputShape('ecs', 'ListClusters'))).toEqual([]);
    expect(ecs.enumValues('RegisterTaskDefinitionRequest', 'requiresCompatibilities')).toEqual(
      expect.arrayContaining(['EC2', 'FARGATE']),
    );
    expect(ecs.enumValues('CreateServiceRequest', 'serviceName')).toBeUndefined();
    expect(serviceModel('codedeploy').operation('CreateDeploymentGroup')?.errors).toContain(
      'InvalidECSServiceException',
    );
    expect(ecs.operation('CreateService')?.errors).not.toContain('ECSServiceException');
    expect(serviceModel('iam').errorShape('NoSuchEntityException')).toEqual({
      name: 'NoSuchEntityException',
      status: 404,
      queryCode: 'NoSuchEntity',
    });
    expect(() => serviceModel('nosuchservice')).toThrow(/add it to SERVICE_PACKAGES/);
  });

  it('refuse what the issue found the endpoint accepting', () => {
    const refused = (
      service: string,
      operation: string,
      input: unknown,
      protocol: 'json' | 'query' = 'json',
    ) => {
      try {
        validateRequest(service, operation, input, protocol);
        return 'accepted';
      } catch (err) {
        return (err as { type: string }).type;
      }
    };
    const td = fargateTaskDefinition('x');
    const port = {
      ...td,
      containerDefinitions: [{ name: 'web', image: 'i', portMappings: [{ containerPort: '8080' }] }],
    };
    expect(refused('ecs', 'RegisterTaskDefinition', port)).toBe('SerializationException');
    expect(refused('ecs', 'UpdateService', { service: 's', forceNewDeployment: 'true' })).toBe(
      'SerializationException',
    );
    expect(refused('codedeploy', 'BatchGetDeployments', {})).toBe('DeploymentIdRequiredException');
    expect(
      refused('ecs', 'UpdateService', {
        service: 's',
        deploymentConfiguration: { deploymentCircuitBreaker: { rollback: true } },
      }),
    ).toBe('InvalidParameterException');
    const noCommand = {
      ...td,
      containerDefinitions: [{ name: 'web', image: 'i', healthCheck: { interval: 5 } }],
    };
    expect(refused('ecs', 'RegisterTaskDefinition', noCommand)).toBe('InvalidParameterException');
    expect(refused('ecs', 'TagResource', { resourceArn: `${ARN}:cluster/x` })).toBe(
      'InvalidParameterException',
    );
    expect(refused('ecr', 'TagResource', { resourceArn: 'arn' })).toBe('InvalidParameterException');
    expect(
      refused('codedeploy', 'ContinueDeployment', { deploymentId: 'd-1', deploymentWaitType: 'SOON' }),
    ).toBe('InvalidDeploymentWaitTypeException');
    expect(refused('iam', 'GetRole', {}, 'query')).toBe('ValidationError');
    expect(refused('elbv2', 'DescribeTargetGroups', { PageSize: 'ten' }, 'query')).toBe('ValidationError');
  });

  it('refuse model members the endpoint does not emulate, and let ECS-native blue/green through', () => {
    expect(() =>
      validateRequest(
        'ecs',
        'UpdateService',
        {
          service: 's',
          deploymentConfiguration: { alarms: { alarmNames: ['a'], enable: true, rollback: true } },
        },
        'json',
      ),
    ).toThrow(/'deploymentConfiguration.alarms' is not supported by the local endpoint/);
    const blueGreen = {
      service: 's',
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 5,
        lifecycleHooks: [
          { hookTargetArn: 'arn:aws:lambda:us-east-1:0:function:f', lifecycleStages: ['POST_SCALE_UP'] },
        ],
      },
      loadBalancers: [
        {
          targetGroupArn: 'tg',
          containerName: 'web',
          containerPort: 80,
          advancedConfiguration: {
            alternateTargetGroupArn: 'tg2',
            productionListenerRule: 'r',
            roleArn: 'role',
          },
        },
      ],
    };
    expect(validateRequest('ecs', 'UpdateService', blueGreen, 'json')).toEqual(blueGreen);
  });

  it('list as not emulated only members the models have', () => {
    const installed = (service: string) => {
      try {
        require.resolve(`${SERVICE_PACKAGES[service]}/package.json`);
        return true;
      } catch {
        return false;
      }
    };
    const memberAt = (schema: NormalizedSchema, path: string[]): boolean => {
      const [head, ...rest] = path;
      if (head === undefined) return true;
      const name = head.replace(/\[\]$/, '');
      const member = schema.getMemberSchemas()[name];
      if (!member) return false;
      return memberAt(head.endsWith('[]') ? member.getValueSchema() : member, rest);
    };
    for (const [service, operations] of Object.entries(UNSUPPORTED)) {
      // An entry may run ahead of a service this checkout does not serve yet (its SDK package
      // not installed); it is checked once the package is there.
      if (!installed(service)) continue;
      for (const [operation, paths] of Object.entries(operations)) {
        if (!serviceModel(service).operation(operation)) throw new Error(`${service} has no ${operation}`);
        for (const path of paths) {
          expect([
            service,
            operation,
            path,
            memberAt(inputShape(service, operation), path.split('.')),
          ]).toEqual([service, operation, path, true]);
        }
      }
    }
  });

  it('find every kind of wrong response', () => {
    const problems = responseProblems(
      'ecs',
      'DescribeServices',
      {
        services: [{ serviceName: 7, deployments: [{ rolloutState: 'SOMEWHERE' }], madeUp: true }],
        failures: 'none',
      },
      'json',
    );
    expect(problems.map((p) => [p.kind, p.path])).toEqual([
      ['type', 'services[0].serviceName'],
      ['enum', 'services[0].deployments[0].rolloutState'],
      ['unknown', 'services[0].madeUp'],
      ['type', 'failures'],
    ]);
    expect(
      responseProblems(
        'iam',
        'GetRole',
        { Role: { RoleName: 'r', Arn: 'a', Path: '/', RoleId: 'x' } },
        'query',
      ).map((p) => [p.kind, p.path]),
    ).toEqual([['required', 'Role.CreateDate']]);
    expect(responseProblems('ecs', 'ListClusters', { clusterArns: [], nextToken: 'n' }, 'json')).toEqual([]);
  });
});
