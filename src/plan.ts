/**
 * Plan: everything that can be known before changing anything, checked and reported
 * together. Local files first (a typo there should not wait on AWS), then the service, its
 * deployment controller, the CodeDeploy group, the starting task definition, the ECR
 * repositories, and the task definition and appspec as they will be deployed.
 */
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { type AwsClients, checkCredentials } from './aws.js';
import { type Config, imageTags } from './config.js';
import {
  defaultCodeDeployNames,
  type DeploymentGroupTarget,
  getDeploymentGroup,
} from './deploy/codedeploy.js';
import {
  describeTargetService,
  describeTaskDefinition,
  resolveDeployMode,
  type ResolvedDeployMode,
  type TargetService,
} from './deploy/service.js';
import { findRepository, missingRepository, type Repository } from './ecr.js';
import { type Problem, UserError } from './errors.js';
import type { Log } from './log.js';
import {
  type AppSpec,
  checkAppSpecAgainstTaskDefinition,
  generateAppSpec,
  parseAppSpec,
} from './render/appspec.js';
import type { ParsedDocument } from './render/document.js';
import { parseDocument } from './render/document.js';
import { prepareTaskDefinition } from './render/taskdef.js';
import { buildPolicy, type PolicyDocument, type PolicyInput } from './policy.js';
import { preflight } from './preflight.js';
import { verifyDeployment } from './verify.js';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

export interface FileSystem {
  readFile(file: string): Promise<string>;
  writeFile(file: string, data: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
}

export interface PlanDeps {
  clients: AwsClients;
  fs: FileSystem;
  log: Log;
}

export interface Plan {
  mode: ResolvedDeployMode;
  service?: TargetService;
  group?: DeploymentGroupTarget;
  source: { doc: unknown; description: string; parsed?: ParsedDocument; file?: string };
  repositories: Map<string, Repository | undefined>;
  containerNames: string[];
  appspec?: { appspec: AppSpec; file?: string; parsed?: ParsedDocument };
  /** The task definition as it will be registered, with the planned image URIs. */
  taskDefinition: RegisterTaskDefinitionCommandInput;
  /** The least-privilege policy for this run, when the preflight built it. */
  policy?: PolicyDocument;
}

async function readUserFile(deps: PlanDeps, file: string, where: string): Promise<string> {
  try {
    return await deps.fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError({
      where,
      what:
        code === 'ENOENT' ? `The file ${file} does not exist.` : `The file ${file} cannot be read (${code}).`,
      fix: `Check the path given in ${where}; it is relative to the repository root.`,
    });
  }
}

/** Everything that can be known before changing anything; all problems reported together. */
export async function validate(config: Config, deps: PlanDeps): Promise<Plan> {
  const { clients } = deps;
  const problems: Problem[] = [];
  const collect = async <T>(fn: () => Promise<T> | T): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof UserError) {
        problems.push(...e.problems);
        return undefined;
      }
      throw e;
    }
  };

  // Local files first: a typo there should not wait on AWS.
  let source: Plan['source'] | undefined;
  if (config.taskDefinition.kind === 'file') {
    const file = config.taskDefinition.path;
    source = await collect(async () => {
      const parsed = parseDocument(
        await readUserFile(deps, file, 'task-definition'),
        file,
        'task-definition',
      );
      return { doc: parsed.value, description: file, parsed, file };
    });
  }
  let userAppSpec: Plan['appspec'];
  if (config.codedeploy.appspecPath !== undefined) {
    const file = config.codedeploy.appspecPath;
    userAppSpec = await collect(async () => ({
      ...parseAppSpec(await readUserFile(deps, file, 'codedeploy-appspec'), file, 'codedeploy-appspec'),
      file,
    }));
  }
  if (problems.length > 0) throw new UserError(problems);

  await checkCredentials(clients);

  let service: TargetService | undefined;
  if (
    config.service !== undefined &&
    (config.deployMode !== 'none' || config.taskDefinition.kind === 'service')
  ) {
    service = await describeTargetService(clients.ecs, config.cluster, config.service);
  }
  const mode = resolveDeployMode(config.deployMode, service);

  let group: DeploymentGroupTarget | undefined;
  if (mode === 'codedeploy') {
    const defaults = defaultCodeDeployNames(config.cluster, config.service as string);
    group = await collect(() =>
      getDeploymentGroup(clients.codedeploy, {
        application: config.codedeploy.application ?? defaults.application,
        deploymentGroup: config.codedeploy.deploymentGroup ?? defaults.deploymentGroup,
        deploymentConfigName: config.codedeploy.deploymentConfig,
        cluster: config.cluster,
        service: config.service as string,
      }),
    );
  }

  if (source === undefined) {
    const ref =
      config.taskDefinition.kind === 'arn'
        ? config.taskDefinition.arn
        : config.taskDefinition.kind === 'family'
          ? config.taskDefinition.family
          : (service as TargetService).taskDefinitionArn;
    const described = await describeTaskDefinition(clients.ecs, ref);
    const description =
      config.taskDefinition.kind === 'service'
        ? `the task definition service ${config.service} runs now (${ref})`
        : `task definition ${ref}`;
    source = { doc: { taskDefinition: described.taskDefinition, tags: described.tags }, description };
  }

  const repositories = new Map<string, Repository | undefined>();
  for (const c of config.containers) {
    if (c.build === undefined || repositories.has(c.build.repository)) continue;
    const repo = await findRepository(clients.ecr, c.build.repository);
    if (repo === undefined && !config.createRepository) {
      problems.push(...missingRepository(c.build.repository, config.region).problems);
    }
    repositories.set(c.build.repository, repo);
  }

  const containerNames = await collect(() => resolveContainerNames(config, source as Plan['source']));
  let appspec: Plan['appspec'];
  let taskDefinition: RegisterTaskDefinitionCommandInput | undefined;
  if (containerNames !== undefined) {
    const tag = imageTags(config)[0] ?? 'latest';
    const planned = config.containers.map((c, i) => ({
      containerName: containerNames[i] as string,
      imageUri: c.image ?? `${repositories.get(c.build!.repository)?.uri ?? c.build!.repository}:${tag}`,
    }));
    taskDefinition = await collect(
      () =>
        prepareTaskDefinition(source!.doc, planned, {
          source: source!.description,
          where: 'task-definition',
          parsed: source!.parsed,
          family: config.taskDefinitionFamily,
        }).input,
    );
    const prepared = taskDefinition;
    if (mode === 'codedeploy' && prepared !== undefined) {
      appspec = await collect(() => planAppSpec(config, prepared, userAppSpec, service));
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  const plan: Plan = {
    mode,
    service,
    group,
    source,
    repositories,
    containerNames: containerNames as string[],
    appspec,
    taskDefinition: taskDefinition as RegisterTaskDefinitionCommandInput,
  };
  if (config.preflight) await checkBeforeChanging(config, plan, deps);
  return plan;
}

/**
 * The preflight: a careful operator's look at the target (verify), then IAM's answer for
 * every call this run will make (simulated), before the first change.
 */
async function checkBeforeChanging(config: Config, plan: Plan, deps: PlanDeps): Promise<void> {
  const { clients, log } = deps;
  const problems = await verifyDeployment(
    clients,
    {
      region: config.region,
      cluster: config.cluster,
      service: config.service,
      deployMode: config.deployMode,
      codedeploy: plan.group && {
        application: plan.group.application,
        deploymentGroup: plan.group.deploymentGroup,
        deploymentConfigName: config.codedeploy.deploymentConfig,
      },
      taskDefinition: {
        input: plan.taskDefinition,
        source: plan.source.description,
        file: plan.source.file,
        parsed: plan.source.parsed,
      },
      appspec: plan.appspec,
      images: config.containers
        .filter((c) => c.image !== undefined)
        .map((c) => ({
          imageUri: c.image as string,
          input: config.containers.length > 1 ? 'containers' : 'image',
        })),
    },
    log,
  );
  if (problems.length > 0) throw new UserError(problems);
  plan.policy = buildPolicy(await policyInput(config, plan, clients));
  const result = await preflight(clients, plan.policy, log);
  if (result.checked) {
    log.info(
      `Preflight: ${result.principal} may make all ${result.allowed} calls this run needs. ${result.note}`,
    );
  }
}

/** What the least-privilege policy for this run is built from. */
export async function policyInput(config: Config, plan: Plan, clients: AwsClients): Promise<PolicyInput> {
  const td = plan.taskDefinition;
  return {
    region: config.region,
    accountId: await accountOf(plan, clients),
    repositories: [...plan.repositories.keys()],
    cluster: config.cluster,
    service: config.service,
    taskDefinitionFamily: td.family ?? '',
    codedeploy: plan.group && {
      application: plan.group.application,
      deploymentGroup: plan.group.deploymentGroup,
      deploymentConfigName: config.codedeploy.deploymentConfig ?? plan.group.deploymentConfigName,
    },
    passRoles: [td.taskRoleArn, td.executionRoleArn].filter((r): r is string => typeof r === 'string'),
    needs: {
      build: config.containers.some((c) => c.build !== undefined),
      createRepository: [...plan.repositories.values()].some((r) => r === undefined),
      mode: plan.mode,
    },
  };
}

/** The account, from an ARN already at hand, else from STS. */
async function accountOf(plan: Plan, clients: AwsClients): Promise<string> {
  const known = /^arn:[\w-]+:ecs:[^:]*:(\d{12}):/.exec(plan.service?.serviceArn ?? '')?.[1];
  if (known !== undefined) return known;
  for (const repo of plan.repositories.values()) {
    const fromUri = /^(\d{12})\.dkr\.ecr\./.exec(repo?.uri ?? '')?.[1];
    if (fromUri !== undefined) return fromUri;
  }
  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  return identity.Account ?? '';
}

function planAppSpec(
  config: Config,
  taskDefinition: RegisterTaskDefinitionCommandInput,
  user: Plan['appspec'],
  service: TargetService | undefined,
): Plan['appspec'] {
  if (user !== undefined) {
    checkAppSpecAgainstTaskDefinition(user.appspec, taskDefinition, {
      file: user.file,
      where: 'codedeploy-appspec',
      parsed: user.parsed,
    });
    return user;
  }
  const lb = service?.service.loadBalancers?.find((l) => l.containerName !== undefined);
  return {
    appspec: generateAppSpec({
      taskDefinition,
      containerName:
        config.containers.length === 1
          ? (lb?.containerName ?? config.containers[0]?.name)
          : lb?.containerName,
      containerPort: config.containerPort ?? lb?.containerPort,
      platformVersion: service?.service.platformVersion,
    }),
  };
}

/** A container given without a name is the task definition's only container. */
function resolveContainerNames(config: Config, source: Plan['source']): string[] {
  const doc = source.doc as {
    taskDefinition?: { containerDefinitions?: { name?: string }[] };
    containerDefinitions?: { name?: string }[];
  };
  const defs = (doc.taskDefinition ?? doc).containerDefinitions ?? [];
  const names = defs.map((d) => d.name).filter((n): n is string => typeof n === 'string');
  return config.containers.map((c) => {
    if (c.name !== undefined) return c.name;
    if (names.length === 1) return names[0] as string;
    throw new UserError({
      where: 'container-name',
      what: `The task definition (${source.description}) has ${names.length} containers (${names.join(', ') || 'none'}), so the one to receive the image must be named.`,
      fix: `Set container-name to one of: ${names.join(', ') || '(add a container to the task definition)'}.`,
    });
  });
}
