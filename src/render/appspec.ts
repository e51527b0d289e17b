import { createHash } from 'node:crypto';
import type { ContainerDefinition, RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { Document, type Scalar } from 'yaml';
import { Problems } from '../errors.js';
import {
  describeValue,
  FieldProblems,
  formatFieldPath,
  isRecord,
  parseDocument,
  type FieldPath,
  type ParsedDocument,
} from './document.js';
import { isPort } from './taskdef.js';

/** The lifecycle events of an ECS deployment that run a hook, in the order they happen. */
export const ECS_HOOKS = [
  'BeforeInstall',
  'AfterInstall',
  'AfterAllowTestTraffic',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
] as const;
export type EcsHook = (typeof ECS_HOOKS)[number];

export interface AppSpec {
  /** 0.0, the only valid value (YAML reads `0.0` as the number 0). */
  version: string | number;
  Resources: [
    {
      TargetService: {
        Type: 'AWS::ECS::Service';
        Properties: {
          TaskDefinition: string;
          LoadBalancerInfo: { ContainerName: string; ContainerPort: number };
          PlatformVersion?: string;
          NetworkConfiguration?: {
            AwsvpcConfiguration: {
              Subnets: string[];
              SecurityGroups?: string[];
              AssignPublicIp?: 'ENABLED' | 'DISABLED';
            };
          };
          CapacityProviderStrategy?: { Base?: number; CapacityProvider: string; Weight?: number }[];
        };
      };
    },
  ];
  /** A list of single-key maps; each value is a Lambda function name or ARN. */
  Hooks?: Partial<Record<EcsHook, string>>[];
}

type Properties = AppSpec['Resources'][0]['TargetService']['Properties'];

/** What CodePipeline's blue/green action, and this action, replace with the registered ARN. */
export const TASK_DEFINITION_PLACEHOLDER = '<TASK_DEFINITION>';

const ROOT_KEYS = ['version', 'Resources', 'Hooks'] as const;
const PROPERTY_KEYS = [
  'TaskDefinition',
  'LoadBalancerInfo',
  'PlatformVersion',
  'NetworkConfiguration',
  'CapacityProviderStrategy',
] as const;
const RESOURCE_PATH: FieldPath = ['Resources', 0];
const TARGET_SERVICE_PATH: FieldPath = [...RESOURCE_PATH, 'TargetService'];
const PROPERTIES_PATH: FieldPath = [...TARGET_SERVICE_PATH, 'Properties'];
const LOAD_BALANCER_INFO_PATH: FieldPath = [...PROPERTIES_PATH, 'LoadBalancerInfo'];

const MINIMAL_APPSPEC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: <TASK_DEFINITION>
        LoadBalancerInfo:
          ContainerName: web
          ContainerPort: 8080`;

/** Parses a user's appspec file (YAML or JSON) and checks its structure, all problems at once. */
export function parseAppSpec(
  text: string,
  file: string,
  where: string,
): { appspec: AppSpec; parsed: ParsedDocument } {
  const parsed = parseDocument(text, file, where);
  const problems = new FieldProblems({ source: file, file, parsed });
  const root = parsed.value as Record<string, unknown>;
  checkRoot(root, problems);
  problems.throwIfAny();
  // Every field was checked above and unknown ones refused, so the shape is AppSpec's.
  return { appspec: canonicalAppSpec(root as unknown as AppSpec), parsed };
}

/**
 * The load balancer's container and port must exist in the task definition being deployed,
 * or CodeDeploy fails only after it has started creating the replacement task set.
 */
export function checkAppSpecAgainstTaskDefinition(
  appspec: AppSpec,
  taskDefinition: RegisterTaskDefinitionCommandInput,
  ctx: { file?: string; where: string; parsed?: ParsedDocument },
): void {
  const problems = new FieldProblems({ source: ctx.file ?? ctx.where, file: ctx.file, parsed: ctx.parsed });
  const { ContainerName, ContainerPort } = appspec.Resources[0].TargetService.Properties.LoadBalancerInfo;
  const containers = taskDefinition.containerDefinitions ?? [];
  const family = taskDefinition.family ?? 'being deployed';
  checkTaskDefinitionFamily(
    appspec.Resources[0].TargetService.Properties.TaskDefinition,
    taskDefinition.family,
    problems,
  );
  const container = containers.find((c) => c.name === ContainerName);
  if (!container) {
    const names = containers.map((c) => c.name).join(', ');
    problems.at(
      [...LOAD_BALANCER_INFO_PATH, 'ContainerName'],
      `Container ${JSON.stringify(ContainerName)} is not in task definition ${family}; its containers are: ${names}.`,
      `Set ContainerName to the container the load balancer sends traffic to: one of ${names}.`,
    );
  } else {
    const ports = mappedPorts(container);
    if (!ports.includes(ContainerPort)) {
      problems.at(
        [...LOAD_BALANCER_INFO_PATH, 'ContainerPort'],
        `Container ${JSON.stringify(ContainerName)} has ${ports.length > 0 ? `port mappings for ${ports.join(', ')}` : 'no port mappings'}, not ${ContainerPort}.`,
        ports.length > 0
          ? `Set ContainerPort to ${ports.length === 1 ? ports[0] : `one of ${ports.join(', ')}`}, or add {"containerPort": ${ContainerPort}} to the container's portMappings.`
          : `Add {"containerPort": ${ContainerPort}} to the portMappings of ${ContainerName} in the task definition.`,
      );
    }
  }
  problems.throwIfAny();
}

/**
 * An appspec's TaskDefinition is replaced by the revision the run registers. One that names a
 * revision of another family is a mistake (the wrong appspec, or the wrong task definition):
 * replacing it silently would deploy something else than the file says.
 */
function checkTaskDefinitionFamily(value: string, family: string | undefined, problems: FieldProblems): void {
  if (family === undefined || value === TASK_DEFINITION_PLACEHOLDER) return;
  const named =
    /^(?:arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/)?([A-Za-z0-9_-]{1,255})(?::\d+)?$/.exec(
      value,
    )?.[1];
  if (named === undefined || named === family) return;
  problems.at(
    [...PROPERTIES_PATH, 'TaskDefinition'],
    `TaskDefinition names the family ${named}, but this run deploys a revision of ${family}.`,
    `Write \`TaskDefinition: ${TASK_DEFINITION_PLACEHOLDER}\` (the action puts the registered ${family} revision there), or deploy the task definition of family ${named}.`,
  );
}

/** The port the load balancer sends traffic to on `container`; a problem when it maps none (or not the one asked for). */
function servingPort(
  container: ContainerDefinition,
  containerPort: number | undefined,
  problems: Problems,
): number | undefined {
  const ports = mappedPorts(container);
  if (containerPort !== undefined && !ports.includes(containerPort)) {
    problems.add({
      where: 'container-port',
      what: `Container ${container.name} has ${ports.length > 0 ? `port mappings for ${ports.join(', ')}` : 'no port mappings'}, not ${containerPort}.`,
      fix: `Set \`container-port\` to a port ${container.name} maps, or add {"containerPort": ${containerPort}} to its portMappings.`,
    });
    return undefined;
  }
  if (ports.length === 0) {
    problems.add({
      where: 'container-port',
      what: `Container ${container.name} has no port mappings, so the load balancer has no port to send traffic to.`,
      fix: `Add {"containerPort": …} to the portMappings of ${container.name} and set \`container-port\` to it.`,
    });
    return undefined;
  }
  return containerPort ?? ports[0];
}

/**
 * The appspec for a user who wrote none. Its TaskDefinition stays `<TASK_DEFINITION>` until
 * renderAppSpec puts in the registered ARN.
 */
export function generateAppSpec(opts: {
  taskDefinition: RegisterTaskDefinitionCommandInput;
  containerName?: string;
  containerPort?: number;
  platformVersion?: string;
  hooks?: Partial<Record<EcsHook, string>>;
}): AppSpec {
  const { containerName, containerPort } = opts;
  const containers = opts.taskDefinition.containerDefinitions ?? [];
  const problems = new Problems();
  const summary = (c: ContainerDefinition) =>
    `${c.name} (${mappedPorts(c).join(', ') || 'no port mappings'})`;

  let container: ContainerDefinition | undefined;
  if (containerName !== undefined) {
    container = containers.find((c) => c.name === containerName);
    if (!container) {
      problems.add({
        where: 'container-name',
        what: `The task definition has no container ${JSON.stringify(containerName)}; it has ${containers.map(summary).join(', ')}.`,
        fix: 'Set `container-name` to the container the load balancer sends traffic to.',
      });
    }
  } else {
    // Given a port, only the containers that map it are candidates.
    const candidates = containers.filter((c) => {
      const ports = mappedPorts(c);
      return containerPort === undefined ? ports.length > 0 : ports.includes(containerPort);
    });
    if (candidates.length === 1) {
      container = candidates[0];
    } else if (candidates.length > 1) {
      problems.add({
        where: 'container-name',
        what: `Several containers could receive the load balancer's traffic: ${candidates.map(summary).join(', ')}.`,
        fix: 'Set `container-name` to the one the load balancer sends traffic to.',
      });
    } else if (containerPort !== undefined) {
      problems.add({
        where: 'container-port',
        what: `No container maps port ${containerPort}; the containers are ${containers.map(summary).join(', ')}.`,
        fix: `Set \`container-port\` to a mapped port, or add {"containerPort": ${containerPort}} to the portMappings of the container that serves traffic.`,
      });
    } else {
      problems.add({
        where: 'container-port',
        what: `No container has port mappings, so a blue/green deployment has no port to send traffic to; the containers are ${containers.map(summary).join(', ')}.`,
        fix: 'Add portMappings to the container that serves traffic (for example {"containerPort": 8080}), or give `codedeploy-appspec`.',
      });
    }
  }

  const port = container === undefined ? undefined : servingPort(container, containerPort, problems);
  // Every way of leaving the container or the port unset added a problem above.
  problems.throwIfAny();

  const hooks = ECS_HOOKS.filter((h) => opts.hooks?.[h] !== undefined).map((h) => ({ [h]: opts.hooks?.[h] }));
  return canonicalAppSpec({
    version: '0.0',
    Resources: [
      {
        TargetService: {
          Type: 'AWS::ECS::Service',
          Properties: {
            TaskDefinition: TASK_DEFINITION_PLACEHOLDER,
            LoadBalancerInfo: { ContainerName: container!.name!, ContainerPort: port! },
            ...(opts.platformVersion !== undefined && { PlatformVersion: opts.platformVersion }),
          },
        },
      },
    ],
    ...(hooks.length > 0 && { Hooks: hooks }),
  });
}

/**
 * Puts the registered task definition's ARN in and renders the YAML CodeDeploy receives as
 * AppSpecContent, with its hex SHA-256. The same appspec always renders the same text.
 */
export function renderAppSpec(
  appspec: AppSpec,
  taskDefinitionArn: string,
): { appspec: AppSpec; content: string; sha256: string } {
  const rendered = canonicalAppSpec(appspec);
  rendered.Resources[0].TargetService.Properties.TaskDefinition = taskDefinitionArn;
  const doc = new Document(rendered);
  // CodeDeploy wants `version: 0.0`; YAML would print the number 0 as `0` and "0.0" quoted.
  const version = doc.createNode(0) as Scalar;
  version.minFractionDigits = 1;
  doc.set('version', version);
  // Quoted strings read the same in every YAML parser, including YAML 1.1 ones that would
  // take an unquoted `yes`, `on` or `0755` for something else.
  const content = doc.toString({ lineWidth: 0, defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' });
  return { appspec: rendered, content, sha256: createHash('sha256').update(content, 'utf8').digest('hex') };
}

function mappedPorts(container: ContainerDefinition): number[] {
  return (container.portMappings ?? []).map((m) => m.containerPort).filter(isPort);
}

/** A fresh copy with the fields in AppSpec's documented order. */
function canonicalAppSpec(appspec: AppSpec): AppSpec {
  const p = appspec.Resources[0].TargetService.Properties;
  const vpc = p.NetworkConfiguration?.AwsvpcConfiguration;
  const properties: Properties = {
    TaskDefinition: p.TaskDefinition,
    LoadBalancerInfo: {
      ContainerName: p.LoadBalancerInfo.ContainerName,
      ContainerPort: p.LoadBalancerInfo.ContainerPort,
    },
    ...(p.PlatformVersion !== undefined && { PlatformVersion: p.PlatformVersion }),
    ...(vpc && {
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          Subnets: [...vpc.Subnets],
          ...(vpc.SecurityGroups && { SecurityGroups: [...vpc.SecurityGroups] }),
          ...(vpc.AssignPublicIp && { AssignPublicIp: vpc.AssignPublicIp }),
        },
      },
    }),
    ...(p.CapacityProviderStrategy && {
      CapacityProviderStrategy: p.CapacityProviderStrategy.map((s) => ({
        ...(s.Base !== undefined && { Base: s.Base }),
        CapacityProvider: s.CapacityProvider,
        ...(s.Weight !== undefined && { Weight: s.Weight }),
      })),
    }),
  };
  return {
    version: appspec.version,
    Resources: [{ TargetService: { Type: 'AWS::ECS::Service', Properties: properties } }],
    // `Hooks:` left empty reads as null.
    ...(appspec.Hooks?.length && { Hooks: appspec.Hooks.map((h) => ({ ...h })) }),
  };
}

// ---------------------------------------------------------------------------------------
// Structure checks

function checkRoot(root: Record<string, unknown>, problems: FieldProblems): void {
  checkKeys(root, [], ROOT_KEYS, problems, (key) =>
    ['os', 'files', 'permissions'].includes(key)
      ? `"${key}" belongs to EC2/on-premises appspecs; an ECS deployment copies no files.`
      : undefined,
  );
  if (!('version' in root)) {
    problems.at(['version'], 'The appspec has no version.', 'Add `version: 0.0` as its first line.');
  } else if (root.version !== 0 && root.version !== '0.0') {
    problems.at(
      ['version'],
      `version is ${describeValue(root.version)}; the only valid version is 0.0.`,
      'Write `version: 0.0`.',
    );
  }
  checkResources(root.Resources, problems);
  checkHooks(root.Hooks, problems);
}

function checkResources(resources: unknown, problems: FieldProblems): void {
  if (!Array.isArray(resources) || resources.length !== 1) {
    problems.at(
      ['Resources'],
      resources === undefined
        ? 'The appspec has no Resources.'
        : Array.isArray(resources)
          ? `Resources has ${resources.length} items; an ECS appspec has exactly one, the TargetService.`
          : `Resources is ${describeValue(resources)}; it must be a list with one TargetService.`,
      `Write Resources as a list with one TargetService, for example:\n${MINIMAL_APPSPEC}`,
    );
    if (!Array.isArray(resources) || resources.length === 0) return;
  }
  const resource = mapping(
    resources[0],
    RESOURCE_PATH,
    ['TargetService'],
    problems,
    'Write `- TargetService:` as the item of Resources.',
  );
  const service =
    resource &&
    mapping(
      resource.TargetService,
      TARGET_SERVICE_PATH,
      ['Type', 'Properties'],
      problems,
      'Write the item of Resources as `- TargetService:` with `Type: AWS::ECS::Service` and Properties.',
    );
  if (!service) return;
  if (service.Type !== 'AWS::ECS::Service') {
    problems.at(
      [...TARGET_SERVICE_PATH, 'Type'],
      service.Type === undefined
        ? 'TargetService has no Type.'
        : `Type is ${describeValue(service.Type)}; this action deploys Amazon ECS services, whose Type is AWS::ECS::Service.`,
      'Write `Type: AWS::ECS::Service`.',
    );
  }
  const properties = mapping(
    service.Properties,
    PROPERTIES_PATH,
    PROPERTY_KEYS,
    problems,
    'Give Properties a TaskDefinition and LoadBalancerInfo (ContainerName, ContainerPort).',
  );
  if (!properties) return;

  if (typeof properties.TaskDefinition !== 'string' || properties.TaskDefinition === '') {
    problems.at(
      [...PROPERTIES_PATH, 'TaskDefinition'],
      properties.TaskDefinition === undefined
        ? 'Properties has no TaskDefinition.'
        : `TaskDefinition is ${describeValue(properties.TaskDefinition)}.`,
      `Write \`TaskDefinition: ${TASK_DEFINITION_PLACEHOLDER}\`; the action puts the registered revision's ARN there.`,
    );
  }
  checkLoadBalancerInfo(properties.LoadBalancerInfo, problems);
  if (
    properties.PlatformVersion !== undefined &&
    (typeof properties.PlatformVersion !== 'string' || properties.PlatformVersion === '')
  ) {
    problems.at(
      [...PROPERTIES_PATH, 'PlatformVersion'],
      `PlatformVersion is ${describeValue(properties.PlatformVersion)}.`,
      'Write a Fargate platform version such as LATEST or 1.4.0, or remove PlatformVersion.',
    );
  }
  checkNetworkConfiguration(properties.NetworkConfiguration, problems);
  checkCapacityProviderStrategy(properties.CapacityProviderStrategy, problems);
}

function checkLoadBalancerInfo(value: unknown, problems: FieldProblems): void {
  const info = mapping(
    value,
    LOAD_BALANCER_INFO_PATH,
    ['ContainerName', 'ContainerPort'],
    problems,
    'Give LoadBalancerInfo the ContainerName and ContainerPort the load balancer sends traffic to.',
  );
  if (!info) return;
  if (typeof info.ContainerName !== 'string' || info.ContainerName === '') {
    problems.at(
      [...LOAD_BALANCER_INFO_PATH, 'ContainerName'],
      info.ContainerName === undefined
        ? 'LoadBalancerInfo has no ContainerName.'
        : `ContainerName is ${describeValue(info.ContainerName)}.`,
      "Set ContainerName to the name of the task definition's container that serves traffic.",
    );
  }
  const port = info.ContainerPort;
  if (!isPort(port)) {
    const numeric = typeof port === 'string' && isPort(Number(port)) ? Number(port) : undefined;
    problems.at(
      [...LOAD_BALANCER_INFO_PATH, 'ContainerPort'],
      port === undefined
        ? 'LoadBalancerInfo has no ContainerPort.'
        : `ContainerPort is ${describeValue(port)}; it must be a whole number from 1 to 65535.`,
      numeric !== undefined
        ? `Write it as a number, without quotes: \`ContainerPort: ${numeric}\`.`
        : 'Set ContainerPort to the containerPort of a port mapping of that container.',
    );
  }
}

function checkNetworkConfiguration(value: unknown, problems: FieldProblems): void {
  if (value === undefined) return;
  const path = [...PROPERTIES_PATH, 'NetworkConfiguration'];
  // The appspec's network configuration replaces the service's as a whole; nothing is merged.
  const whole =
    "It replaces the service's whole network configuration, so give AwsvpcConfiguration with Subnets (and the SecurityGroups and AssignPublicIp the tasks need), or remove NetworkConfiguration to keep the service's.";
  const network = mapping(value, path, ['AwsvpcConfiguration'], problems, whole);
  const vpcPath = [...path, 'AwsvpcConfiguration'];
  const vpc =
    network &&
    mapping(
      network.AwsvpcConfiguration,
      vpcPath,
      ['Subnets', 'SecurityGroups', 'AssignPublicIp'],
      problems,
      whole,
    );
  if (!vpc) return;
  if (vpc.Subnets === undefined) {
    problems.at([...vpcPath, 'Subnets'], 'AwsvpcConfiguration has no Subnets.', whole);
  } else {
    checkStringList(vpc.Subnets, [...vpcPath, 'Subnets'], 'subnet IDs', problems);
  }
  if (vpc.SecurityGroups !== undefined) {
    checkStringList(vpc.SecurityGroups, [...vpcPath, 'SecurityGroups'], 'security group IDs', problems);
  }
  const assign = vpc.AssignPublicIp;
  if (assign !== undefined && assign !== 'ENABLED' && assign !== 'DISABLED') {
    problems.at(
      [...vpcPath, 'AssignPublicIp'],
      `AssignPublicIp is ${describeValue(assign)}; it must be ENABLED or DISABLED.`,
      typeof assign === 'string' && ['ENABLED', 'DISABLED'].includes(assign.toUpperCase())
        ? `Write it in capitals: ${assign.toUpperCase()}.`
        : 'Write ENABLED (tasks get a public IP) or DISABLED.',
    );
  }
}

function checkStringList(value: unknown, path: FieldPath, what: string, problems: FieldProblems): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.at(
      path,
      `${path[path.length - 1]} is ${Array.isArray(value) ? 'an empty list' : describeValue(value)}.`,
      `Write a list of ${what}, such as [${what.startsWith('subnet') ? 'subnet-0abc, subnet-0def' : 'sg-0abc'}].`,
    );
    return;
  }
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'string' || item === '') {
      problems.at([...path, i], `This item is ${describeValue(item)}.`, `Write ${what} as text.`);
    }
  });
}

function checkCapacityProviderStrategy(value: unknown, problems: FieldProblems): void {
  if (value === undefined) return;
  const path = [...PROPERTIES_PATH, 'CapacityProviderStrategy'];
  const example = 'for example `- CapacityProvider: FARGATE_SPOT` with optional Base and Weight';
  if (!Array.isArray(value) || value.length === 0) {
    problems.at(
      path,
      `CapacityProviderStrategy is ${Array.isArray(value) ? 'an empty list' : describeValue(value)}.`,
      `Write it as a list of capacity providers, ${example}; or remove it.`,
    );
    return;
  }
  value.forEach((item: unknown, i) => {
    const entry = mapping(
      item,
      [...path, i],
      ['Base', 'CapacityProvider', 'Weight'],
      problems,
      `Write ${example}.`,
    );
    if (!entry) return;
    if (typeof entry.CapacityProvider !== 'string' || entry.CapacityProvider === '') {
      problems.at(
        [...path, i, 'CapacityProvider'],
        entry.CapacityProvider === undefined
          ? 'This strategy item has no CapacityProvider.'
          : `CapacityProvider is ${describeValue(entry.CapacityProvider)}.`,
        'Name the capacity provider, such as FARGATE or FARGATE_SPOT.',
      );
    }
    for (const [field, max] of [
      ['Base', 100000],
      ['Weight', 1000],
    ] as const) {
      const n = entry[field];
      if (n !== undefined && !(Number.isInteger(n) && (n as number) >= 0 && (n as number) <= max)) {
        problems.at(
          [...path, i, field],
          `${field} is ${describeValue(n)}.`,
          `Write ${field} as a whole number from 0 to ${max}.`,
        );
      }
    }
  });
}

/** A mapping at `path`, with its unknown keys reported; undefined (and a problem) otherwise. */
function mapping(
  value: unknown,
  path: FieldPath,
  known: readonly string[],
  problems: FieldProblems,
  fix: string,
): Record<string, unknown> | undefined {
  const name = String(path[path.length - 1]);
  if (!isRecord(value)) {
    problems.at(
      path,
      value === undefined
        ? `${parentName(path)} has no ${name}.`
        : `${formatFieldPath(path)} is ${describeValue(value)}, not a mapping.`,
      fix,
    );
    return undefined;
  }
  checkKeys(value, path, known, problems);
  return value;
}

function parentName(path: FieldPath): string {
  const parent = path.slice(0, -1);
  return parent.length > 0 ? formatFieldPath(parent) : 'The appspec';
}

function checkKeys(
  value: Record<string, unknown>,
  path: FieldPath,
  known: readonly string[],
  problems: FieldProblems,
  hint?: (key: string) => string | undefined,
): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const suggestion = closest(key, known);
    const where = path.length > 0 ? formatFieldPath(path) : 'the top level of an ECS appspec';
    problems.at(
      [...path, key],
      `Unknown property ${JSON.stringify(key)} in ${where}.${suggestion ? ` Did you mean ${suggestion}?` : ''}${hint?.(key) ? ` ${hint(key)}` : ''}`,
      suggestion ? `Rename it to ${suggestion}.` : `Remove it; ${where} takes ${known.join(', ')}.`,
    );
  }
}

/** The known name a misspelt one was most likely meant to be, if any is close. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(2, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

// ---------------------------------------------------------------------------------------
// Hooks

/** EC2/on-premises events whose work has a place in an ECS deployment. */
const MOVED_HOOKS: Record<string, { to: EcsHook; why: string }> = {
  ApplicationStart: {
    to: 'AfterAllowTestTraffic',
    why: 'it runs once the test listener sends traffic to the new tasks, the moment to check that they work',
  },
  ValidateService: {
    to: 'AfterAllowTestTraffic',
    why: 'it runs once the test listener sends traffic to the new tasks, the moment to check that they work',
  },
};

/** EC2/on-premises events with no counterpart in an ECS deployment, and why. */
const DROPPED_HOOKS: Record<string, string> = {
  ApplicationStop:
    "ECS stops the old tasks itself once traffic has moved; graceful shutdown belongs in the container's SIGTERM handling (and stopTimeout)",
  DownloadBundle: 'ECS pulls the image itself; there is no bundle to download',
  Install: 'CodeDeploy runs this step itself and it takes no hook',
  BeforeBlockTraffic:
    'ECS deployments have no block-traffic events; the load balancer moves traffic between task sets',
  AfterBlockTraffic:
    'ECS deployments have no block-traffic events; the load balancer moves traffic between task sets',
  BlockTraffic:
    'ECS deployments have no block-traffic events; the load balancer moves traffic between task sets',
  AllowTestTraffic: 'CodeDeploy runs this step itself and it takes no hook; use AfterAllowTestTraffic',
  AllowTraffic:
    'CodeDeploy runs this step itself and it takes no hook; use BeforeAllowTraffic or AfterAllowTraffic',
};

const SCRIPT_FIELDS = ['location', 'timeout', 'runas', 'runasuser'];

const isEcsHook = (name: string): name is EcsHook => (ECS_HOOKS as readonly string[]).includes(name);

function isScriptList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.some(
      (entry) => isRecord(entry) && Object.keys(entry).some((k) => SCRIPT_FIELDS.includes(k.toLowerCase())),
    )
  );
}

function checkHooks(value: unknown, problems: FieldProblems): void {
  if (value === undefined || value === null) return;
  const entries: [string, unknown][] = isRecord(value)
    ? Object.entries(value)
    : Array.isArray(value)
      ? value.filter(isRecord).flatMap((item) => Object.entries(item))
      : [];
  const scripts = entries.filter(([, v]) => isScriptList(v)).map(([name]) => name);
  const ec2Events = entries
    .map(([name]) => name)
    .filter((name) => name in MOVED_HOOKS || name in DROPPED_HOOKS);

  if (scripts.length > 0 || ec2Events.length > 0) {
    const form = [
      scripts.length > 0 && `scripts under ${scripts.join(', ')}`,
      ec2Events.length > 0 && `events only EC2/on-premises deployments have: ${ec2Events.join(', ')}`,
    ]
      .filter(Boolean)
      .join('; ');
    problems.at(
      ['Hooks'],
      `Hooks are written in the EC2/on-premises form (${form}). In an ECS deployment each hook is a Lambda function, given by name or ARN, that CodeDeploy invokes at that lifecycle event; the function must call PutLifecycleEventHookExecutionStatus with Succeeded or Failed within one hour, or the deployment fails. Scripts (location, timeout, runas) run only in EC2/on-premises deployments.`,
      suggestHooks(entries),
    );
    return;
  }
  if (!Array.isArray(value)) {
    problems.at(
      ['Hooks'],
      `Hooks is ${describeValue(value)}; it must be a list of single-key maps, one per hook.`,
      suggestHooks(entries),
    );
    return;
  }
  value.forEach((item: unknown, i) => {
    if (!isRecord(item) || Object.keys(item).length !== 1) {
      problems.at(
        ['Hooks', i],
        `This item is ${isRecord(item) ? `a mapping with ${Object.keys(item).length} keys` : describeValue(item)}; each item of Hooks names one hook.`,
        'Write one hook per item: `- BeforeInstall: "my-function"`.',
      );
      return;
    }
    const [name, fn] = Object.entries(item)[0]!;
    if (!isEcsHook(name)) {
      const suggestion = closest(name, ECS_HOOKS);
      problems.at(
        ['Hooks', i, name],
        `${JSON.stringify(name)} is not an ECS lifecycle hook.${suggestion ? ` Did you mean ${suggestion}?` : ''}`,
        suggestion ? `Rename it to ${suggestion}.` : `Use one of ${ECS_HOOKS.join(', ')}.`,
      );
    }
    if (typeof fn !== 'string' || fn.trim() === '') {
      problems.at(
        ['Hooks', i, name],
        `The hook ${name} is ${describeValue(fn)}; it must name a Lambda function.`,
        `Write the function's name or ARN: \`- ${name}: "my-function"\`.`,
      );
    }
  });
}

/**
 * The corrected Hooks section, built from the user's own: ECS events kept, events that have
 * an ECS counterpart moved, the rest dropped with the reason. Scripts become placeholder
 * Lambda names taken from the script's file name.
 */
function suggestHooks(entries: [string, unknown][]): string {
  const chosen = new Map<EcsHook, string>();
  const notes: string[] = [];
  for (const [name, value] of entries) {
    const moved = MOVED_HOOKS[name];
    const hook = isEcsHook(name) ? name : moved?.to;
    if (hook === undefined) {
      notes.push(`${name} was dropped: ${DROPPED_HOOKS[name] ?? 'it is not a CodeDeploy lifecycle event'}.`);
      continue;
    }
    if (chosen.has(hook)) {
      notes.push(`${name}'s checks belong in the same ${hook} function.`);
      continue;
    }
    chosen.set(hook, typeof value === 'string' && value.trim() !== '' ? value : lambdaName(name, value));
    if (moved) notes.push(`${name} became ${hook}: ${moved.why}.`);
  }
  const lines = ECS_HOOKS.filter((h) => chosen.has(h)).map(
    (h) => `  - ${h}: ${JSON.stringify(chosen.get(h))}`,
  );
  const head =
    lines.length > 0
      ? `Write Hooks as a list of Lambda functions (create each one first), or delete Hooks if you need no checks:\nHooks:\n${lines.join('\n')}`
      : 'Delete the Hooks section: none of its events exists in an ECS deployment.';
  return [head, ...notes].join('\n');
}

/** `scripts/before_install.sh` → `before-install`; with no script, the hook's own name. */
function lambdaName(hook: string, value: unknown): string {
  const script = Array.isArray(value) ? value.find(isRecord) : undefined;
  const locationKey = script && Object.keys(script).find((k) => k.toLowerCase() === 'location');
  const location = locationKey ? script[locationKey] : undefined;
  const base =
    typeof location === 'string' && location.trim() !== ''
      ? location.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '')
      : hook;
  const name = base
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 64);
  return name || lambdaName(hook, undefined);
}
