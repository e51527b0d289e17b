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
  if (containerNames !== undefined) {
    const tag = imageTags(config)[0] ?? 'latest';
    const planned = config.containers.map((c, i) => ({
      containerName: containerNames[i] as string,
      imageUri: c.image ?? `${repositories.get(c.build!.repository)?.uri ?? c.build!.repository}:${tag}`,
    }));
    const taskDefinition = await collect(
      () =>
        prepareTaskDefinition(source!.doc, planned, {
          source: source!.description,
          where: 'task-definition',
          parsed: source!.parsed,
          family: config.taskDefinitionFamily,
        }).input,
    );
    if (mode === 'codedeploy' && taskDefinition !== undefined) {
      appspec = await collect(() => planAppSpec(config, taskDefinition, userAppSpec, service));
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  return {
    mode,
    service,
    group,
    source,
    repositories,
    containerNames: containerNames as string[],
    appspec,
  };
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
