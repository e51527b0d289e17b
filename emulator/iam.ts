/**
 * IAM: roles and users with inline identity policies and a permissions boundary; GetRole and
 * SimulatePrincipalPolicy; and the authorization of every emulated call, evaluated as IAM
 * does (an explicit Deny wins, then an Allow, else implicitly denied; a boundary caps what
 * the identity policies allow). Without `seed.iam` every configured credential's principal
 * is allowed everything, so that nothing is denied unless a test asks for it.
 */
import { createHash } from 'node:crypto';
import type { EmulatorContext, ServiceName } from './context.js';
import { AwsError, isRecord } from './errors.js';
import {
  optionalQueryInteger,
  optionalQueryString,
  optionalQueryStringList,
  optionalQueryStructList,
  page,
  requiredQueryString,
  VALIDATION_ERROR,
  type QueryInput,
  type QueryService,
  type QueryServiceName,
} from './query.js';
import type {
  EmulatorState,
  IamPolicyDocument,
  IamPolicyStatement,
  IamPrincipalRecord,
  IamState,
} from './state.js';

/** The caller when a credential names no principal: a GitHub Actions OIDC session of role `deploy`. */
export function defaultPrincipalArn(accountId: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/deploy/GitHubActions`;
}

/** What a call needs: `action` on `resource`, with the request context IAM conditions see. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: Record<string, string[]>;
}

export type Decision = 'allowed' | 'explicitDeny' | 'implicitDeny';

export interface SeedIamEntity {
  name: string;
  /** Default `/`. */
  path?: string;
  /** Inline identity policies; a document's `Id` names it (default `<name>-policy-<n>`). */
  policies?: IamPolicyDocument[];
  permissionsBoundary?: IamPolicyDocument;
  /** Roles only; default: trusts the account. */
  assumeRolePolicyDocument?: IamPolicyDocument;
}

export interface SeedIam {
  roles?: SeedIamEntity[];
  users?: SeedIamEntity[];
}

const ALLOW_EVERYTHING: IamPolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'EmulatorDefault', Effect: 'Allow', Action: '*', Resource: '*' }],
};

const CONDITION_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'Bool',
  'Null',
]);

type Principal =
  | { kind: 'role'; arn: string; accountId: string; name: string }
  | { kind: 'user'; arn: string; accountId: string; name: string; path: string }
  | { kind: 'root'; arn: string; accountId: string };

/** The IAM entity behind a caller ARN (an assumed-role session, a user, or the account root). */
export function parsePrincipalArn(arn: string): Principal | undefined {
  const assumed = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]{2,64}$/.exec(arn);
  if (assumed) return { kind: 'role', arn, accountId: assumed[1] as string, name: assumed[2] as string };
  const user = /^arn:aws:iam::(\d{12}):user(\/(?:[\w+=,.@/-]*\/)?)([\w+=,.@-]{1,64})$/.exec(arn);
  if (user) {
    const [, accountId, path, name] = user as unknown as [string, string, string, string];
    return { kind: 'user', arn, accountId, name, path };
  }
  const root = /^arn:aws:iam::(\d{12}):root$/.exec(arn);
  if (root) return { kind: 'root', arn, accountId: root[1] as string };
  return undefined;
}

// ---------------------------------------------------------------- policy evaluation (pure)

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function statementsOf(document: IamPolicyDocument): IamPolicyStatement[] {
  return asList(document.Statement);
}

/** IAM's wildcards: `*` any run of characters, `?` one character. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) =>
    c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`,
  );
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function matchesAction(statement: IamPolicyStatement, action: string): boolean {
  // Action names are case-insensitive.
  if (statement.NotAction !== undefined)
    return !asList(statement.NotAction).some((p) => wildcardMatch(p, action, true));
  return asList(statement.Action).some((p) => wildcardMatch(p, action, true));
}

function matchesResource(statement: IamPolicyStatement, resource: string): boolean {
  if (statement.NotResource !== undefined)
    return !asList(statement.NotResource).some((p) => wildcardMatch(p, resource));
  return asList(statement.Resource).some((p) => wildcardMatch(p, resource));
}

/** Condition keys are case-insensitive; the context is keyed in lower case. */
export type RequestContext = ReadonlyMap<string, readonly string[]>;

export function requestContext(entries: Record<string, readonly string[]>): RequestContext {
  return new Map(Object.entries(entries).map(([k, v]) => [k.toLowerCase(), v]));
}

function matchesValue(operator: string, policyValue: string, requestValue: string): boolean {
  switch (operator) {
    case 'StringEquals':
      return policyValue === requestValue;
    case 'StringEqualsIgnoreCase':
      return policyValue.toLowerCase() === requestValue.toLowerCase();
    case 'StringLike':
    case 'ArnEquals':
    case 'ArnLike':
      return wildcardMatch(policyValue, requestValue);
    case 'Bool':
      return policyValue.toLowerCase() === requestValue.toLowerCase();
    default:
      return false;
  }
}

/** `StringNotEquals` → `StringEquals`, negated. */
function positiveOf(operator: string): { base: string; negated: boolean } {
  const negated = /^(String|Arn)Not/.test(operator);
  return { base: negated ? operator.replace('Not', '') : operator, negated };
}

/** Whether the statement's Condition holds, and the context keys it needed but did not get. */
function evaluateCondition(
  condition: IamPolicyStatement['Condition'],
  context: RequestContext,
): { holds: boolean; missing: string[] } {
  const missing: string[] = [];
  let holds = true;
  for (const [qualified, keys] of Object.entries(condition ?? {})) {
    const setOperator = /^(ForAnyValue|ForAllValues):/.exec(qualified)?.[1];
    let operator = setOperator ? qualified.slice(setOperator.length + 1) : qualified;
    const ifExists = operator.endsWith('IfExists');
    if (ifExists) operator = operator.slice(0, -'IfExists'.length);
    for (const [key, policyValues] of Object.entries(keys)) {
      const values = asList(policyValues).map(String);
      const requestValues = context.get(key.toLowerCase());
      if (operator === 'Null') {
        const wantsAbsent = values.some((v) => v.toLowerCase() === 'true');
        if ((requestValues === undefined) !== wantsAbsent) holds = false;
        continue;
      }
      if (requestValues === undefined) {
        if (ifExists) continue;
        missing.push(key);
        // A negated operator holds for a key the request does not carry.
        if (!positiveOf(operator).negated && setOperator !== 'ForAllValues') holds = false;
        continue;
      }
      const { base, negated } = positiveOf(operator);
      const hit = (v: string) => values.some((p) => matchesValue(base, p, v)) !== negated;
      const ok =
        setOperator === 'ForAllValues'
          ? requestValues.every(hit)
          : setOperator === 'ForAnyValue' || !negated
            ? requestValues.some(hit)
            : requestValues.every(hit);
      if (!ok) holds = false;
    }
  }
  return { holds, missing };
}

/** A policy as a simulation reports it: where it came from, and each statement's place in its text. */
export interface PolicySource {
  id: string;
  type: string;
  document: IamPolicyDocument;
}

/** 1-based, in the policy's text. */
export interface Position {
  Line: number;
  Column: number;
}

export interface MatchedStatement {
  SourcePolicyId: string;
  SourcePolicyType: string;
  StartPosition: Position;
  EndPosition: Position;
}

interface PolicySetResult {
  decision: Decision;
  matched: MatchedStatement[];
  missing: string[];
}

/** Line/column (1-based) of each statement in the document as IAM shows it (two-space JSON). */
export function statementPositions(document: IamPolicyDocument): [Position, Position][] {
  const text = JSON.stringify(document, null, 2);
  const indent = Array.isArray(document.Statement) ? '    ' : '  ';
  const position = (index: number): Position => {
    const before = text.slice(0, index).split('\n');
    return { Line: before.length, Column: (before.at(-1) as string).length + 1 };
  };
  let from = 0;
  return statementsOf(document).map((statement): [Position, Position] => {
    const rendered = JSON.stringify(statement, null, 2).replace(/\n/g, `\n${indent}`);
    const start = text.indexOf(rendered, from);
    from = start + rendered.length;
    return [position(start), position(from - 1)];
  });
}

function evaluatePolicySet(
  sources: readonly PolicySource[],
  request: AuthorizationRequest,
  context: RequestContext,
): PolicySetResult {
  const allows: MatchedStatement[] = [];
  const denies: MatchedStatement[] = [];
  const missing = new Set<string>();
  for (const source of sources) {
    const positions = statementPositions(source.document);
    statementsOf(source.document).forEach((statement, i) => {
      if (!matchesAction(statement, request.action) || !matchesResource(statement, request.resource)) return;
      const condition = evaluateCondition(statement.Condition, context);
      condition.missing.forEach((k) => missing.add(k));
      if (!condition.holds) return;
      const [start, end] = positions[i] as [Position, Position];
      const matched = {
        SourcePolicyId: source.id,
        SourcePolicyType: source.type,
        StartPosition: start,
        EndPosition: end,
      };
      (statement.Effect === 'Deny' ? denies : allows).push(matched);
    });
  }
  if (denies.length > 0) return { decision: 'explicitDeny', matched: denies, missing: [...missing] };
  if (allows.length > 0) return { decision: 'allowed', matched: allows, missing: [...missing] };
  return { decision: 'implicitDeny', matched: [], missing: [...missing] };
}

export interface Evaluation {
  decision: Decision;
  matched: MatchedStatement[];
  missing: string[];
  /** Set when a permissions boundary applies. */
  allowedByBoundary?: boolean;
  /** What decided a denial: the identity policies or the boundary. */
  deniedBy?: 'identity' | 'boundary';
}

/** IAM's evaluation within one account: identity policies, capped by the permissions boundary. */
export function evaluate(
  identity: readonly PolicySource[],
  boundary: PolicySource | undefined,
  request: AuthorizationRequest,
  context: RequestContext,
): Evaluation {
  const own = evaluatePolicySet(identity, request, context);
  const capped = boundary ? evaluatePolicySet([boundary], request, context) : undefined;
  const missing = [...new Set([...own.missing, ...(capped?.missing ?? [])])];
  const boundaryDetail = capped ? { allowedByBoundary: capped.decision === 'allowed' } : {};
  if (own.decision === 'explicitDeny') return { ...own, missing, ...boundaryDetail, deniedBy: 'identity' };
  if (capped?.decision === 'explicitDeny') {
    return {
      decision: 'explicitDeny',
      matched: capped.matched,
      missing,
      ...boundaryDetail,
      deniedBy: 'boundary',
    };
  }
  if (own.decision === 'allowed' && capped && capped.decision !== 'allowed') {
    return { decision: 'implicitDeny', matched: [], missing, ...boundaryDetail, deniedBy: 'boundary' };
  }
  return {
    ...own,
    missing,
    ...boundaryDetail,
    ...(own.decision === 'allowed' ? {} : { deniedBy: 'identity' as const }),
  };
}

/** Refuses a document IAM would not store: MalformedPolicyDocument, naming what is wrong. */
export function validatePolicyDocument(document: unknown, where: string): IamPolicyDocument {
  const malformed = (what: string) => new AwsError('MalformedPolicyDocument', `${where}: ${what}`);
  if (!isRecord(document)) throw malformed('the policy must be a JSON object with a Statement.');
  const statements = document.Statement;
  if (statements === undefined) throw malformed('Missing required field Statement.');
  asList(statements as unknown).forEach((statement, i) => {
    const at = `Statement[${i}]`;
    if (!isRecord(statement)) throw malformed(`${at} must be an object.`);
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
      throw malformed(`${at}: Effect must be Allow or Deny.`);
    }
    for (const [a, b] of [
      ['Action', 'NotAction'],
      ['Resource', 'NotResource'],
    ] as const) {
      if ((statement[a] === undefined) === (statement[b] === undefined)) {
        throw malformed(`${at} needs exactly one of ${a} and ${b}.`);
      }
      const list = asList(statement[a] ?? statement[b]);
      if (list.length === 0 || list.some((v) => typeof v !== 'string')) {
        throw malformed(
          `${at}: ${statement[a] !== undefined ? a : b} must be a string or a list of strings.`,
        );
      }
    }
    if (statement.Condition !== undefined) {
      if (!isRecord(statement.Condition)) throw malformed(`${at}: Condition must be an object.`);
      for (const [qualified, keys] of Object.entries(statement.Condition)) {
        const operator = qualified.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
        if (!CONDITION_OPERATORS.has(operator)) {
          throw malformed(
            `${at}: condition operator ${qualified} is not supported here (${[...CONDITION_OPERATORS].join(', ')}, with IfExists, ForAnyValue:, ForAllValues:).`,
          );
        }
        if (!isRecord(keys)) throw malformed(`${at}: Condition.${qualified} must map keys to values.`);
      }
    }
  });
  return document as unknown as IamPolicyDocument;
}

// ---------------------------------------------------------------- which calls need what

function str(input: unknown, member: string): string | undefined {
  const value = isRecord(input) ? input[member] : undefined;
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strings(input: unknown, member: string): string[] {
  const value = isRecord(input) ? input[member] : undefined;
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function hasItems(input: unknown, member: string): boolean {
  const value = isRecord(input) ? input[member] : undefined;
  return Array.isArray(value) && value.length > 0;
}

/** The last path segment of an ARN, or the name itself. */
function nameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').at(-1) as string) : nameOrArn;
}

/**
 * The actions and resources a call is authorized on (Service Authorization Reference): the
 * operation's own action on its resource, plus the iam:PassRole and tag-on-create checks the
 * service makes. Undefined: the call needs no permission (sts:GetCallerIdentity), or its
 * resource is unknown (a deployment id that does not exist) and the operation refuses it anyway.
 */
export function authorizationFor(
  service: ServiceName | QueryServiceName,
  operation: string,
  input: unknown,
  ctx: EmulatorContext,
  world: EmulatorState,
): AuthorizationRequest[] | undefined {
  const arn = (svc: string, resource: string) => `arn:aws:${svc}:${ctx.region}:${ctx.accountId}:${resource}`;
  switch (service) {
    case 'sts':
      return undefined;
    case 'ecs':
      return ecsAuthorization(operation, input, arn, world);
    case 'ecr': {
      const action = `ecr:${operation}`;
      const repository = str(input, 'repositoryName');
      if (operation === 'GetAuthorizationToken') return [{ action, resource: '*' }];
      if (/^(TagResource|UntagResource|ListTagsForResource)$/.test(operation)) {
        return [{ action, resource: str(input, 'resourceArn') ?? '*' }];
      }
      if (operation === 'DescribeRepositories') {
        const names = strings(input, 'repositoryNames');
        return (names.length > 0 ? names : ['*']).map((n) => ({
          action,
          resource: arn('ecr', `repository/${n}`),
        }));
      }
      return [{ action, resource: arn('ecr', `repository/${repository ?? '*'}`) }];
    }
    case 'codedeploy':
      return codeDeployAuthorization(operation, input, arn, world);
    case 'iam': {
      const action = `iam:${operation}`;
      if (operation === 'GetRole') {
        const name = str(input, 'RoleName') ?? '*';
        const role = world.iam.roles.get(name);
        return [{ action, resource: role?.arn ?? `arn:aws:iam::${ctx.accountId}:role/${name}` }];
      }
      return [{ action, resource: str(input, 'PolicySourceArn') ?? '*' }];
    }
    case 'elbv2':
      return elbv2Authorization(operation, input, arn);
    case 'logs':
      return logsAuthorization(operation, input, arn);
  }
}

/**
 * CloudWatch Logs: operations on events of one stream are authorized on the stream's ARN, the
 * rest on the group's ARN with the trailing `:*` that IAM policies use for log groups (so a
 * policy resource `log-group:NAME:*` allows both); DescribeLogGroups on `log-group:*`.
 */
function logsAuthorization(operation: string, input: unknown, arn: ArnOf): AuthorizationRequest[] {
  const action = `logs:${operation}`;
  const ref = str(input, 'logGroupName') ?? str(input, 'logGroupIdentifier') ?? '*';
  const group = ref.startsWith('arn:') ? ref.replace(/:\*$/, '') : arn('logs', `log-group:${ref}`);
  if (operation === 'DescribeLogGroups') return [{ action, resource: arn('logs', 'log-group:*') }];
  if (operation === 'GetLogEvents' || operation === 'PutLogEvents') {
    return [{ action, resource: `${group}:log-stream:${str(input, 'logStreamName') ?? '*'}` }];
  }
  return [{ action, resource: `${group}:*` }];
}

type ArnOf = (service: string, resource: string) => string;

function ecsAuthorization(
  operation: string,
  input: unknown,
  arn: ArnOf,
  world: EmulatorState,
): AuthorizationRequest[] {
  const action = `ecs:${operation}`;
  const cluster = nameOf(str(input, 'cluster') ?? 'default');
  const clusterContext = { 'ecs:cluster': [arn('ecs', `cluster/${cluster}`)] };
  const service = (s: string) => (s.startsWith('arn:') ? s : arn('ecs', `service/${cluster}/${s}`));
  switch (operation) {
    case 'RegisterTaskDefinition': {
      const requests: AuthorizationRequest[] = [{ action, resource: '*' }];
      for (const role of [str(input, 'taskRoleArn'), str(input, 'executionRoleArn')]) {
        if (role) {
          requests.push({
            action: 'iam:PassRole',
            resource: role,
            context: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com'] },
          });
        }
      }
      const family = str(input, 'family');
      if (hasItems(input, 'tags') && family) {
        const revision = (world.ecs.taskDefinitions.get(family)?.length ?? 0) + 1;
        requests.push({
          action: 'ecs:TagResource',
          resource: arn('ecs', `task-definition/${family}:${revision}`),
          context: { 'ecs:CreateAction': ['RegisterTaskDefinition'] },
        });
      }
      return requests;
    }
    case 'CreateCluster':
    case 'ListClusters':
    case 'DescribeTaskDefinition':
    case 'DeregisterTaskDefinition':
    case 'ListTaskDefinitions':
      return [{ action, resource: '*' }];
    case 'ListServices':
    case 'ListTasks':
      return [{ action, resource: '*', context: clusterContext }];
    case 'DescribeClusters': {
      const clusters = strings(input, 'clusters');
      return (clusters.length > 0 ? clusters : ['default']).map((c) => ({
        action,
        resource: c.startsWith('arn:') ? c : arn('ecs', `cluster/${c}`),
      }));
    }
    case 'DeleteTaskDefinitions':
      return strings(input, 'taskDefinitions').map((td) => ({
        action,
        resource: td.startsWith('arn:') ? td : arn('ecs', `task-definition/${td}`),
      }));
    case 'CreateService': {
      const resource = service(str(input, 'serviceName') ?? '*');
      const requests: AuthorizationRequest[] = [
        { action, resource, context: clusterContext },
        ...nativeRolesPassed(input),
      ];
      if (hasItems(input, 'tags')) {
        requests.push({
          action: 'ecs:TagResource',
          resource,
          context: { 'ecs:CreateAction': ['CreateService'] },
        });
      }
      return requests;
    }
    case 'UpdateService':
      return [
        { action, resource: service(str(input, 'service') ?? '*'), context: clusterContext },
        ...nativeRolesPassed(input),
      ];
    case 'DeleteService':
      return [{ action, resource: service(str(input, 'service') ?? '*'), context: clusterContext }];
    case 'ListServiceDeployments':
      return [{ action, resource: service(str(input, 'service') ?? '*'), context: clusterContext }];
    case 'DescribeServiceDeployments':
      return strings(input, 'serviceDeploymentArns').map((resource) => ({ action, resource }));
    case 'DescribeServiceRevisions':
      return strings(input, 'serviceRevisionArns').map((resource) => ({ action, resource }));
    case 'StopServiceDeployment':
    case 'ContinueServiceDeployment':
      return [{ action, resource: str(input, 'serviceDeploymentArn') ?? '*' }];
    case 'DescribeServices':
      return strings(input, 'services').map((s) => ({
        action,
        resource: service(s),
        context: clusterContext,
      }));
    case 'RunTask':
      return runTaskAuthorization(input, arn, world, cluster, clusterContext);
    case 'StopTask': {
      const t = str(input, 'task') ?? '*';
      return [
        {
          action,
          resource: t.startsWith('arn:') ? t : arn('ecs', `task/${cluster}/${t}`),
          context: clusterContext,
        },
      ];
    }
    case 'DescribeTasks':
      return strings(input, 'tasks').map((t) => ({
        action,
        resource: t.startsWith('arn:') ? t : arn('ecs', `task/${cluster}/${t}`),
        context: clusterContext,
      }));
    case 'TagResource':
    case 'UntagResource':
    case 'ListTagsForResource':
      return [{ action, resource: str(input, 'resourceArn') ?? '*' }];
    default:
      return [{ action, resource: '*' }];
  }
}

/**
 * RunTask: ecs:RunTask on the task definition (a family alone means its latest ACTIVE revision),
 * iam:PassRole for roles the overrides pass, and ecs:TagResource on the new tasks when tagged.
 */
function runTaskAuthorization(
  input: unknown,
  arn: ArnOf,
  world: EmulatorState,
  cluster: string,
  clusterContext: Record<string, string[]>,
): AuthorizationRequest[] {
  const ref = str(input, 'taskDefinition') ?? '*';
  let resource = ref.startsWith('arn:') ? ref : arn('ecs', `task-definition/${ref}`);
  if (/^[\w-]+$/.test(ref)) {
    const latest = [...(world.ecs.taskDefinitions.get(ref) ?? [])]
      .reverse()
      .find((r) => r.taskDefinition.status === 'ACTIVE');
    resource = latest?.taskDefinition.taskDefinitionArn ?? `${resource}:*`;
  }
  const requests: AuthorizationRequest[] = [{ action: 'ecs:RunTask', resource, context: clusterContext }];
  const overrides = isRecord(input) && isRecord(input.overrides) ? input.overrides : {};
  for (const role of [str(overrides, 'taskRoleArn'), str(overrides, 'executionRoleArn')]) {
    if (role) {
      requests.push({
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': ['ecs-tasks.amazonaws.com'] },
      });
    }
  }
  if (hasItems(input, 'tags')) {
    requests.push({
      action: 'ecs:TagResource',
      resource: arn('ecs', `task/${cluster}/*`),
      context: { 'ecs:CreateAction': ['RunTask'] },
    });
  }
  return requests;
}

/**
 * ECS-native deployments: ECS acts on the load balancer with the infrastructure role
 * (`loadBalancers[].advancedConfiguration.roleArn`) and invokes hook Lambdas with each hook's
 * `roleArn`; the caller passes both roles to ECS.
 */
function nativeRolesPassed(input: unknown): AuthorizationRequest[] {
  const lbs = isRecord(input) && Array.isArray(input.loadBalancers) ? input.loadBalancers : [];
  const config =
    isRecord(input) && isRecord(input.deploymentConfiguration) ? input.deploymentConfiguration : {};
  const hooks = Array.isArray(config.lifecycleHooks) ? config.lifecycleHooks : [];
  const roles = [
    ...lbs.map((lb) => (isRecord(lb) ? str(lb.advancedConfiguration, 'roleArn') : undefined)),
    ...hooks.map((h) => str(h, 'roleArn')),
  ].filter((r): r is string => r !== undefined);
  return [...new Set(roles)].map((resource) => ({
    action: 'iam:PassRole',
    resource,
    context: { 'iam:PassedToService': ['ecs.amazonaws.com'] },
  }));
}

function codeDeployAuthorization(
  operation: string,
  input: unknown,
  arn: ArnOf,
  world: EmulatorState,
): AuthorizationRequest[] | undefined {
  const action = `codedeploy:${operation}`;
  const application = str(input, 'applicationName');
  const group = (app: string, name: string) => arn('codedeploy', `deploymentgroup:${app}/${name}`);
  const groupOfDeployment = (id: string | undefined) => {
    const deployment = id === undefined ? undefined : world.codedeploy.deployments.get(id);
    return deployment && group(deployment.applicationName, deployment.deploymentGroupName);
  };
  switch (operation) {
    case 'ListApplications':
    case 'ListDeploymentConfigs':
      return [{ action, resource: '*' }];
    case 'CreateApplication':
    case 'GetApplication':
    case 'ListDeploymentGroups':
      return [{ action, resource: arn('codedeploy', `application:${application ?? '*'}`) }];
    case 'GetDeploymentConfig':
      return [
        {
          action,
          resource: arn('codedeploy', `deploymentconfig:${str(input, 'deploymentConfigName') ?? '*'}`),
        },
      ];
    case 'CreateDeploymentGroup': {
      const resource = group(application ?? '*', str(input, 'deploymentGroupName') ?? '*');
      const role = str(input, 'serviceRoleArn');
      return [
        { action, resource },
        ...(role
          ? [
              {
                action: 'iam:PassRole',
                resource: role,
                context: { 'iam:PassedToService': ['codedeploy.amazonaws.com'] },
              },
            ]
          : []),
      ];
    }
    case 'GetDeploymentGroup':
    case 'CreateDeployment':
      return [{ action, resource: group(application ?? '*', str(input, 'deploymentGroupName') ?? '*') }];
    case 'ListDeployments': {
      const name = str(input, 'deploymentGroupName');
      return [
        {
          action,
          resource: application && name ? group(application, name) : arn('codedeploy', 'deploymentgroup:*'),
        },
      ];
    }
    case 'BatchGetDeployments': {
      const groups = strings(input, 'deploymentIds').map(groupOfDeployment);
      if (groups.some((g) => g === undefined)) return undefined;
      return [...new Set(groups as string[])].map((resource) => ({ action, resource }));
    }
    case 'GetDeployment':
    case 'StopDeployment':
    case 'ContinueDeployment':
    case 'ListDeploymentTargets':
    case 'GetDeploymentTarget':
    case 'BatchGetDeploymentTargets': {
      const resource = groupOfDeployment(str(input, 'deploymentId'));
      return resource === undefined ? undefined : [{ action, resource }];
    }
    default:
      return [{ action, resource: '*' }];
  }
}

function elbv2Authorization(operation: string, input: unknown, arn: ArnOf): AuthorizationRequest[] {
  const action = `elasticloadbalancing:${operation}`;
  const tagOnCreate = (resource: string): AuthorizationRequest[] =>
    isRecord(input) && Array.isArray(input.Tags) && input.Tags.length > 0
      ? [
          {
            action: 'elasticloadbalancing:AddTags',
            resource,
            context: { 'elasticloadbalancing:CreateAction': [operation] },
          },
        ]
      : [];
  const memberArns = (member: string, field?: string) => {
    const value = isRecord(input) ? input[member] : undefined;
    if (!Array.isArray(value)) return [];
    return value
      .map((v) => (field === undefined ? v : str(v, field)))
      .filter((v): v is string => typeof v === 'string' && v !== '');
  };
  if (operation.startsWith('Describe')) return [{ action, resource: '*' }];
  switch (operation) {
    case 'CreateTargetGroup': {
      const resource = arn('elasticloadbalancing', `targetgroup/${str(input, 'Name') ?? '*'}/*`);
      return [{ action, resource }, ...tagOnCreate(resource)];
    }
    case 'CreateRule': {
      const listener = str(input, 'ListenerArn') ?? '*';
      return [
        { action, resource: listener },
        ...tagOnCreate(listener.replace(':listener/', ':listener-rule/') + '/*'),
      ];
    }
    case 'DeleteTargetGroup':
    case 'ModifyTargetGroupAttributes':
    case 'RegisterTargets':
    case 'DeregisterTargets':
      return [{ action, resource: str(input, 'TargetGroupArn') ?? '*' }];
    case 'ModifyRule':
    case 'DeleteRule':
      return [{ action, resource: str(input, 'RuleArn') ?? '*' }];
    case 'SetRulePriorities':
      return memberArns('RulePriorities', 'RuleArn').map((resource) => ({ action, resource }));
    case 'AddTags':
    case 'RemoveTags':
      return memberArns('ResourceArns').map((resource) => ({ action, resource }));
    default:
      return [{ action, resource: '*' }];
  }
}

// ---------------------------------------------------------------- the service

/** Deterministic unique ids in IAM's format (`AROA` / `AIDA` and 17 characters), from the ARN. */
function uniqueId(prefix: string, arn: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha256').update(arn).digest();
  let id = prefix;
  for (let i = 0; i < 17; i++) id += alphabet[(digest[i] as number) % alphabet.length];
  return id;
}

const SIMULATION_PARAMETERS_NOT_EMULATED = [
  'ResourcePolicy',
  'ResourceOwner',
  'CallerArn',
  'ResourceHandlingOption',
];

export class IamEmulator implements QueryService {
  readonly service = 'iam';
  readonly signingName = 'iam';
  readonly version = '2010-05-08';
  readonly xmlns = 'https://iam.amazonaws.com/doc/2010-05-08/';
  readonly operations = {
    GetRole: (input: QueryInput) => this.getRole(input),
    SimulatePrincipalPolicy: (input: QueryInput) => this.simulatePrincipalPolicy(input),
  };
  /** The allow-everything entities made for the credentials, until a seed brings its own. */
  private defaults = new Set<IamPrincipalRecord>();
  /** Access key id → the caller. */
  private readonly callers = new Map<string, Principal>();
  private readonly defaultCaller: Principal;

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly state: IamState,
    /** Access key id → the caller's ARN; keys not listed sign as `defaultPrincipalArn`. */
    principals: ReadonlyMap<string, string>,
    private readonly world: EmulatorState,
  ) {
    this.defaultCaller = parsePrincipalArn(defaultPrincipalArn(ctx.accountId)) as Principal;
    for (const [accessKeyId, arn] of principals) {
      const principal = parsePrincipalArn(arn);
      if (principal === undefined) {
        throw new RangeError(
          `credentials principalArn '${arn}' is not an assumed-role session (arn:aws:sts::<account>:assumed-role/<role>/<session>), an IAM user (arn:aws:iam::<account>:user/<name>) or the account root`,
        );
      }
      this.callers.set(accessKeyId, principal);
    }
    for (const principal of [this.defaultCaller, ...this.callers.values()]) {
      if (principal.kind === 'root' || this.find(principal) !== undefined) continue;
      const record = this.put(principal.kind, {
        name: principal.name,
        ...(principal.kind === 'user' && { path: principal.path }),
        policies: [ALLOW_EVERYTHING],
      });
      this.defaults.add(record);
    }
  }

  private callerOf(accessKeyId: string): Principal {
    return this.callers.get(accessKeyId) ?? this.defaultCaller;
  }

  /**
   * What sts:GetCallerIdentity answers for a key: for a role session the role's id and the
   * session name, for a user the user's id, for the root user the account.
   */
  callerIdentity(accessKeyId: string): { UserId: string; Account: string; Arn: string } {
    const principal = this.callerOf(accessKeyId);
    const account = principal.accountId;
    if (principal.kind === 'root') return { UserId: account, Account: account, Arn: principal.arn };
    const entityArn =
      principal.kind === 'role' ? `arn:aws:iam::${account}:role/${principal.name}` : principal.arn;
    const id = this.find(principal)?.id ?? uniqueId(principal.kind === 'role' ? 'AROA' : 'AIDA', entityArn);
    const session = principal.arn.split('/').at(-1) as string;
    return {
      UserId: principal.kind === 'role' ? `${id}:${session}` : id,
      Account: account,
      Arn: principal.arn,
    };
  }

  /** Adds the seeded roles and users; the first seed with IAM replaces the allow-everything defaults. */
  seed(seed: SeedIam, where: (what: string, step: () => void) => void): void {
    for (const record of this.defaults) {
      (record.kind === 'role' ? this.state.roles : this.state.users).delete(record.name);
    }
    this.defaults.clear();
    for (const [kind, entities] of [
      ['role', seed.roles ?? []],
      ['user', seed.users ?? []],
    ] as const) {
      for (const entity of entities) where(`iam.${kind}s '${entity.name}'`, () => this.put(kind, entity));
    }
  }

  private put(kind: 'role' | 'user', entity: SeedIamEntity): IamPrincipalRecord {
    const map = kind === 'role' ? this.state.roles : this.state.users;
    const Kind = kind === 'role' ? 'Role' : 'User';
    if (!/^[\w+=,.@-]{1,64}$/.test(entity.name)) {
      throw new AwsError(
        VALIDATION_ERROR,
        `${Kind} name '${entity.name}' must be 1-64 characters of [\\w+=,.@-].`,
      );
    }
    if (map.has(entity.name)) {
      throw new AwsError('EntityAlreadyExists', `${Kind} with name ${entity.name} already exists.`, 409);
    }
    const path = entity.path ?? '/';
    if (!/^\/(?:[\x21-\x7e]*\/)?$/.test(path)) {
      throw new AwsError(VALIDATION_ERROR, `Path '${path}' must begin and end with '/'.`);
    }
    const arn = `arn:aws:iam::${this.ctx.accountId}:${kind}${path}${entity.name}`;
    const policies = (entity.policies ?? []).map((document, i) => ({
      name:
        typeof document.Id === 'string' && document.Id !== ''
          ? document.Id
          : `${entity.name}-policy-${i + 1}`,
      document: validatePolicyDocument(document, `policies[${i}]`),
    }));
    const record: IamPrincipalRecord = {
      kind,
      name: entity.name,
      path,
      arn,
      id: uniqueId(kind === 'role' ? 'AROA' : 'AIDA', arn),
      createDate: new Date(this.ctx.scheduler.now()),
      policies,
      ...(entity.permissionsBoundary && {
        permissionsBoundary: {
          arn: `arn:aws:iam::${this.ctx.accountId}:policy/${entity.name}-boundary`,
          document: validatePolicyDocument(entity.permissionsBoundary, 'permissionsBoundary'),
        },
      }),
      ...(kind === 'role' && {
        assumeRolePolicyDocument: entity.assumeRolePolicyDocument ?? {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: `arn:aws:iam::${this.ctx.accountId}:root` },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      }),
    };
    map.set(entity.name, record);
    return record;
  }

  private find(principal: Principal): IamPrincipalRecord | undefined {
    if (principal.kind === 'root' || principal.accountId !== this.ctx.accountId) return undefined;
    const record = (principal.kind === 'role' ? this.state.roles : this.state.users).get(principal.name);
    // A user ARN carries the path; a role session does not.
    return principal.kind === 'user' && record?.arn !== principal.arn ? undefined : record;
  }

  private sources(record: IamPrincipalRecord): PolicySource[] {
    return record.policies.map((p) => ({ id: p.name, type: record.kind, document: p.document }));
  }

  /**
   * Throws AccessDenied (Query services) or AccessDeniedException (JSON services) unless the
   * caller's policies allow every action the call needs, with IAM's message.
   */
  authorize(
    accessKeyId: string,
    service: ServiceName | QueryServiceName,
    operation: string,
    input: unknown,
  ): void {
    const requests = authorizationFor(service, operation, input, this.ctx, this.world);
    if (requests === undefined || requests.length === 0) return;
    const principal = this.callerOf(accessKeyId);
    if (principal.kind === 'root') return;
    const callerArn = principal.arn;
    const record = this.find(principal);
    const identity = record ? this.sources(record) : [];
    const boundary = record?.permissionsBoundary && {
      id: record.permissionsBoundary.arn,
      type: 'permissions boundary',
      document: record.permissionsBoundary.document,
    };
    for (const request of requests) {
      const context = requestContext({
        'aws:PrincipalArn': [record?.arn ?? callerArn],
        'aws:PrincipalAccount': [principal.accountId],
        'aws:PrincipalType': [principal.kind === 'role' ? 'AssumedRole' : 'User'],
        'aws:RequestedRegion': [this.ctx.region],
        ...request.context,
      });
      const result = evaluate(identity, boundary, request, context);
      if (result.decision === 'allowed') continue;
      const why =
        result.decision === 'explicitDeny'
          ? `with an explicit deny in ${result.deniedBy === 'boundary' ? 'a permissions boundary' : 'an identity-based policy'}`
          : `because no ${result.deniedBy === 'boundary' ? 'permissions boundary' : 'identity-based policy'} allows the ${request.action} action`;
      const message = `User: ${callerArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
      const json = service === 'ecs' || service === 'ecr' || service === 'codedeploy' || service === 'logs';
      throw json
        ? new AwsError('AccessDeniedException', message, 400)
        : new AwsError('AccessDenied', message, 403);
    }
  }

  private roleNamed(name: string): IamPrincipalRecord {
    const role = this.state.roles.get(name);
    if (!role) throw new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`, 404);
    return role;
  }

  private getRole(input: QueryInput) {
    const name = requiredQueryString(input, 'RoleName');
    if (!/^[\w+=,.@-]{1,64}$/.test(name)) {
      throw new AwsError(
        VALIDATION_ERROR,
        `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`,
      );
    }
    const role = this.roleNamed(name);
    return {
      Role: {
        Path: role.path,
        RoleName: role.name,
        RoleId: role.id,
        Arn: role.arn,
        CreateDate: role.createDate,
        AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(role.assumeRolePolicyDocument)),
        MaxSessionDuration: 3600,
        ...(role.permissionsBoundary && {
          PermissionsBoundary: {
            PermissionsBoundaryType: 'PermissionsBoundaryPolicy',
            PermissionsBoundaryArn: role.permissionsBoundary.arn,
          },
        }),
        RoleLastUsed: {},
      },
    };
  }

  private simulatePrincipalPolicy(input: QueryInput) {
    for (const name of SIMULATION_PARAMETERS_NOT_EMULATED) {
      if (input[name] !== undefined) {
        throw new AwsError(
          'InvalidInput',
          `${name} is not supported by this emulator: it simulates identity policies and permissions boundaries only, not resource-based policies.`,
        );
      }
    }
    const sourceArn = requiredQueryString(input, 'PolicySourceArn');
    const actions = optionalQueryStringList(input, 'ActionNames');
    if (actions === undefined || actions.length === 0) {
      throw new AwsError(
        VALIDATION_ERROR,
        "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null",
      );
    }
    const badAction = actions.find((a) => !/^[\w-]+:[\w*?]+$/.test(a));
    if (badAction !== undefined) {
      throw new AwsError(
        'InvalidInput',
        `Action '${badAction}' is not valid: an action is <service>:<Action>, e.g. ecs:RegisterTaskDefinition.`,
      );
    }
    const requested = optionalQueryStringList(input, 'ResourceArns') ?? [];
    const resources = requested.length > 0 ? requested : ['*'];
    const maxItems = optionalQueryInteger(input, 'MaxItems', { min: 1, max: 1000 }) ?? 100;

    const entity = this.policySource(sourceArn);
    const extra = (optionalQueryStringList(input, 'PolicyInputList') ?? []).map((text, i) => ({
      id: `PolicyInputList.${i + 1}`,
      type: 'IAM Policy',
      document: parsePolicy(text, `PolicyInputList.member.${i + 1}`),
    }));
    const boundaryInput = optionalQueryStringList(input, 'PermissionsBoundaryPolicyInputList') ?? [];
    const boundary: PolicySource | undefined =
      boundaryInput.length > 0
        ? {
            id: 'PermissionsBoundaryPolicyInputList.1',
            type: 'IAM Policy',
            document: parsePolicy(boundaryInput[0] as string, 'PermissionsBoundaryPolicyInputList.member.1'),
          }
        : entity.permissionsBoundary && {
            id: entity.permissionsBoundary.arn,
            type: 'permissions boundary',
            document: entity.permissionsBoundary.document,
          };
    const identity = [...this.sources(entity), ...extra];
    const context = requestContext(
      Object.fromEntries(
        (optionalQueryStructList(input, 'ContextEntries') ?? []).map((entry, i) => {
          const key = optionalQueryString(entry, 'ContextKeyName');
          if (!key) {
            throw new AwsError(
              VALIDATION_ERROR,
              `ContextEntries.member.${i + 1}.ContextKeyName must be given.`,
            );
          }
          return [key, optionalQueryStringList(entry, 'ContextKeyValues') ?? []];
        }),
      ),
    );

    const results = actions.map((action) => {
      const perResource = resources.map((resource) => ({
        resource,
        ...evaluate(identity, boundary, { action, resource }, context),
      }));
      const rank: Record<Decision, number> = { allowed: 0, implicitDeny: 1, explicitDeny: 2 };
      const worst = perResource.reduce((a, b) => (rank[b.decision] > rank[a.decision] ? b : a));
      const boundaryDetail = (allowed: boolean | undefined) =>
        allowed === undefined ? undefined : { AllowedByPermissionsBoundary: allowed };
      return {
        EvalActionName: action,
        EvalResourceName: resources.length === 1 ? resources[0] : '*',
        EvalDecision: worst.decision,
        MatchedStatements: [
          ...new Map(
            perResource
              .filter((r) => r.decision === worst.decision)
              .flatMap((r) => r.matched)
              .map((m) => [JSON.stringify(m), m]),
          ).values(),
        ],
        MissingContextValues: [...new Set(perResource.flatMap((r) => r.missing))],
        PermissionsBoundaryDecisionDetail: boundaryDetail(
          boundary && perResource.every((r) => r.allowedByBoundary === true),
        ),
        ResourceSpecificResults:
          requested.length > 0
            ? perResource.map((r) => ({
                EvalResourceName: r.resource,
                EvalResourceDecision: r.decision,
                MatchedStatements: r.matched,
                MissingContextValues: r.missing,
                PermissionsBoundaryDecisionDetail: boundaryDetail(r.allowedByBoundary),
              }))
            : undefined,
      };
    });
    const { items, nextMarker } = page(results, optionalQueryString(input, 'Marker'), maxItems);
    return { EvaluationResults: items, IsTruncated: nextMarker !== undefined, Marker: nextMarker };
  }

  /** The role or user a PolicySourceArn names. */
  private policySource(arn: string): IamPrincipalRecord {
    const match = /^arn:aws:iam::(\d{12}):(role|user|group)(\/(?:.*\/)?)?([^/]+)$/.exec(arn);
    if (!match)
      throw new AwsError(
        'InvalidInput',
        `Invalid ARN ${arn}: PolicySourceArn must be the ARN of an IAM user or role.`,
      );
    const [, account, kind, , name] = match as unknown as [
      string,
      string,
      string,
      string | undefined,
      string,
    ];
    if (kind === 'group') {
      throw new AwsError(
        'InvalidInput',
        `${arn} is a group; this emulator simulates the policies of users and roles.`,
      );
    }
    const record =
      account === this.ctx.accountId
        ? (kind === 'role' ? this.state.roles : this.state.users).get(name)
        : undefined;
    if (!record || record.arn !== arn) {
      throw new AwsError('NoSuchEntity', `The ${kind} with name ${name} cannot be found.`, 404);
    }
    return record;
  }
}

/**
 * A simulated document: SimulatePrincipalPolicy's model lists InvalidInput, not
 * MalformedPolicyDocument, for a document it cannot read.
 */
function parsePolicy(text: string, where: string): IamPolicyDocument {
  try {
    return validatePolicyDocument(JSON.parse(text) as unknown, where);
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new AwsError('InvalidInput', `${where}: the policy is not valid JSON.`);
    if (err instanceof AwsError && err.type === 'MalformedPolicyDocument') {
      throw new AwsError('InvalidInput', err.message, err.status);
    }
    throw err;
  }
}
