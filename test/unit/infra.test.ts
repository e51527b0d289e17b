import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse, parseDocument, type CollectionTag, type ScalarTag, type Tags } from 'yaml';
import { allActions, requiredActions, type PermissionNeeds } from '../../src/iam.js';

/**
 * The CloudFormation template in example-app/infra, checked the way CloudFormation would reject it
 * (references, conditions, dependencies) and against what the rest of the repository assumes: the
 * deploy role grants exactly the actions src/iam.ts says the action calls, and the task definition,
 * service and deployment group agree with example-app's task definition and appspec.
 */

type Json = Record<string, unknown>;

interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Properties?: Json;
}

interface Template {
  Parameters?: Record<string, Json>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown; Condition?: string; Description?: string }>;
}

/** Intrinsic functions that have a `!Name` short form standing for `{ 'Fn::Name': value }`. */
const FUNCTIONS = [
  'Base64',
  'Cidr',
  'Equals',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'Sub',
];

/** The short forms as `yaml` custom tags, each resolving to the long form CloudFormation reads. */
function cloudFormationTags(): Tags {
  const tags: Tags = [
    { tag: '!Ref', resolve: (value: string) => ({ Ref: value }) } satisfies ScalarTag,
    { tag: '!Condition', resolve: (value: string) => ({ Condition: value }) } satisfies ScalarTag,
  ];
  for (const name of FUNCTIONS) {
    const key = `Fn::${name}`;
    tags.push({
      tag: `!${name}`,
      // `!GetAtt Resource.Attribute` is the short form of `Fn::GetAtt: [Resource, Attribute]`.
      resolve: (value: string) => ({ [key]: name === 'GetAtt' ? splitAttribute(value) : value }),
    } satisfies ScalarTag);
    for (const collection of ['seq', 'map'] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (node) => ({ [key]: node.toJSON() }),
      } satisfies CollectionTag);
    }
  }
  return tags;
}

function splitAttribute(dotted: string): [string, string] {
  const dot = dotted.indexOf('.');
  return dot < 0 ? [dotted, ''] : [dotted.slice(0, dot), dotted.slice(dot + 1)];
}

/** Parses a template; unknown tags (a misspelt `!Reff`) are warnings to `yaml`, and fail here. */
function parseTemplate(text: string): Template {
  const doc = parseDocument(text, { customTags: cloudFormationTags() });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join('\n'));
  return doc.toJS() as Template;
}

const PSEUDO_PARAMETERS = [
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
];

/** Fn::GetAtt attributes of the resource types the template uses (from CloudFormation's reference). */
const ATTRIBUTES: Record<string, string[]> = {
  'AWS::CodeDeploy::Application': [],
  'AWS::CodeDeploy::DeploymentGroup': [],
  'AWS::EC2::SecurityGroup': ['GroupId', 'VpcId'],
  'AWS::EC2::SecurityGroupIngress': ['Id'],
  'AWS::ECR::Repository': ['Arn', 'RepositoryUri'],
  'AWS::ECS::Cluster': ['Arn'],
  'AWS::ECS::Service': ['Name', 'ServiceArn'],
  'AWS::ECS::TaskDefinition': ['TaskDefinitionArn'],
  'AWS::ElasticLoadBalancingV2::Listener': ['ListenerArn'],
  'AWS::ElasticLoadBalancingV2::ListenerRule': ['IsDefault', 'RuleArn'],
  'AWS::IAM::Policy': ['Id'],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': [
    'CanonicalHostedZoneID',
    'DNSName',
    'LoadBalancerArn',
    'LoadBalancerFullName',
    'LoadBalancerName',
    'SecurityGroups',
  ],
  'AWS::ElasticLoadBalancingV2::TargetGroup': [
    'LoadBalancerArns',
    'TargetGroupArn',
    'TargetGroupFullName',
    'TargetGroupName',
  ],
  'AWS::IAM::OIDCProvider': ['Arn'],
  'AWS::IAM::Role': ['Arn', 'RoleId'],
  'AWS::Lambda::Function': ['Arn'],
  'AWS::Logs::LogGroup': ['Arn'],
};

interface Reference {
  kind: 'Ref' | 'GetAtt' | 'Condition';
  target: string;
  attribute?: string;
  /** Where in the template, for messages: `Resources.Service.Properties.Cluster`. */
  where: string;
  /** Conditions known true here: those of the Fn::If branches the reference sits in. */
  guards: string[];
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `${Name}` and `${Resource.Attribute}` in a Fn::Sub string; `${!Literal}` is text. */
function subVariables(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? '').filter((v) => !v.startsWith('!'));
}

function* referencesIn(value: unknown, where: string, guards: string[] = []): Generator<Reference> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* referencesIn(item, `${where}[${i}]`, guards);
    return;
  }
  if (!isObject(value)) return;
  const keys = Object.keys(value);
  const arg = value[keys[0] ?? ''];
  if (keys.length === 1 && keys[0] === 'Ref') {
    yield { kind: 'Ref', target: String(arg), where, guards };
    return;
  }
  if (keys.length === 1 && keys[0] === 'Condition' && typeof arg === 'string') {
    yield { kind: 'Condition', target: arg, where, guards };
    return;
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [target, attribute] = Array.isArray(arg) ? arg.map(String) : splitAttribute(String(arg));
    yield { kind: 'GetAtt', target: target ?? '', attribute: attribute ?? '', where, guards };
    return;
  }
  if (keys.length === 1 && keys[0] === 'Fn::Sub') {
    const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
    const local = isObject(variables) ? Object.keys(variables) : [];
    for (const variable of subVariables(String(text))) {
      if (local.includes(variable)) continue;
      const [target, attribute] = variable.includes('.') ? splitAttribute(variable) : [variable, undefined];
      yield attribute === undefined
        ? { kind: 'Ref', target, where, guards }
        : { kind: 'GetAtt', target, attribute, where, guards };
    }
    yield* referencesIn(variables, `${where}.Fn::Sub`, guards);
    return;
  }
  if (keys.length === 1 && keys[0] === 'Fn::If' && Array.isArray(arg)) {
    const [condition, whenTrue, whenFalse] = arg as [unknown, unknown, unknown];
    yield { kind: 'Condition', target: String(condition), where, guards };
    yield* referencesIn(whenTrue, `${where}.Fn::If[1]`, [...guards, String(condition)]);
    yield* referencesIn(whenFalse, `${where}.Fn::If[2]`, guards);
    return;
  }
  for (const [key, item] of Object.entries(value)) yield* referencesIn(item, `${where}.${key}`, guards);
}

/** What CloudFormation would refuse about names in the template, one message per problem. */
function referenceProblems(t: Template): string[] {
  const problems: string[] = [];
  const parameters = Object.keys(t.Parameters ?? {});
  const conditions = Object.keys(t.Conditions ?? {});
  const resources = t.Resources;
  const used = new Set<string>();

  const check = (ref: Reference, ownCondition: string | undefined, inConditions: boolean): void => {
    used.add(ref.target);
    if (ref.kind === 'Condition') {
      if (!conditions.includes(ref.target)) problems.push(`${ref.where}: no condition ${ref.target}`);
      return;
    }
    if (ref.kind === 'Ref' && (parameters.includes(ref.target) || PSEUDO_PARAMETERS.includes(ref.target)))
      return;
    const resource = resources[ref.target];
    if (inConditions || resource === undefined) {
      problems.push(
        `${ref.where}: ${ref.kind} ${ref.target} names no ${inConditions ? 'parameter' : 'parameter or resource'}`,
      );
      return;
    }
    if (ref.kind === 'GetAtt') {
      const known = ATTRIBUTES[resource.Type];
      if (known === undefined)
        problems.push(`${ref.where}: no attribute list for ${resource.Type} in this test`);
      else if (!known.includes(ref.attribute ?? ''))
        problems.push(`${ref.where}: ${resource.Type} ${ref.target} has no attribute ${ref.attribute}`);
    }
    const needed = resource.Condition;
    if (needed !== undefined && needed !== ownCondition && !ref.guards.includes(needed))
      problems.push(`${ref.where}: ${ref.target} exists only when ${needed}, but this does not`);
  };

  for (const [name, condition] of Object.entries(t.Conditions ?? {}))
    for (const ref of referencesIn(condition, `Conditions.${name}`)) check(ref, undefined, true);

  for (const [name, resource] of Object.entries(resources)) {
    if (!/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/.test(String(resource.Type)))
      problems.push(`Resources.${name}: Type "${resource.Type}" is not of the form AWS::Service::Resource`);
    if (resource.Condition !== undefined) {
      used.add(resource.Condition);
      if (!conditions.includes(resource.Condition))
        problems.push(`Resources.${name}.Condition: no condition ${resource.Condition}`);
    }
    const dependsOn = resource.DependsOn === undefined ? [] : [resource.DependsOn].flat();
    for (const target of dependsOn) {
      const ref: Reference = { kind: 'Ref', target, where: `Resources.${name}.DependsOn`, guards: [] };
      if (resources[target] === undefined) problems.push(`${ref.where}: no resource ${target}`);
      else check(ref, resource.Condition, false);
    }
    for (const ref of referencesIn(resource.Properties, `Resources.${name}.Properties`))
      check(ref, resource.Condition, false);
  }

  for (const [name, output] of Object.entries(t.Outputs ?? {})) {
    if (output.Condition !== undefined) used.add(output.Condition);
    for (const ref of referencesIn(output, `Outputs.${name}`)) check(ref, output.Condition, false);
  }

  for (const name of [...parameters, ...conditions])
    if (!used.has(name)) problems.push(`${name} is declared but never used`);
  return problems;
}

// Stand-ins for what CloudFormation fills in, so that ARNs can be compared as strings.
const PARTITION = 'aws';
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';

/** The name a resource's Ref returns, for the types whose Ref is their name property. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::CodeDeploy::Application': 'ApplicationName',
  'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::ECS::Cluster': 'ClusterName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Logs::LogGroup': 'LogGroupName',
};

/** Resolves Ref, Fn::GetAtt and Fn::Sub to strings where the template fixes them, else to `<Name>`. */
function resolver(t: Template): (value: unknown) => unknown {
  const nameOf = (logicalId: string): string => {
    const resource = t.Resources[logicalId];
    const property = resource && NAME_PROPERTY[resource.Type];
    const name = property ? resource.Properties?.[property] : undefined;
    return typeof name === 'string' ? name : `<${logicalId}>`;
  };
  const ref = (name: string): string => {
    const pseudo: Record<string, string> = {
      'AWS::Partition': PARTITION,
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
    };
    return pseudo[name] ?? (t.Resources[name] ? nameOf(name) : `<${name}>`);
  };
  const getAtt = (logicalId: string, attribute: string): string => {
    const type = t.Resources[logicalId]?.Type;
    const name = nameOf(logicalId);
    const arns: Record<string, string> = {
      'AWS::ECR::Repository': `arn:${PARTITION}:ecr:${REGION}:${ACCOUNT}:repository/${name}`,
      'AWS::ECS::Cluster': `arn:${PARTITION}:ecs:${REGION}:${ACCOUNT}:cluster/${name}`,
      'AWS::IAM::Role': `arn:${PARTITION}:iam::${ACCOUNT}:role/${name}`,
      'AWS::Lambda::Function': `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    };
    if (attribute === 'Arn' && type && arns[type]) return arns[type];
    if (type === 'AWS::ECS::Service' && attribute === 'Name') {
      const serviceName = t.Resources[logicalId]?.Properties?.ServiceName;
      if (typeof serviceName === 'string') return serviceName;
    }
    return `<${logicalId}.${attribute}>`;
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    const arg = value[keys[0] ?? ''];
    if (keys.length === 1 && keys[0] === 'Ref') return ref(String(arg));
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [logicalId, attribute] = Array.isArray(arg) ? arg.map(String) : splitAttribute(String(arg));
      return getAtt(logicalId ?? '', attribute ?? '');
    }
    if (keys.length === 1 && keys[0] === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^!}][^}]*)\}/g, (_, variable: string) =>
        variable.includes('.') ? getAtt(...splitAttribute(variable)) : ref(variable),
      );
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  };
  return resolve;
}

const template = parseTemplate(readFileSync('example-app/infra/template.yaml', 'utf8'));
const resolve = resolver(template);

interface ContainerDefinitionFile {
  logConfiguration: { options: Record<string, string> };
  [key: string]: unknown;
}
interface TaskDefinitionFile {
  executionRoleArn: string;
  taskRoleArn: string;
  containerDefinitions: ContainerDefinitionFile[];
  [key: string]: unknown;
}
const taskDefinitionFile = JSON.parse(
  readFileSync('example-app/task-definition.json', 'utf8'),
) as TaskDefinitionFile;
interface AppSpecFile {
  Resources: {
    TargetService: { Properties: { LoadBalancerInfo: { ContainerName: string; ContainerPort: number } } };
  }[];
  Hooks?: Record<string, string>[];
}
const appSpec = parse(readFileSync('example-app/appspec.yaml', 'utf8')) as AppSpecFile;
const loadBalancerInfo = appSpec.Resources[0]?.TargetService.Properties.LoadBalancerInfo;

/** The one resource of a type, by logical id and properties. */
function only(type: string): { id: string; properties: Json; resource: Resource } {
  const found = Object.entries(template.Resources).filter(([, r]) => r.Type === type);
  expect([type, found.length]).toEqual([type, 1]);
  const [id, resource] = found[0] as [string, Resource];
  return { id, properties: resource.Properties ?? {}, resource };
}

function property(properties: Json, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>(
      (value, key) => (isObject(value) ? value[key] : Array.isArray(value) ? value[Number(key)] : undefined),
      properties,
    );
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  [key: string]: unknown;
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The role GitHub's OIDC tokens may assume. */
function deployRole(): { id: string; properties: Json } {
  const roles = Object.entries(template.Resources).filter(([, r]) => {
    if (r.Type !== 'AWS::IAM::Role') return false;
    const statements = list(
      property(r.Properties ?? {}, 'AssumeRolePolicyDocument.Statement') as Statement[],
    );
    return statements.some((s) => isObject(s.Principal) && 'Federated' in s.Principal);
  });
  expect(roles.map(([id]) => id)).toHaveLength(1);
  const [id, role] = roles[0] as [string, Resource];
  return { id, properties: role.Properties ?? {} };
}

function permissionStatements(role: Json): Statement[] {
  const policies = list(role.Policies as { PolicyDocument: { Statement: Statement | Statement[] } }[]);
  return policies.flatMap((p) => list(p.PolicyDocument.Statement)).map((s) => resolve(s) as Statement);
}

describe('CloudFormation template example-app/infra/template.yaml', () => {
  it('parses with the short-form tags and has resources', () => {
    expect(Object.keys(template.Resources).length).toBeGreaterThan(10);
  });

  it('refers only to parameters, resources, attributes and conditions that exist, and uses every parameter', () => {
    expect(referenceProblems(template)).toEqual([]);
  });

  describe('the reference check', () => {
    // Only what the change adds, so that these stay about the check when the template itself is wrong.
    const before = referenceProblems(template);
    const broken = (change: (t: Template) => void): string[] => {
      const copy = structuredClone(template);
      change(copy);
      return referenceProblems(copy).filter((problem) => !before.includes(problem));
    };
    const serviceProperties = (t: Template): Json => t.Resources.Service?.Properties ?? {};

    it('finds a Ref to nothing', () => {
      expect(broken((t) => (serviceProperties(t).Cluster = { Ref: 'Clustr' }))).toEqual([
        'Resources.Service.Properties.Cluster: Ref Clustr names no parameter or resource',
      ]);
    });

    it('finds a ${Name} in Fn::Sub that names nothing, and leaves ${!Literal} alone', () => {
      expect(
        broken(
          (t) => (serviceProperties(t).ServiceName = { 'Fn::Sub': '${Nope}-${!Literal}-${AWS::Region}' }),
        ),
      ).toEqual(['Resources.Service.Properties.ServiceName: Ref Nope names no parameter or resource']);
    });

    it('finds a GetAtt of an attribute the type lacks', () => {
      expect(broken((t) => (serviceProperties(t).Cluster = { 'Fn::GetAtt': ['Cluster', 'Name'] }))).toEqual([
        'Resources.Service.Properties.Cluster: AWS::ECS::Cluster Cluster has no attribute Name',
      ]);
    });

    it('finds a DependsOn on nothing and a Type not in AWS:: form', () => {
      expect(
        broken((t) => {
          (t.Resources.Service as Resource).DependsOn = ['ProductionListener', 'Missing'];
          (t.Resources.LogGroup as Resource).Type = 'Logs::LogGroup';
        }),
      ).toEqual([
        'Resources.LogGroup: Type "Logs::LogGroup" is not of the form AWS::Service::Resource',
        'Resources.Service.DependsOn: no resource Missing',
      ]);
    });

    it('finds an unconditional reference to a resource that exists only under a condition', () => {
      expect(broken((t) => delete (t.Resources.DeploymentGroup as Resource).Condition)).toEqual([
        'Resources.DeploymentGroup.Properties.ECSServices[0].ServiceName: Service exists only when HasImageTag, but this does not',
      ]);
    });

    it('allows a conditional resource only in the true branch of Fn::If on its condition', () => {
      const federated =
        'Resources.DeployRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated';
      expect(
        broken((t) => {
          const statement = property(
            t.Resources.DeployRole?.Properties ?? {},
            'AssumeRolePolicyDocument.Statement',
          ) as Statement[];
          (statement[0] as Json).Principal = {
            Federated: {
              'Fn::If': [
                'CreateOidcProvider',
                { Ref: 'ExistingOidcProviderArn' },
                { Ref: 'GitHubOidcProvider' },
              ],
            },
          };
        }),
      ).toEqual([
        `${federated}.Fn::If[2]: GitHubOidcProvider exists only when CreateOidcProvider, but this does not`,
      ]);
    });

    it('finds a parameter nothing uses', () => {
      expect(broken((t) => ((t.Parameters as Record<string, Json>).Unused = { Type: 'String' }))).toEqual([
        'Unused is declared but never used',
      ]);
    });

    it('rejects a misspelt short form', () => {
      expect(() =>
        parseTemplate('Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      X: !Reff B\n'),
      ).toThrow(/Unresolved tag: !Reff/);
    });
  });

  describe('the deploy role', () => {
    const role = deployRole();
    const statements = permissionStatements(role.properties);
    const grants = (action: string): Statement[] => statements.filter((s) => list(s.Action).includes(action));
    /**
     * The runs of .github/workflows/deploy.yml: a build pushed to the example-app repository, or
     * (workflow_dispatch) an image already there, blue/green through CodeDeploy, with the
     * preflight on (the action's default), never creating the repository.
     */
    const DEPLOY_WORKFLOW: PermissionNeeds = {
      build: true,
      createRepository: false,
      mode: 'codedeploy',
      preflight: true,
      existingImage: true,
      rollback: true,
    };

    it('grants exactly the actions the action calls in the runs of deploy.yml', () => {
      const granted = statements.flatMap((s) => list(s.Action));
      expect([...granted].sort()).toEqual(allActions(DEPLOY_WORKFLOW));
      expect(role.properties.ManagedPolicyArns).toBeUndefined();
      for (const s of statements) {
        expect(
          Object.keys(s).filter((k) => !['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(k)),
        ).toEqual([]);
        expect(s.Effect).toBe('Allow');
      }
    });

    it('scopes each action to the resources it acts on', () => {
      const cluster = only('AWS::ECS::Cluster').properties.ClusterName as string;
      const service = only('AWS::ECS::Service').properties.ServiceName as string;
      const group = only('AWS::CodeDeploy::DeploymentGroup').properties;
      const application = only('AWS::CodeDeploy::Application').properties.ApplicationName as string;
      const family = only('AWS::ECS::TaskDefinition').properties.Family as string;
      const repository = only('AWS::ECR::Repository').properties.RepositoryName as string;
      const prefix = (service: string): string => `arn:${PARTITION}:${service}:${REGION}:${ACCOUNT}:`;
      const repositoryActions = allActions(DEPLOY_WORKFLOW).filter(
        (a) => a.startsWith('ecr:') && a !== 'ecr:GetAuthorizationToken',
      );
      const ownArn = `arn:${PARTITION}:iam::${ACCOUNT}:role/${String(role.properties.RoleName)}`;
      const taskDefinition = only('AWS::ECS::TaskDefinition').properties;
      const expected: Record<string, { Resource: string[]; Condition?: Json }> = {
        'ecr:GetAuthorizationToken': { Resource: ['*'] },
        ...Object.fromEntries(
          repositoryActions.map((a) => [a, { Resource: [`${prefix('ecr')}repository/${repository}`] }]),
        ),
        'ecs:RegisterTaskDefinition': { Resource: ['*'] },
        'ecs:DescribeTaskDefinition': { Resource: ['*'] },
        'ecs:ListTaskDefinitions': { Resource: ['*'] },
        'ecs:TagResource': {
          Resource: [`${prefix('ecs')}task-definition/${family}:*`],
          Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
        },
        'ecs:DescribeClusters': { Resource: [`${prefix('ecs')}cluster/${cluster}`] },
        'ecs:DescribeServices': { Resource: [`${prefix('ecs')}service/${cluster}/${service}`] },
        'ecs:ListTasks': {
          Resource: ['*'],
          Condition: { ArnEquals: { 'ecs:cluster': `${prefix('ecs')}cluster/${cluster}` } },
        },
        'ecs:DescribeTasks': { Resource: [`${prefix('ecs')}task/${cluster}/*`] },
        ...Object.fromEntries(
          [
            'codedeploy:GetDeploymentGroup',
            'codedeploy:CreateDeployment',
            'codedeploy:GetDeployment',
            'codedeploy:ListDeploymentTargets',
            'codedeploy:GetDeploymentTarget',
            'codedeploy:StopDeployment',
            'codedeploy:ListDeployments',
            'codedeploy:BatchGetDeployments',
          ].map((a) => [
            a,
            {
              Resource: [
                `${prefix('codedeploy')}deploymentgroup:${application}/${String(group.DeploymentGroupName)}`,
              ],
            },
          ]),
        ),
        'codedeploy:GetDeploymentConfig': {
          Resource: [`${prefix('codedeploy')}deploymentconfig:${String(group.DeploymentConfigName)}`],
        },
        'codedeploy:RegisterApplicationRevision': {
          Resource: [`${prefix('codedeploy')}application:${application}`],
        },
        'iam:GetRole': {
          Resource: [
            String(resolve(taskDefinition.ExecutionRoleArn)),
            String(resolve(taskDefinition.TaskRoleArn)),
            ownArn,
          ],
        },
        'iam:SimulatePrincipalPolicy': { Resource: [ownArn] },
      };
      // The role's own ARN, written out by name: the one its Arn attribute resolves to.
      expect(resolve({ 'Fn::GetAtt': [role.id, 'Arn'] })).toBe(ownArn);
      for (const action of allActions(DEPLOY_WORKFLOW)) {
        if (action === 'iam:PassRole') continue;
        const found = grants(action);
        expect([action, found.length]).toEqual([action, 1]);
        const statement = found[0] as Statement;
        const grant = {
          Resource: list(statement.Resource),
          ...(statement.Condition && { Condition: statement.Condition }),
        };
        expect([action, grant]).toEqual([action, expected[action]]);
      }
    });

    it('passes only the task definition roles, and only to ECS tasks', () => {
      const found = grants('iam:PassRole');
      expect(found).toHaveLength(1);
      const taskDefinition = only('AWS::ECS::TaskDefinition').properties;
      expect(list((found[0] as Statement).Resource).sort()).toEqual(
        [resolve(taskDefinition.ExecutionRoleArn), resolve(taskDefinition.TaskRoleArn)].sort(),
      );
      expect((found[0] as Statement).Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
      });
    });

    it('trusts GitHub OIDC tokens for this repository only: audience sts, subject main or its environment', () => {
      const trust = list(property(role.properties, 'AssumeRolePolicyDocument.Statement') as Statement[]);
      expect(trust).toHaveLength(1);
      const statement = trust[0] as Statement;
      expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity');
      expect(statement.Principal).toEqual({
        Federated: {
          'Fn::If': ['CreateOidcProvider', { Ref: 'GitHubOidcProvider' }, { Ref: 'ExistingOidcProviderArn' }],
        },
      });
      // StringEquals only: a StringLike with a wildcard would let other branches or repositories in.
      expect(resolve(statement.Condition)).toEqual({
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': [
            'repo:<GitHubOrg>/<GitHubRepo>:ref:refs/heads/main',
            'repo:<GitHubOrg>/<GitHubRepo>:environment:<GitHubEnvironment>',
          ],
        },
      });
    });

    it('creates the OIDC provider only when no existing one is given', () => {
      const provider = only('AWS::IAM::OIDCProvider');
      expect(provider.resource.Condition).toBe('CreateOidcProvider');
      expect(template.Conditions?.CreateOidcProvider).toEqual({
        'Fn::Equals': [{ Ref: 'ExistingOidcProviderArn' }, ''],
      });
      expect(template.Parameters?.ExistingOidcProviderArn?.Default).toBe('');
      expect(provider.properties).toMatchObject({
        Url: 'https://token.actions.githubusercontent.com',
        ClientIdList: ['sts.amazonaws.com'],
      });
    });

    it('allows sessions longer than a blue/green wait (2 hours)', () => {
      expect(role.properties.MaxSessionDuration).toBe(7200);
    });
  });

  describe('ECS', () => {
    const taskDefinition = only('AWS::ECS::TaskDefinition').properties;
    const containers = taskDefinition.ContainerDefinitions as Json[];
    const [fileContainer] = taskDefinitionFile.containerDefinitions;

    /** The file's camelCase task definition in CloudFormation's PascalCase (log options keep their keys). */
    const pascal = (value: unknown, key = ''): unknown => {
      if (Array.isArray(value)) return value.map((v) => pascal(v));
      if (!isObject(value) || key === 'options') return value;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k.charAt(0).toUpperCase() + k.slice(1), pascal(v, k)]),
      );
    };

    it('starts with the task definition that example-app/task-definition.json describes', () => {
      // Roles: the stack's own (next test). Image: the first push. Log region: the stack's.
      const omit = (object: Json, keys: string[]): Json =>
        Object.fromEntries(Object.entries(object).filter(([k]) => !keys.includes(k)));
      expect(omit(taskDefinition, ['ContainerDefinitions', 'ExecutionRoleArn', 'TaskRoleArn'])).toEqual(
        pascal(omit(taskDefinitionFile, ['containerDefinitions', 'executionRoleArn', 'taskRoleArn'])),
      );
      expect(containers).toHaveLength(taskDefinitionFile.containerDefinitions.length);
      const expected = pascal(fileContainer) as Json;
      expected.Image = '<Repository.RepositoryUri>:<ImageTag>';
      (property(expected, 'LogConfiguration.Options') as Record<string, string>)['awslogs-region'] = REGION;
      expect(resolve(containers[0])).toEqual(expected);
    });

    it('creates the task definition, service and deployment group only once an image tag is given', () => {
      expect(template.Conditions?.HasImageTag).toEqual({
        'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'ImageTag' }, ''] }],
      });
      expect(template.Parameters?.ImageTag?.Default).toBe('');
      for (const type of [
        'AWS::ECS::TaskDefinition',
        'AWS::ECS::Service',
        'AWS::CodeDeploy::DeploymentGroup',
      ])
        expect([type, only(type).resource.Condition]).toEqual([type, 'HasImageTag']);
    });

    it('names the task role the file names, and the roles the template creates', () => {
      const roleName = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);
      expect(resolve(taskDefinition.TaskRoleArn)).toBe(
        `arn:aws:iam::${ACCOUNT}:role/${roleName(taskDefinitionFile.taskRoleArn)}`,
      );
      expect(taskDefinition.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': ['TaskExecutionRole', 'Arn'] });
      expect(taskDefinition.TaskRoleArn).toEqual({ 'Fn::GetAtt': ['TaskRole', 'Arn'] });
      expect(template.Resources.TaskExecutionRole?.Properties?.ManagedPolicyArns).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy' },
      ]);
    });

    it('logs to /ecs/example-app, the group the file names, created by the template', () => {
      const group = property(containers[0] ?? {}, 'LogConfiguration.Options.awslogs-group') as {
        Ref: string;
      };
      expect(template.Resources[group.Ref]?.Type).toBe('AWS::Logs::LogGroup');
      expect(resolve(group)).toBe(fileContainer?.logConfiguration.options['awslogs-group']);
      expect(fileContainer?.logConfiguration.options['awslogs-group']).toBe('/ecs/example-app');
    });

    it('runs the service under CodeDeploy on Fargate, two tasks, behind the blue target group', () => {
      const service = only('AWS::ECS::Service');
      expect(service.properties).toMatchObject({
        DeploymentController: { Type: 'CODE_DEPLOY' },
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        TaskDefinition: { Ref: only('AWS::ECS::TaskDefinition').id },
        Cluster: { Ref: only('AWS::ECS::Cluster').id },
        LoadBalancers: [
          {
            ContainerName: loadBalancerInfo?.ContainerName,
            ContainerPort: loadBalancerInfo?.ContainerPort,
            TargetGroupArn: { Ref: 'BlueTargetGroup' },
          },
        ],
      });
      expect(service.resource.DependsOn).toEqual(
        expect.arrayContaining(['ProductionListener', 'TestListener']),
      );
    });

    it('serves the container and port that example-app/appspec.yaml routes traffic to', () => {
      expect(containers[0]?.Name).toBe(loadBalancerInfo?.ContainerName);
      expect(property(containers[0] ?? {}, 'PortMappings')).toEqual([
        expect.objectContaining({ ContainerPort: loadBalancerInfo?.ContainerPort }),
      ]);
    });

    it('has container insights on', () => {
      expect(only('AWS::ECS::Cluster').properties.ClusterSettings).toEqual([
        { Name: 'containerInsights', Value: 'enabled' },
      ]);
    });
  });

  describe('ECR', () => {
    const repository = only('AWS::ECR::Repository').properties;

    it('is example-app, scanned on push, with immutable tags', () => {
      expect(repository).toMatchObject({
        RepositoryName: 'example-app',
        ImageTagMutability: 'IMMUTABLE',
        ImageScanningConfiguration: { ScanOnPush: true },
      });
    });

    it('expires untagged images only', () => {
      const policy = JSON.parse(String(property(repository, 'LifecyclePolicy.LifecyclePolicyText'))) as {
        rules: { selection: { tagStatus: string; countType: string }; action: { type: string } }[];
      };
      expect(policy.rules.length).toBeGreaterThan(0);
      for (const rule of policy.rules) {
        expect(rule.selection).toMatchObject({ tagStatus: 'untagged', countType: 'sinceImagePushed' });
        expect(rule.action).toEqual({ type: 'expire' });
      }
    });
  });

  describe('load balancer and CodeDeploy', () => {
    const listeners = Object.entries(template.Resources).filter(
      ([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::Listener',
    );
    const listener = (port: number): [string, Resource] => {
      const found = listeners.filter(([, r]) => r.Properties?.Port === port);
      expect([port, found.length]).toEqual([port, 1]);
      return found[0] as [string, Resource];
    };
    const group = only('AWS::CodeDeploy::DeploymentGroup').properties;
    const pair = property(group, 'LoadBalancerInfo.TargetGroupPairInfoList') as Json[];
    const targetGroups = Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::ElasticLoadBalancingV2::TargetGroup')
      .map(([id]) => id);

    it('has blue and green target groups for the container port, type ip, health checked on /health', () => {
      expect(targetGroups.sort()).toEqual(['BlueTargetGroup', 'GreenTargetGroup']);
      for (const id of targetGroups) {
        expect([id, template.Resources[id]?.Properties]).toEqual([
          id,
          expect.objectContaining({
            TargetType: 'ip',
            Protocol: 'HTTP',
            Port: loadBalancerInfo?.ContainerPort,
            HealthCheckPath: '/health',
            VpcId: { Ref: 'VpcId' },
          }),
        ]);
      }
    });

    it('has a production listener on 80 and a test listener, both open in the security group', () => {
      const [production] = listener(80);
      expect(listeners).toHaveLength(2);
      const [test, testListener] = listeners.find(([id]) => id !== production) as [string, Resource];
      expect([production, test]).toEqual(['ProductionListener', 'TestListener']);
      expect(testListener.Properties?.Port).toBe(9000);
      const groups = property(
        only('AWS::ElasticLoadBalancingV2::LoadBalancer').properties,
        'SecurityGroups',
      ) as { Ref: string }[];
      expect(groups).toHaveLength(1);
      const securityGroup = template.Resources[String(groups[0]?.Ref)]?.Properties ?? {};
      const openPorts = (securityGroup.SecurityGroupIngress as Json[]).map((rule) => rule.FromPort);
      expect(openPorts.sort()).toEqual([80, 9000]);
    });

    it('is a blue/green group with traffic control over the service, both target groups and both listeners', () => {
      const cluster = only('AWS::ECS::Cluster').properties.ClusterName as string;
      const service = only('AWS::ECS::Service').properties.ServiceName as string;
      expect(group).toMatchObject({
        ApplicationName: { Ref: only('AWS::CodeDeploy::Application').id },
        DeploymentGroupName: `DgpECS-${cluster}-${service}`,
        DeploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
        DeploymentStyle: { DeploymentType: 'BLUE_GREEN', DeploymentOption: 'WITH_TRAFFIC_CONTROL' },
        AutoRollbackConfiguration: { Enabled: true, Events: ['DEPLOYMENT_FAILURE'] },
        BlueGreenDeploymentConfiguration: {
          TerminateBlueInstancesOnDeploymentSuccess: { Action: 'TERMINATE', TerminationWaitTimeInMinutes: 5 },
        },
        ECSServices: [
          { ClusterName: { Ref: 'Cluster' }, ServiceName: { 'Fn::GetAtt': ['Service', 'Name'] } },
        ],
      });
      expect(pair).toHaveLength(1);
      expect(pair[0]).toEqual({
        TargetGroups: targetGroups.map((id) => ({ Name: { 'Fn::GetAtt': [id, 'TargetGroupName'] } })),
        ProdTrafficRoute: { ListenerArns: [{ Ref: listener(80)[0] }] },
        TestTrafficRoute: { ListenerArns: [{ Ref: listener(9000)[0] }] },
      });
      expect(only('AWS::CodeDeploy::Application').properties).toEqual({
        ApplicationName: `AppECS-${cluster}-${service}`,
        ComputePlatform: 'ECS',
      });
    });

    it('starts with production on blue and test on green, the pair ECS needs attached', () => {
      const forwardsTo = (port: number): unknown =>
        property(listener(port)[1].Properties ?? {}, 'DefaultActions');
      expect(forwardsTo(80)).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: 'BlueTargetGroup' } }]);
      expect(forwardsTo(9000)).toEqual([{ Type: 'forward', TargetGroupArn: { Ref: 'GreenTargetGroup' } }]);
    });

    it('gives CodeDeploy a role with AWSCodeDeployRoleForECS', () => {
      const role =
        template.Resources[String(property(group, 'ServiceRoleArn.Fn::GetAtt.0'))]?.Properties ?? {};
      expect(property(role, 'AssumeRolePolicyDocument.Statement')).toEqual([
        { Effect: 'Allow', Principal: { Service: 'codedeploy.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ]);
      expect(role.ManagedPolicyArns).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/AWSCodeDeployRoleForECS' },
      ]);
    });

    it('has a Lambda function for every appspec hook, allowed to report to this deployment group', () => {
      const hooks = (appSpec.Hooks ?? []).flatMap((hook) => Object.values(hook));
      expect(hooks.length).toBeGreaterThan(0);
      const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      const groupArn = `arn:${PARTITION}:codedeploy:${REGION}:${ACCOUNT}:deploymentgroup:${String(
        only('AWS::CodeDeploy::Application').properties.ApplicationName,
      )}/${String(group.DeploymentGroupName)}`;
      for (const hook of hooks) {
        const fn = functions.find((f) => f.Properties?.FunctionName === hook);
        expect([hook, fn?.Type]).toEqual([hook, 'AWS::Lambda::Function']);
        const roleId = String(property(fn?.Properties ?? {}, 'Role.Fn::GetAtt.0'));
        const statements = permissionStatements(template.Resources[roleId]?.Properties ?? {});
        expect(statements).toContainEqual(
          expect.objectContaining({
            Action: 'codedeploy:PutLifecycleEventHookExecutionStatus',
            Resource: groupArn,
          }),
        );
        expect(property(fn?.Properties ?? {}, 'Environment.Variables.TEST_URL')).toEqual({
          'Fn::Sub': 'http://${LoadBalancer.DNSName}:9000/health',
        });
      }
    });
  });

  it('outputs what the workflow and the task definition file need', () => {
    const outputs = template.Outputs ?? {};
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'RepositoryName',
        'RepositoryUri',
        'ClusterName',
        'ServiceName',
        'CodeDeployApplicationName',
        'CodeDeployDeploymentGroupName',
        'DeployRoleArn',
        'TaskExecutionRoleArn',
        'TaskRoleArn',
        'ProductionUrl',
        'TestUrl',
      ]),
    );
    expect(resolve(outputs.ProductionUrl?.Value)).toBe('http://<LoadBalancer.DNSName>/');
    expect(resolve(outputs.TestUrl?.Value)).toBe('http://<LoadBalancer.DNSName>:9000/');
    expect(outputs.DeployRoleArn?.Value).toEqual({ 'Fn::GetAtt': [deployRole().id, 'Arn'] });
  });
});

describe('CloudFormation template example-app/infra/ecs-native.yaml', () => {
  const native = parseTemplate(readFileSync('example-app/infra/ecs-native.yaml', 'utf8'));
  const resolveNative = resolver(native);
  const of = (id: string): Json => (native.Resources[id] as Resource).Properties ?? {};

  it('refers only to what exists and uses every parameter', () => {
    expect(referenceProblems(native)).toEqual([]);
  });

  it('runs the service with the ECS controller and a native strategy, both target groups through advancedConfiguration', () => {
    const service = of('Service');
    expect(property(service, 'DeploymentController.Type')).toBe('ECS');
    expect(native.Parameters?.Strategy?.AllowedValues).toEqual(['BLUE_GREEN', 'LINEAR', 'CANARY']);
    expect(property(service, 'DeploymentConfiguration.Strategy')).toEqual({ Ref: 'Strategy' });
    expect(property(service, 'DeploymentConfiguration.BakeTimeInMinutes')).toBeGreaterThan(0);
    const lb = property(service, 'LoadBalancers.0') as Json;
    expect(lb.TargetGroupArn).toEqual({ Ref: 'BlueTargetGroup' });
    expect(lb.AdvancedConfiguration).toEqual({
      AlternateTargetGroupArn: { Ref: 'GreenTargetGroup' },
      ProductionListenerRule: { Ref: 'ProductionRule' },
      TestListenerRule: { Ref: 'TestRule' },
      RoleArn: { 'Fn::GetAtt': ['EcsInfrastructureRole', 'Arn'] },
    });
  });

  it.each(['ProductionRule', 'TestRule'])(
    '%s forwards to both target groups (live 100, alternate 0), as ECS requires',
    (rule) => {
      expect(property(of(rule), 'Actions.0.ForwardConfig.TargetGroups')).toEqual([
        { TargetGroupArn: { Ref: 'BlueTargetGroup' }, Weight: 100 },
        { TargetGroupArn: { Ref: 'GreenTargetGroup' }, Weight: 0 },
      ]);
    },
  );

  it('gives ECS the infrastructure role for load balancers, and an invoke role for the optional Lambda hook', () => {
    const infra = of('EcsInfrastructureRole');
    expect(property(infra, 'AssumeRolePolicyDocument.Statement.0.Principal.Service')).toBe(
      'ecs.amazonaws.com',
    );
    expect(resolveNative(infra.ManagedPolicyArns)).toEqual([
      'arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers',
    ]);
    expect((native.Resources.HookInvokeRole as Resource).Condition).toBe('HasHook');
  });

  it('grants the deploy role exactly the ECS-native calls of src/iam.ts, on the service and its deployments', () => {
    const statements = permissionStatements({ Policies: [of('DeployRoleNativePolicy')] }).map(
      (s) => resolveNative(s) as Statement,
    );
    const wanted = requiredActions({ build: false, createRepository: false, mode: 'ecs-native' }).filter(
      (g) => ['Service', 'ServiceDeployments', 'LoadBalancers'].includes(g.resource),
    );
    const byName = (a: { resource: string }, b: { resource: string }) => a.resource.localeCompare(b.resource);
    expect(
      statements.map((s) => ({ resource: s.Sid as string, actions: list(s.Action) })).sort(byName),
    ).toEqual([...wanted].sort(byName));
    const service = 'arn:aws:ecs:eu-west-1:111122223333:service/<ClusterName>/web-native';
    expect(statements[0]?.Resource).toBe(service);
  });
});
