/**
 * Plan: everything that can be known before changing anything, checked and reported
 * together. Local files first (a typo there should not wait on AWS), then the service, its
 * deployment controller, the CodeDeploy group, the starting task definition, the ECR
 * repositories, and the task definition and appspec as they will be deployed.
 */
import { awslogsGroups } from './deploy/container-logs.js';
import path from 'node:path';
import { DescribeImagesCommand, type ECRClient, type ImageIdentifier } from '@aws-sdk/client-ecr';
import type { RegisterTaskDefinitionCommandInput, Tag } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type AwsClients, checkCredentials } from './aws.js';
import type { Clock } from './clock.js';
import { type Config, imageTags, type PreviewConfig } from './config.js';
import { isAwsError } from './deploy/aws-errors.js';
import { chooseStrategy, type ResolvedDeployMode } from './deploy/choose.js';
import type { DeploymentGroupTarget } from './deploy/codedeploy.js';
import { describeTargetService, describeTaskDefinition, type TargetService } from './deploy/service.js';
import type { DeploymentStrategy, TargetCheck } from './deploy/strategy.js';
import { waitForActiveOptions } from './deploy/active.js';
import { findRepository, missingRepository, type Repository } from './ecr.js';
import { type Problem, UserError } from './errors.js';
import type { FileSystem } from './fs.js';
import type { Log } from './log.js';
import {
  type AppSpec,
  checkAppSpecAgainstTaskDefinition,
  generateAppSpec,
  parseAppSpec,
} from './render/appspec.js';
import type { ParsedDocument } from './render/document.js';
import { parseDocument } from './render/document.js';
import {
  type ImageAssignment,
  type PreparedTaskDefinition,
  prepareTaskDefinition,
} from './render/taskdef.js';
import { previewFamily, previewNames } from './preview/names.js';
import { familyOfDocument, planPreview, type PreviewPlan } from './preview/preview.js';
import { buildPolicy, type PolicyDocument, type PolicyInput } from './policy.js';
import { type Caller, preflight, resolveCaller } from './preflight.js';
import { checkOneOffTask } from './task/run.js';
import { verifyDeployment } from './verify.js';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

export type { FileSystem } from './fs.js';

export interface PlanDeps {
  clients: AwsClients;
  fs: FileSystem;
  log: Log;
  /** For waiting on a preview service that is still draining. */
  clock: Clock;
  signal?: AbortSignal;
  elbv2?: ElasticLoadBalancingV2Client;
}

export interface Plan {
  mode: ResolvedDeployMode;
  /** How the service is deployed (deploy/choose.ts decided); undefined for deploy-mode none. */
  strategy?: DeploymentStrategy;
  service?: TargetService;
  group?: DeploymentGroupTarget;
  /** What the strategy's check found (the group above, ECS-native's drain time), handed to its start. */
  check: TargetCheck;
  source: { doc: unknown; description: string; parsed?: ParsedDocument; file?: string };
  repositories: Map<string, Repository | undefined>;
  containerNames: string[];
  appspec?: { appspec: AppSpec; file?: string; parsed?: ParsedDocument };
  /** The task definition as it will be registered, with the planned image URIs. */
  taskDefinition: RegisterTaskDefinitionCommandInput;
  /** The least-privilege policy for this run, when the preflight built it. */
  policy?: PolicyDocument;
  /** The family to register under, when not the document's own (task-definition-family, a preview's). */
  family?: string;
  /** Tags the registered task definition carries on top of its own (a preview's). */
  extraTags: Tag[];
  /** A pull request's preview: its service is deployed to instead of the base service. */
  preview?: PreviewPlan;
  /** ECR repositories of the existing images to deploy, each checked to hold its image. */
  imageRepositories: string[];
  /** register: false: the ACTIVE revision deployed as it is (nothing is registered). */
  asIsArn?: string;
}

/** register: false deploys an existing revision: it must be ACTIVE (checked before any change). */
export function deployableAsIs(source: Plan['source'], arn: string): string {
  const td = (source.doc as { taskDefinition?: { status?: string; taskDefinitionArn?: string } })
    .taskDefinition;
  if (td?.status !== 'ACTIVE' || td.taskDefinitionArn === undefined) {
    throw new UserError({
      where: 'task-definition-arn',
      what: `${arn} is ${td?.status ?? 'not found'}, so it cannot be deployed as it is (ECS runs no new tasks from an INACTIVE revision).`,
      fix: 'Name an ACTIVE revision (aws ecs list-task-definitions --family-prefix FAMILY --status ACTIVE), or leave register at true to register a new revision from it.',
    });
  }
  return td.taskDefinitionArn;
}

/** The tags of a registered revision: task-definition-tags (with the commit and run), under a preview's own. */
function withRevisionTags(config: Config, extraTags: Tag[]): Tag[] {
  const own = new Set(extraTags.map((t) => t.key));
  return [...config.revisions.taskDefinitionTags.filter((t) => !own.has(t.key)), ...extraTags];
}

/** The task definition to register, with `images` put in, the plan's family and its extra tags. */
export function prepareRegistration(
  plan: Pick<Plan, 'source' | 'family' | 'extraTags'>,
  images: ImageAssignment[],
): PreparedTaskDefinition {
  const prepared = prepareTaskDefinition(plan.source.doc, images, {
    source: plan.source.description,
    where: 'task-definition',
    parsed: plan.source.parsed,
    family: plan.family,
  });
  if (plan.extraTags.length > 0) {
    const keys = new Set(plan.extraTags.map((t) => t.key));
    prepared.input.tags = [...(prepared.input.tags ?? []).filter((t) => !keys.has(t.key)), ...plan.extraTags];
  }
  return prepared;
}

/**
 * Config checks paths as text; here, before anything is read, the real path (symbolic links
 * resolved) must stay inside the real workspace too, or a link in the repository could make
 * the action read, and echo in an error, a file of the runner's.
 */
async function insideWorkspace(
  deps: PlanDeps,
  workspace: string,
  file: string,
  where: string,
): Promise<void> {
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([deps.fs.realpath(file), deps.fs.realpath(workspace)]);
  } catch {
    return; // a missing file is reported where it is read or built
  }
  const rel = path.relative(root, real);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new UserError({
      where,
      what: `${path.relative(workspace, file) || file} leads, through a symbolic link, to ${real}, which is outside the workspace (${root}).`,
      fix: 'Use a path inside the repository checkout that is not a link to outside it.',
    });
  }
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

/** Problems gathered across checks, so a run reports every one of them at once. */
class Problems {
  readonly list: Problem[] = [];

  /** Runs a check; a UserError's problems are kept and undefined returned. */
  async collect<T>(fn: () => Promise<T> | T): Promise<T | undefined> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof UserError) {
        this.list.push(...e.problems);
        return undefined;
      }
      throw e;
    }
  }

  /** Stops here when anything was found so far. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new UserError(this.list);
  }
}

/** The files a run reads, each of which must really be inside the workspace. */
function userPaths(config: Config): [string | undefined, string][] {
  const where = (single: string) => (config.containers.length > 1 ? 'containers' : single);
  return [
    [config.taskDefinition.kind === 'file' ? config.taskDefinition.path : undefined, 'task-definition'],
    [config.codedeploy.appspecPath, 'codedeploy-appspec'],
    ...config.containers.flatMap((c): [string | undefined, string][] =>
      c.build === undefined
        ? []
        : [
            [c.build.context, where('context')],
            [c.build.file, where('file')],
          ],
    ),
  ];
}

/** Local files first: a typo there should not wait on AWS. */
async function readLocalFiles(
  config: Config,
  deps: PlanDeps,
  problems: Problems,
): Promise<{ source?: Plan['source']; userAppSpec?: Plan['appspec'] }> {
  for (const [file, where] of userPaths(config)) {
    if (file !== undefined)
      await problems.collect(() => insideWorkspace(deps, config.workspace, file, where));
  }
  problems.throwIfAny();
  let source: Plan['source'] | undefined;
  if (config.taskDefinition.kind === 'file') {
    const file = config.taskDefinition.path;
    source = await problems.collect(async () => {
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
    userAppSpec = await problems.collect(async () => ({
      ...parseAppSpec(await readUserFile(deps, file, 'codedeploy-appspec'), file, 'codedeploy-appspec'),
      file,
    }));
  }
  problems.throwIfAny();
  return { source, userAppSpec };
}

interface Target {
  service?: TargetService;
  strategy?: DeploymentStrategy;
  mode: ResolvedDeployMode;
  check: TargetCheck;
  previewing: boolean;
}

/** The service, the strategy the chooser picks for it, and what that strategy checks. */
async function checkTarget(config: Config, deps: PlanDeps, problems: Problems): Promise<Target> {
  const { clients } = deps;
  await checkCredentials(clients);
  let service: TargetService | undefined;
  if (
    config.service !== undefined &&
    (config.deployMode !== 'none' || config.taskDefinition.kind === 'service')
  ) {
    service = await describeTargetService(clients.ecs, config.cluster, config.service);
  }
  // A preview is a service of its own with the ECS controller, whatever the base service uses.
  const previewing = config.preview?.action === 'deploy';
  const strategy = chooseStrategy(config.deployMode, service, { preview: previewing });
  let check: TargetCheck = {};
  if (strategy !== undefined && service !== undefined && !previewing) {
    const ctx = { config, clock: deps.clock, log: deps.log, signal: deps.signal };
    check = (await problems.collect(() => strategy.check(clients, service, ctx))) ?? {};
  }
  return { service, strategy, mode: strategy?.name ?? 'none', check, previewing };
}

/** The task definition to start from when no file is given: by ARN, by family, or the service's. */
async function describedSource(
  config: Config,
  deps: PlanDeps,
  service?: TargetService,
): Promise<Plan['source']> {
  const ref =
    config.taskDefinition.kind === 'arn'
      ? config.taskDefinition.arn
      : config.taskDefinition.kind === 'family'
        ? config.taskDefinition.family
        : (service as TargetService).taskDefinitionArn;
  const described = await describeTaskDefinition(deps.clients.ecs, ref);
  const description =
    config.taskDefinition.kind === 'service'
      ? `the task definition service ${config.service} runs now (${ref})`
      : `task definition ${ref}`;
  return { doc: { taskDefinition: described.taskDefinition, tags: described.tags }, description };
}

/** The repositories to push to (a missing one is a problem unless it may be created). */
async function checkRepositories(
  config: Config,
  deps: PlanDeps,
  problems: Problems,
): Promise<Plan['repositories']> {
  const repositories = new Map<string, Repository | undefined>();
  for (const c of config.containers) {
    if (c.build === undefined || repositories.has(c.build.repository)) continue;
    const repo = await findRepository(deps.clients.ecr, c.build.repository);
    if (repo === undefined && !config.createRepository) {
      problems.list.push(...missingRepository(c.build.repository, config.region).problems);
    }
    repositories.set(c.build.repository, repo);
  }
  return repositories;
}

/** Every existing image to deploy is there; the ECR repositories that hold them. */
async function checkExistingImages(config: Config, deps: PlanDeps, problems: Problems): Promise<string[]> {
  const imageRepositories = new Set<string>();
  for (const c of config.containers) {
    if (c.image === undefined) continue;
    const where = config.containers.length > 1 ? 'containers' : 'image';
    const checked = await problems.collect(() =>
      checkImageExists(deps.clients.ecr, c.image as string, where, config.region, deps.log),
    );
    if (checked !== undefined) imageRepositories.add(checked);
  }
  return [...imageRepositories];
}

/** The family to register under and its extra tags: a preview's <family>-pr-<N>, tagged as the preview's. */
async function registrationFamily(
  config: Config,
  source: Plan['source'],
  previewing: boolean,
  problems: Problems,
): Promise<{ family?: string; extraTags: Tag[]; baseFamily?: string }> {
  const family = config.taskDefinitionFamily;
  if (!previewing) return { family, extraTags: [] };
  const baseFamily = family ?? familyOfDocument(source.doc);
  if (baseFamily === undefined) return { family, extraTags: [] };
  const names = await problems.collect(() =>
    previewNames(config.service as string, config.preview as PreviewConfig),
  );
  if (names === undefined) return { family, extraTags: [], baseFamily };
  const previewed = await problems.collect(() => previewFamily(baseFamily, names.pullRequest));
  return { family: previewed, extraTags: names.tags, baseFamily };
}

/** The task definition as it will be registered (planned image URIs), and the appspec for it. */
async function plannedRevision(
  config: Config,
  parts: { source: Plan['source']; family?: string; extraTags: Tag[]; repositories: Plan['repositories'] },
  target: Target,
  userAppSpec: Plan['appspec'],
  problems: Problems,
) {
  const containerNames = await problems.collect(() => resolveContainerNames(config, parts.source));
  if (containerNames === undefined) return { containerNames };
  const tag = imageTags(config)[0] ?? 'latest';
  const planned = config.containers.map((c, i) => ({
    containerName: containerNames[i] as string,
    imageUri: c.image ?? `${parts.repositories.get(c.build!.repository)?.uri ?? c.build!.repository}:${tag}`,
  }));
  const taskDefinition = await problems.collect(() => prepareRegistration(parts, planned).input);
  let appspec: Plan['appspec'];
  if (target.mode === 'codedeploy' && taskDefinition !== undefined) {
    appspec = await problems.collect(() => planAppSpec(config, taskDefinition, userAppSpec, target.service));
  }
  return { containerNames, taskDefinition, appspec };
}

/** The pull request's preview service, when this run deploys one and nothing else is wrong. */
async function plannedPreview(
  config: Config,
  deps: PlanDeps,
  target: Target,
  taskDefinition: RegisterTaskDefinitionCommandInput | undefined,
  baseFamily: string | undefined,
  problems: Problems,
): Promise<PreviewPlan | undefined> {
  const { service } = target;
  if (!target.previewing || service === undefined || taskDefinition === undefined) return undefined;
  if (baseFamily === undefined || problems.list.length > 0) return undefined;
  return problems.collect(() =>
    planPreview(config, service, taskDefinition, baseFamily, {
      ecs: deps.clients.ecs,
      elbv2: deps.elbv2,
      log: deps.log,
      wait: waitForActiveOptions(config, deps),
    }),
  );
}

/**
 * With wait-for-active-deployment-minutes 0 a rolling service busy with another deployment is
 * refused here, before anything is built or registered (the start checks again, for a race).
 */
function checkServiceIdle(config: Config, target: Target, problems: Problems): void {
  if (config.waitForActiveDeploymentMinutes !== 0 || target.previewing || config.rollback) return;
  if (target.strategy?.name !== 'rolling') return;
  const busy = target.service?.service.deployments?.find((d) => d.rolloutState === 'IN_PROGRESS');
  if (busy?.id === undefined) return;
  problems.list.push({
    where: 'service',
    what: `Service ${config.cluster}/${config.service ?? ''} has a deployment in progress (${busy.id}) that this run did not start.`,
    fix: 'Let it finish, or raise wait-for-active-deployment-minutes; give the workflow job a `concurrency:` group so runs queue.',
  });
}

/** Everything that can be known before changing anything; all problems reported together. */
export async function validate(config: Config, deps: PlanDeps): Promise<Plan> {
  const problems = new Problems();
  const local = await readLocalFiles(config, deps, problems);
  const target = await checkTarget(config, deps, problems);
  checkServiceIdle(config, target, problems);
  const source = local.source ?? (await describedSource(config, deps, target.service));
  const asIsArn = config.revisions.register
    ? undefined
    : deployableAsIs(source, config.taskDefinition.kind === 'arn' ? config.taskDefinition.arn : '');
  const repositories = await checkRepositories(config, deps, problems);
  const imageRepositories = await checkExistingImages(config, deps, problems);
  const registration = await registrationFamily(config, source, target.previewing, problems);
  const { family, baseFamily } = registration;
  // A preview's revision carries the preview's tags only (its destroy finds it by them).
  const extraTags = target.previewing
    ? registration.extraTags
    : withRevisionTags(config, registration.extraTags);
  const revision = await plannedRevision(
    config,
    { source, family, extraTags, repositories },
    target,
    local.userAppSpec,
    problems,
  );
  const preview = await plannedPreview(config, deps, target, revision.taskDefinition, baseFamily, problems);
  if (config.task !== undefined && revision.taskDefinition !== undefined) {
    problems.list.push(...checkOneOffTask(config.task, revision.taskDefinition, target.service?.service));
  }
  problems.throwIfAny();
  const plan: Plan = {
    mode: target.mode,
    strategy: target.strategy,
    service: target.service,
    group: target.check.group,
    check: target.check,
    source,
    repositories,
    containerNames: revision.containerNames as string[],
    appspec: revision.appspec,
    taskDefinition: revision.taskDefinition as RegisterTaskDefinitionCommandInput,
    family,
    extraTags,
    preview,
    imageRepositories,
    asIsArn,
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
  // A preview's service may not exist yet; the base service was checked while planning it.
  const problems = await verifyDeployment(
    clients,
    {
      region: config.region,
      cluster: config.cluster,
      service: plan.preview ? undefined : config.service,
      deployMode: plan.preview ? 'none' : config.deployMode,
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
      // Validation read these already (and checked the images); verify adds the cluster, the
      // load balancer and the roles.
      known: {
        service: plan.preview ? undefined : plan.service,
        deploymentGroupChecked: plan.group !== undefined,
      },
    },
    log,
  );
  if (problems.length > 0) throw new UserError(problems);
  const caller = await resolveCaller(clients, log);
  plan.policy = buildPolicy(await policyInput(config, plan, clients, caller));
  const result = await preflight(
    clients,
    requiredPart(plan.policy, plan.preview?.routing !== undefined),
    log,
    caller,
  );
  if (result.checked) {
    const undecided = result.undecided.length;
    log.info(
      undecided === 0
        ? `Preflight: ${result.principal} may make all ${result.allowed} calls this run needs. ${result.note}`
        : `Preflight: ${result.principal} may make ${result.allowed} of the calls this run needs; IAM could not decide the other ${undecided} (see the warning). ${result.note}`,
    );
  }
}

/**
 * The statements a run cannot do without. The container-log and url reads only add to a
 * report: a role without them still deploys (a denied read becomes a notice), so the
 * preflight does not stop the run for them. Preview routing needs the ELB reads itself.
 */
export function requiredPart(policy: PolicyDocument, routing: boolean): PolicyDocument {
  const optional = new Set(routing ? ['ContainerLogs'] : ['ContainerLogs', 'LoadBalancers']);
  return { ...policy, Statement: policy.Statement.filter((st) => !optional.has(st.Sid)) };
}

/** What the least-privilege policy for this run is built from. */
export async function policyInput(
  config: Config,
  plan: Plan,
  clients: AwsClients,
  /** The resolved caller (the preflight's); asked for here when the preflight is on and it is not given. */
  resolved?: Caller,
): Promise<PolicyInput> {
  const td = plan.taskDefinition;
  const who = resolved ?? (config.preflight ? await resolveCaller(clients, silentLog) : undefined);
  // The role's own ARN, with its path, is what the preflight reads and simulates.
  const caller =
    who === undefined || 'skipped' in who ? undefined : { arn: who.source, account: who.account };
  return {
    region: config.region,
    accountId: caller?.account ?? (await accountOf(plan, clients)),
    repositories: [...plan.repositories.keys()],
    imageRepositories: plan.imageRepositories,
    cluster: config.cluster,
    // For a preview, the base service: the policy scopes its previews as <service>-pr-*.
    service: config.service,
    taskDefinitionFamily: plan.preview?.baseFamily ?? td.family ?? '',
    codedeploy: plan.group && {
      application: plan.group.application,
      deploymentGroup: plan.group.deploymentGroup,
      deploymentConfigName: config.codedeploy.deploymentConfig ?? plan.group.deploymentConfigName,
    },
    passRoles: [td.taskRoleArn, td.executionRoleArn].filter((r): r is string => typeof r === 'string'),
    principalArn: caller?.arn,
    previewListenerArn: config.preview?.listenerArn,
    taskLogGroups: taskLogGroups(td),
    needs: {
      build: config.containers.some((c) => c.build !== undefined),
      createRepository: [...plan.repositories.values()].some((r) => r === undefined),
      // A preview deploys its own service; the base service is only read.
      mode: plan.preview ? 'none' : plan.mode,
      // The preflight's own calls, when it can name the role it reads and simulates.
      preflight: caller !== undefined,
      existingImage: plan.imageRepositories.length > 0,
      preview: plan.preview && { routing: plan.preview.routing !== undefined },
      task: config.task !== undefined,
      register: plan.asIsArn === undefined,
      pruneRevisions:
        config.revisions.keepRevisions === undefined
          ? undefined
          : { delete: config.revisions.deleteDeregistered },
      containerLogGroups: config.containerLogLines > 0 ? awslogsGroups(td.containerDefinitions) : [],
      url:
        (plan.group?.info.loadBalancerInfo?.targetGroupPairInfoList?.length ?? 0) > 0 ||
        (plan.service?.service.loadBalancers ?? []).some((lb) => lb.targetGroupArn !== undefined),
    },
  };
}

/** The awslogs groups of the task definition's containers: where a one-off task's lines are read. */
function taskLogGroups(td: RegisterTaskDefinitionCommandInput): string[] {
  return (td.containerDefinitions ?? [])
    .filter((c) => c.logConfiguration?.logDriver === 'awslogs')
    .map((c) => c.logConfiguration?.options?.['awslogs-group'] ?? '')
    .filter((g) => g !== '');
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
    // No containers at all is the file's problem, which preparing the task definition reports.
    if (defs.length === 0) return '';
    throw new UserError({
      where: 'container-name',
      what: `The task definition (${source.description}) has ${names.length} containers (${names.join(', ') || 'none'}), so the one to receive the image must be named.`,
      fix: `Set container-name to one of: ${names.join(', ') || '(add a container to the task definition)'}.`,
    });
  });
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** host, repository path, tag and digest of an image reference; host undefined for Docker Hub. */
export function parseImageReference(ref: string): {
  host?: string;
  repository: string;
  tag?: string;
  digest?: string;
} {
  const [name = '', digest] = ref.split('@');
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const path = hasHost ? name.slice(slash + 1) : name;
  const colon = path.lastIndexOf(':');
  return {
    host: hasHost ? first : undefined,
    repository: colon < 0 ? path : path.slice(0, colon),
    tag: colon < 0 ? undefined : path.slice(colon + 1),
    digest,
  };
}

/**
 * An existing image to deploy must exist before anything changes: DescribeImages, when the
 * image is in an ECR repository this run can name (an ECR URI of this region, or a registry
 * whose repository ECR reports under that URI). Other images are not checked, with a notice.
 * Returns the repository checked, undefined when none was.
 */
export async function checkImageExists(
  ecr: ECRClient,
  imageUri: string,
  where: string,
  region: string,
  log: Log,
): Promise<string | undefined> {
  const ref = parseImageReference(imageUri);
  const notChecked = (why: string): undefined => {
    log.notice(`Whether ${imageUri} exists could not be checked before deploying: ${why}.`);
    return undefined;
  };
  let registryId: string | undefined;
  const ecrHost = ref.host === undefined ? null : ECR_HOST.exec(ref.host);
  if (ecrHost) {
    if (ecrHost[2] !== region) return notChecked(`it is in ${ecrHost[2]}, and this run works in ${region}`);
    registryId = ecrHost[1];
  } else {
    let repo: Repository | undefined;
    try {
      repo = ref.host === undefined ? undefined : await findRepository(ecr, ref.repository);
    } catch (err) {
      // A least-privilege role may read only its own repositories; an image elsewhere is not checked.
      if (isAwsError(err, 'AccessDeniedException')) return notChecked(`ecr:DescribeRepositories was denied`);
      throw err;
    }
    if (repo === undefined || repo.uri !== `${ref.host}/${ref.repository}`) {
      return notChecked('it is not in an ECR repository of this account and region');
    }
  }
  const imageId: ImageIdentifier = ref.digest
    ? { imageDigest: ref.digest }
    : { imageTag: ref.tag ?? 'latest' };
  try {
    await ecr.send(
      new DescribeImagesCommand({ registryId, repositoryName: ref.repository, imageIds: [imageId] }),
    );
  } catch (err) {
    if (isAwsError(err, 'ImageNotFoundException', 'RepositoryNotFoundException')) {
      throw new UserError({
        where,
        what: `The image ${imageUri} does not exist: ${err.name === 'RepositoryNotFoundException' ? `there is no ECR repository ${ref.repository}` : `repository ${ref.repository} has no image ${ref.digest ?? `tagged ${ref.tag ?? 'latest'}`}`}.`,
        fix: `Deploy an image that is there (aws ecr describe-images --repository-name ${ref.repository} lists them), or push it first.`,
      });
    }
    if (isAwsError(err, 'AccessDeniedException'))
      return notChecked(`ecr:DescribeImages was denied (${err.message})`);
    throw err;
  }
  return ref.repository;
}

/** For a lookup whose outcome the caller reports itself. */
const silentLog: Log = { info() {}, warning() {}, notice() {}, debug() {}, secret() {} };
