/**
 * Every input of the action, read and validated into one typed Config. Pure: it takes the
 * inputs and the environment as values, so it is tested table-driven and nothing touches
 * AWS or Docker before the whole Config is known to be good. All problems are reported at
 * once, each naming the input and the fix.
 */
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Problems } from './errors.js';
import { IMAGE_REF, type InputReader, InputValues, singleLineInputs } from './inputs.js';
import { previewTagPrefix } from './preview/tags.js';
import { type OneOffTaskConfig, readOneOffTask, readRevisions, type RevisionConfig } from './task/config.js';

export type DeployMode = 'auto' | 'codedeploy' | 'rolling' | 'ecs-native' | 'none';
export type ShaTag = 'full' | 'short' | 'both';

/** How one container's image is produced: built from a context, or an existing image. */
export interface BuildSpec {
  context: string;
  file?: string;
  target?: string;
  buildArgs: string[];
  /** ECR repository name the image is pushed to. */
  repository: string;
}

export interface ContainerSpec {
  /** The container in the task definition; undefined means "the only container there is". */
  name?: string;
  image?: string;
  build?: BuildSpec;
}

/** A pull request's preview environment: deployed next to the base service, or torn down. */
export interface PreviewConfig {
  action: 'deploy' | 'destroy';
  pullRequest: number;
  /** The pull request's head commit, for the comment: GITHUB_SHA is the merge commit that was built. */
  headSha?: string;
  /** ALB listener and domain: the preview gets a rule for host pr-<N>.<domain>. */
  listenerArn?: string;
  domain?: string;
  /** Where the preview is reached when the action does not route it: {number} and {service} filled in. */
  urlTemplate?: string;
}

/** Where the pull-request comment goes and what it links to; the token is masked by main. */
export interface GitHubConfig {
  token?: string;
  apiUrl: string;
  serverUrl: string;
  repository?: string;
  runId?: string;
}

export type TaskDefinitionSource =
  | { kind: 'file'; path: string }
  | { kind: 'family'; family: string }
  | { kind: 'arn'; arn: string }
  | { kind: 'service' };

export interface Config {
  region: string;
  workspace: string;
  sha: string;
  containers: ContainerSpec[];
  build: {
    platforms: string[];
    cacheFrom: string[];
    cacheTo: string[];
    network?: string;
    provenance: boolean;
    push: boolean;
    tags: string[];
    shaTag: ShaTag;
  };
  createRepository: boolean;
  taskDefinition: TaskDefinitionSource;
  taskDefinitionFamily?: string;
  cluster: string;
  service?: string;
  deployMode: DeployMode;
  waitForServiceStability: boolean;
  waitForMinutes: number;
  waitForActiveDeploymentMinutes: number;
  pollIntervalSeconds: number;
  forceNewDeployment: boolean;
  desiredCount?: number;
  codedeploy: {
    appspecPath?: string;
    application?: string;
    deploymentGroup?: string;
    deploymentConfig?: string;
    description?: string;
  };
  containerPort?: number;
  rollbackOnTimeout: boolean;
  preflight: boolean;
  dryRun: boolean;
  printPolicy: boolean;
  onCancel: 'rollback' | 'leave';
  maxRetries: number;
  outputDir: string;
  /** Last lines per stopped container shown when a deployment fails (container-log-lines); 0: none. */
  containerLogLines: number;
  preview?: PreviewConfig;
  /** Redeploy the task definition that was live before the current one (or stop the running deployment with rollback). */
  rollback: boolean;
  github: GitHubConfig;
  /** ECS-native: 'complete', or the lifecycle stage at which the run stops waiting and succeeds. */
  waitUntil: string;
  /** ECS-native: the run only continues (or rolls back) the service deployment waiting at a PAUSE hook. */
  pausedHook?: 'continue' | 'rollback';
  /** The one-off task (run-task), when one runs. */
  task?: OneOffTaskConfig;
  /** register, keep-revisions, task-definition-tags, service-propagate-tags. */
  revisions: RevisionConfig;
}

export { type InputReader, parseList } from './inputs.js';

export function inputsFromEnv(env: NodeJS.ProcessEnv): InputReader {
  return (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const BUILD_ARG = /^[A-Za-z_][A-Za-z0-9_]*=/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const LISTENER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/;
const DOMAIN =
  /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const URL_PLACEHOLDERS = ['number', 'service'];

type Bad = (where: string, what: string, fix: string) => void;

/**
 * The workflow's event payload, read only when a run needs it (a preview): the payload, or
 * why the file at GITHUB_EVENT_PATH could not be read. A plain value is the payload itself.
 */
export type EventSource = () => { payload?: unknown; problem?: string };

function eventOf(event: unknown): ReturnType<EventSource> {
  return typeof event === 'function' ? (event as EventSource)() : { payload: event };
}

/**
 * `event` is the workflow's event payload (the JSON at GITHUB_EVENT_PATH), read by the caller;
 * a pull request's number and head commit come from it. Inputs are read in a fixed order, so
 * the problems are always reported in it.
 */
export function readConfig(rawInput: InputReader, env: NodeJS.ProcessEnv, event?: unknown): Config {
  const problems = new Problems();
  const input = singleLineInputs(rawInput, problems);
  const bad: Bad = (where, what, fix) => problems.add({ where, what, fix });
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const read = new InputValues(input, problems, workspace);
  const region = readRegion(input, env, bad);
  const rollback = read.bool('rollback');
  const preview = readPreview(input, event, bad);
  ruleRollbackIsAlone(rollback, preview, bad);
  const pausedHook = read.choice<'continue' | 'rollback'>('paused-hook') as
    'continue' | 'rollback' | undefined;
  rulePausedHookIsAlone(pausedHook, rollback || preview !== undefined, bad);
  const revisions = readRevisions(read, env);
  // A rollback redeploys an earlier task definition, a destroy removes a preview, a paused
  // hook's run only answers the hook, and register: false deploys a revision as it is: none
  // of them builds.
  const imagesNeeded =
    !rollback && preview?.action !== 'destroy' && pausedHook === undefined && revisions.register;
  const build = readBuildInputs(read);
  const containers = revisions.register
    ? readContainers(read, build, { rollback, imagesNeeded }, problems)
    : ruleAsIsBuildsNothing(read, bad);
  const source = readTaskDefinitionSource(read, bad);
  const target = readTarget(read, region, source.arn, bad);
  const deployMode = read.choice<DeployMode>('deploy-mode');
  const run = { rollback, preview, imagesNeeded, deployMode, service: target.service };
  ruleServiceNamed(run, bad);
  rulePreviewIsRolling(run, bad);
  ruleRollbackDeploys(run, bad);
  ruleTaskDefinitionFound(run, source.taskDefinition, bad);
  const description = read.text('codedeploy-deployment-description') || undefined;
  const config: Config = {
    region,
    workspace,
    sha: env.GITHUB_SHA ?? '',
    containers,
    ...readSettings(read, build, env),
    taskDefinition: source.taskDefinition,
    taskDefinitionFamily: source.taskDefinition.kind === 'file' ? source.family || undefined : undefined,
    ...target,
    deployMode,
    preview,
    rollback,
    github: readGitHub(input, env),
    waitUntil: read.choice<string>('wait-until'),
    pausedHook,
    task: readOneOffTask(read, env, bad),
    revisions,
  };
  config.codedeploy.description = description;
  for (const rule of FINAL_RULES) rule(config, imagesNeeded, bad);
  problems.throwIfAny();
  return config;
}

function readRegion(input: InputReader, env: NodeJS.ProcessEnv, bad: Bad): string {
  const region = input('aws-region') || env.AWS_REGION || env.AWS_DEFAULT_REGION || '';
  if (region === '') {
    bad(
      'aws-region',
      'No AWS region is set.',
      'Set the aws-region input, or AWS_REGION (aws-actions/configure-aws-credentials sets it).',
    );
  } else if (!REGION.test(region)) {
    bad('aws-region', `"${region}" is not an AWS region name.`, 'Use a region code such as us-east-1.');
  }
  return region;
}

interface BuildInputs {
  buildArgs: string[];
  tags: string[];
  shaTag: ShaTag;
  repository: string;
  image: string;
  context: string;
  file: string;
  target: string;
  network: string;
  platforms: string[];
}

/** The build inputs, checked one by one: a typo fails before the registry login, not halfway through the build. */
function readBuildInputs(read: InputValues): BuildInputs {
  return {
    buildArgs: read.list('build-args'),
    tags: read.list('tags'),
    shaTag: read.choice<ShaTag>('sha-tag'),
    repository: read.text('ecr-repository'),
    image: read.text('image'),
    context: read.text('context'),
    file: read.text('file'),
    target: read.text('target'),
    network: read.text('network'),
    platforms: read.list('platforms'),
  };
}

/** The ECR repository an image is pushed to must be a name (not a URI). */
function checkRepository(repo: string, where: string, problems: Problems): void {
  const bad: Bad = (w, what, fix) => problems.add({ where: w, what, fix });
  if (repo === '') {
    bad(
      where === 'containers' ? 'containers' : 'ecr-repository',
      'An image is to be built but no ECR repository is named for it.',
      where === 'containers'
        ? 'Give the container a repository: key, or set the ecr-repository input.'
        : 'Set ecr-repository to the repository to push to, or set image to deploy an existing image.',
    );
  } else if (repo.includes('.amazonaws.com/') || !REPOSITORY_NAME.test(repo)) {
    const uri = repo.split('.amazonaws.com/');
    bad(
      where,
      `"${repo}" is not an ECR repository name.`,
      uri.length === 2
        ? `Give only the repository name: ${uri[1]}.`
        : 'Use the ECR repository name: lower-case letters, digits, and . _ - / between them.',
    );
  }
}

/** One image's build, from a container's own keys over the single-image inputs. */
function buildSpec(
  read: InputValues,
  b: BuildInputs,
  problems: Problems,
): (spec: Partial<BuildSpec>, where: string) => BuildSpec {
  return (spec, where) => {
    const repo = spec.repository ?? b.repository;
    checkRepository(repo, where, problems);
    const ctx = read.inWorkspace(
      where === 'containers' ? 'containers' : 'context',
      spec.context ?? b.context,
    );
    const f = spec.file ?? (b.file || undefined);
    return {
      context: ctx,
      file: f === undefined ? undefined : read.inWorkspace(where === 'containers' ? 'containers' : 'file', f),
      target: spec.target ?? (b.target || undefined),
      buildArgs: spec.buildArgs ?? b.buildArgs,
      repository: repo,
    };
  };
}

/** What to deploy: `containers`, or one container from image / the build inputs. */
function readContainers(
  read: InputValues,
  b: BuildInputs,
  run: { rollback: boolean; imagesNeeded: boolean },
  problems: Problems,
): ContainerSpec[] {
  const bad: Bad = (where, what, fix) => problems.add({ where, what, fix });
  const buildFor = buildSpec(read, b, problems);
  const { image } = b;
  const containerName = read.text('container-name');
  const containersRaw = read.raw('containers');
  if (run.rollback) {
    if (image !== '' || containersRaw !== '') {
      bad(
        image !== '' ? 'image' : 'containers',
        `rollback is true, and ${image !== '' ? 'image' : 'containers'} names what to deploy.`,
        'Either roll back (the task definition live before the current one is redeployed), or deploy the image you name with rollback: false.',
      );
    }
    return [];
  }
  if (containersRaw !== '') {
    if (image !== '' || containerName !== '') {
      bad(
        'containers',
        'containers is given together with image or container-name.',
        'Use containers alone for several containers, or container-name (and image) for one.',
      );
    }
    return parseContainers(containersRaw, problems, buildFor);
  }
  const name = containerName || undefined;
  if (run.imagesNeeded) {
    return [image !== '' ? { name, image } : { name, build: buildFor({}, 'ecr-repository') }];
  }
  // A destroy builds nothing; the repository tells it where the preview's image tags are.
  return b.repository !== '' ? [{ name, build: buildFor({}, 'ecr-repository') }] : [];
}

/** register: false builds nothing, so no input may name an image to build or put in. */
function ruleAsIsBuildsNothing(read: InputValues, bad: Bad): ContainerSpec[] {
  for (const name of ['image', 'containers', 'ecr-repository']) {
    if (read.raw(name) !== '') {
      bad(
        name,
        `${name} is set, but register is false: the revision of task-definition-arn is deployed as it is, with its own images.`,
        `Remove ${name}, or leave register at true to register a new revision with the image.`,
      );
    }
  }
  return [];
}

/** Where the task definition starts from: a file, a revision ARN, a family, or the service's. */
function readTaskDefinitionSource(
  read: InputValues,
  bad: Bad,
): { taskDefinition: TaskDefinitionSource; family: string; arn: string } {
  const file = read.raw('task-definition');
  const family = read.raw('task-definition-family');
  const arn = read.raw('task-definition-arn');
  let taskDefinition: TaskDefinitionSource = { kind: 'service' };
  if (arn !== '' && (file !== '' || family !== '')) {
    bad(
      'task-definition-arn',
      `task-definition-arn is set together with ${file !== '' ? 'task-definition' : 'task-definition-family'}.`,
      'Choose one starting point: a file (optionally registered under task-definition-family), a family, or a revision ARN.',
    );
  }
  if (file !== '') {
    taskDefinition = { kind: 'file', path: read.inWorkspace('task-definition', file) };
  } else if (arn !== '') {
    read.check('task-definition-arn', arn);
    taskDefinition = { kind: 'arn', arn };
  }
  read.check('task-definition-family', family);
  if (taskDefinition.kind === 'service' && family !== '') taskDefinition = { kind: 'family', family };
  return { taskDefinition, family, arn };
}

/** The cluster and service; an ARN names its region, and the clients talk to aws-region. */
function readTarget(
  read: InputValues,
  region: string,
  arn: string,
  bad: Bad,
): { cluster: string; service?: string } {
  const cluster = read.text('cluster');
  const service = read.text('service') || undefined;
  for (const [name, value] of [
    ['cluster', cluster],
    ['service', service],
    ['task-definition-arn', arn],
  ] as const) {
    const arnRegion = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):/.exec(value ?? '')?.[1];
    if (arnRegion !== undefined && region !== '' && arnRegion !== region) {
      bad(
        name,
        `${value} is in ${arnRegion}, but the run deploys to ${region}.`,
        `Set aws-region to ${arnRegion}, or name the ${name === 'task-definition-arn' ? 'revision' : name} in ${region}.`,
      );
    }
  }
  return { cluster, service };
}

/** The remaining settings, each read through its declaration. */
function readSettings(read: InputValues, b: BuildInputs, env: NodeJS.ProcessEnv) {
  return {
    build: {
      platforms: b.platforms,
      cacheFrom: read.list('cache-from'),
      cacheTo: read.list('cache-to'),
      network: b.network || undefined,
      provenance: read.bool('provenance'),
      push: read.bool('push'),
      tags: b.tags,
      shaTag: b.shaTag,
    },
    createRepository: read.bool('create-repository'),
    waitForServiceStability: read.bool('wait-for-service-stability'),
    waitForMinutes: read.minutes('wait-for-minutes'),
    waitForActiveDeploymentMinutes:
      read.raw('wait-for-active-deployment-minutes') === '0'
        ? 0
        : read.minutes('wait-for-active-deployment-minutes'),
    pollIntervalSeconds: read.int('poll-interval-seconds') ?? 5,
    forceNewDeployment: read.bool('force-new-deployment'),
    desiredCount: read.int('desired-count'),
    codedeploy: {
      appspecPath: read.path('codedeploy-appspec'),
      application: read.text('codedeploy-application') || undefined,
      deploymentGroup: read.text('codedeploy-deployment-group') || undefined,
      deploymentConfig: read.text('codedeploy-deployment-config') || undefined,
    } as Config['codedeploy'],
    containerPort: read.int('container-port'),
    rollbackOnTimeout: read.bool('rollback-on-timeout'),
    preflight: read.bool('preflight'),
    dryRun: read.bool('dry-run'),
    printPolicy: read.bool('print-policy'),
    onCancel: read.choice<'rollback' | 'leave'>('on-cancel'),
    maxRetries: read.int('max-retries') ?? 5,
    containerLogLines: read.int('container-log-lines') ?? 50,
    outputDir: read.raw('output-dir')
      ? path.resolve(read.workspace, read.raw('output-dir'))
      : path.join(env.RUNNER_TEMP || path.join(read.workspace, '.ecs-deploy'), 'ecs-deploy'),
  };
}

function readGitHub(input: InputReader, env: NodeJS.ProcessEnv): GitHubConfig {
  return {
    token: input('github-token') || undefined,
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    repository: env.GITHUB_REPOSITORY || undefined,
    runId: env.GITHUB_RUN_ID || undefined,
  };
}

// ---------------------------------------------------------------------------------------
// Rules between inputs: each names the inputs it is about and the fix.

interface RunKind {
  rollback: boolean;
  preview?: PreviewConfig;
  imagesNeeded: boolean;
  deployMode: DeployMode;
  service?: string;
}

/** A rollback is a run of its own, never a preview. */
function ruleRollbackIsAlone(rollback: boolean, preview: PreviewConfig | undefined, bad: Bad): void {
  if (preview !== undefined && rollback) {
    bad(
      'rollback',
      `rollback is true together with preview: ${preview.action}.`,
      'Roll back a service in a run of its own (workflow_dispatch), without preview.',
    );
  }
}

/** A preview, a rollback and every deploy-mode but none need the service. */
function ruleServiceNamed({ preview, rollback, service, deployMode }: RunKind, bad: Bad): void {
  if (service === undefined && (preview !== undefined || rollback)) {
    bad(
      'service',
      preview !== undefined
        ? `preview: ${preview.action} needs the base service the preview copies its settings from, and no service is named.`
        : 'rollback is true but no service is named.',
      preview !== undefined
        ? 'Set service to the ECS service the pull request would change; its preview is <service>-pr-<number> in the same cluster.'
        : 'Set service (and cluster) to the ECS service to roll back.',
    );
  } else if (service === undefined && deployMode !== 'none') {
    bad(
      'service',
      `deploy-mode is ${deployMode} but no service is named.`,
      'Set service to the ECS service to deploy, or deploy-mode: none to only register the task definition.',
    );
  }
}

/** A preview is its own service with the ECS rolling deployment controller. */
function rulePreviewIsRolling({ preview, deployMode }: RunKind, bad: Bad): void {
  if (preview !== undefined && deployMode !== 'auto' && deployMode !== 'rolling') {
    bad(
      'deploy-mode',
      `deploy-mode is ${deployMode}, but a preview is its own service with the ECS rolling deployment controller, whatever the base service uses.`,
      'Leave deploy-mode at auto (or rolling) for preview runs.',
    );
  }
}

/** A rollback redeploys, so deploy-mode none makes it pointless. */
function ruleRollbackDeploys({ rollback, deployMode }: RunKind, bad: Bad): void {
  if (rollback && deployMode === 'none') {
    bad(
      'deploy-mode',
      'rollback is true but deploy-mode is none, so nothing would be redeployed.',
      'Leave deploy-mode at auto to roll back through the service’s own deployment controller.',
    );
  }
}

/** Without a task definition input, the service's current one is the start: there must be a service. */
function ruleTaskDefinitionFound(run: RunKind, taskDefinition: TaskDefinitionSource, bad: Bad): void {
  if (run.imagesNeeded && taskDefinition.kind === 'service' && run.service === undefined) {
    bad(
      'task-definition',
      'No task definition is given and there is no service to take the current one from.',
      'Set task-definition to your task definition file (or task-definition-family / task-definition-arn).',
    );
  }
}

/** paused-hook answers a PAUSE hook and does nothing else: not with a rollback or a preview. */
function rulePausedHookIsAlone(pausedHook: string | undefined, other: boolean, bad: Bad): void {
  if (pausedHook !== undefined && other) {
    bad(
      'paused-hook',
      `paused-hook is ${pausedHook} together with rollback or preview; a paused-hook run only continues or rolls back the service deployment waiting at a PAUSE hook.`,
      'Run paused-hook in a step of its own (typically a job gated by an environment with required reviewers).',
    );
  }
}

type FinalRule = (config: Config, imagesNeeded: boolean, bad: Bad) => void;

/** Previews and rollbacks have no dry run. */
const ruleDryRunIsADeploy: FinalRule = ({ preview, rollback, dryRun }, _images, bad) => {
  if ((preview !== undefined || rollback) && dryRun) {
    bad(
      'dry-run',
      `dry-run is true together with ${rollback ? 'rollback' : `preview: ${preview?.action}`}, which has no dry run.`,
      'Use dry-run on a normal deploy; run previews and rollbacks for real.',
    );
  }
};

/** A preview's image is tagged pr-<number>-<commit> only, so its destroy finds every tag. */
const rulePreviewTags: FinalRule = ({ preview, build, sha, containers }, _images, bad) => {
  if (preview?.action !== 'deploy') return;
  if (build.tags.length > 0) {
    bad(
      'tags',
      `tags (${build.tags.join(', ')}) is set for a preview, whose image is tagged only pr-${preview.pullRequest}-<commit>.`,
      'Leave tags empty in preview runs: a destroy removes exactly the pr-<number>-* tags, and a moving tag such as latest must not point at a pull request’s image.',
    );
  }
  if (sha === '' && containers.some((c) => c.build !== undefined)) {
    bad(
      'preview',
      `GITHUB_SHA is not set, so the preview image cannot be tagged pr-${preview.pullRequest}-<commit>.`,
      'Run inside GitHub Actions (it sets GITHUB_SHA).',
    );
  }
};

/** A built image needs a tag: the commit, or one of tags. */
const ruleImageIsTagged: FinalRule = (config, imagesNeeded, bad) => {
  const building = imagesNeeded && config.containers.some((c) => c.build !== undefined);
  if (building && config.sha === '' && config.build.tags.length === 0) {
    bad(
      'tags',
      'GITHUB_SHA is not set, so the image has no tag.',
      'Run inside GitHub Actions, or give a tag in the tags input.',
    );
  }
};

/** ECS can only run pushed images. */
const rulePushWhenDeploying: FinalRule = (config, imagesNeeded, bad) => {
  const building = imagesNeeded && config.containers.some((c) => c.build !== undefined);
  if (!config.build.push && building && config.deployMode !== 'none' && !config.dryRun) {
    bad(
      'push',
      'push is false, but the image is to be deployed, and ECS can only run pushed images.',
      'Set deploy-mode: none to build without deploying, or leave push at true.',
    );
  }
};

/** register: false deploys the revision task-definition-arn names, in a normal deploy. */
const ruleAsIsNamesARevision: FinalRule = (config, _images, bad) => {
  if (config.revisions.register) return;
  if (config.taskDefinition.kind !== 'arn') {
    bad(
      'register',
      'register is false, but no task-definition-arn names the revision to deploy as it is.',
      'Set task-definition-arn to the ACTIVE revision to deploy (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION), or leave register at true.',
    );
  }
  if (config.rollback || config.preview !== undefined) {
    bad(
      'register',
      `register is false together with ${config.rollback ? 'rollback' : 'preview'}, which chooses its own revision.`,
      'Use register: false in a normal deploy only.',
    );
  }
};

/** The one-off task runs in a service's network, before or after a deployment. */
const ruleTaskHasAService: FinalRule = (config, _images, bad) => {
  if (config.task === undefined) return;
  if (config.preview !== undefined || config.rollback) {
    bad(
      'run-task',
      `run-task is set together with ${config.rollback ? 'rollback' : 'preview'}.`,
      'Run one-off tasks in a normal deploy (run-task: before or after).',
    );
  } else if (config.task.when === 'after' && config.deployMode === 'none') {
    bad(
      'run-task',
      'run-task is after, but deploy-mode none deploys nothing to run it after.',
      'Use run-task: before with deploy-mode none, or deploy to a service.',
    );
  }
};

const FINAL_RULES: FinalRule[] = [
  ruleAsIsNamesARevision,
  ruleTaskHasAService,
  ruleDryRunIsADeploy,
  rulePreviewTags,
  ruleImageIsTagged,
  rulePushWhenDeploying,
];

/**
 * The image tags for a build: the commit SHA in the chosen form(s), then the extra tags. A
 * preview's tags are pr-<number>-<sha> only, so that its destroy finds every one of them.
 */
export function imageTags(config: Pick<Config, 'sha' | 'build' | 'preview'>): string[] {
  const shaTags: string[] = [];
  if (config.sha !== '') {
    if (config.build.shaTag !== 'short') shaTags.push(config.sha);
    if (config.build.shaTag !== 'full') shaTags.push(config.sha.slice(0, 7));
  }
  if (config.preview?.action === 'deploy') {
    return shaTags.map((t) => `${previewTagPrefix(config.preview!.pullRequest)}${t}`);
  }
  return [...new Set([...shaTags, ...config.build.tags])];
}

/** pull-request-number, else the event's pull_request.number. */
function readPullRequestNumber(
  input: InputReader,
  action: string,
  fromEvent: unknown,
  eventProblem: string | undefined,
  bad: Bad,
): number | undefined {
  const raw = input('pull-request-number');
  if (raw !== '') {
    if (/^[1-9]\d{0,8}$/.test(raw)) return Number(raw);
    bad(
      'pull-request-number',
      `"${raw}" is not a pull request number.`,
      'Set pull-request-number to the number of the pull request, e.g. 42.',
    );
    return undefined;
  }
  if (typeof fromEvent === 'number' && Number.isSafeInteger(fromEvent) && fromEvent > 0) return fromEvent;
  bad(
    'pull-request-number',
    eventProblem !== undefined
      ? `preview: ${action} needs the pull request's number, and the event payload could not be read: ${eventProblem}.`
      : fromEvent !== undefined
        ? `preview: ${action} needs the pull request's number, and the event's pull_request.number (${JSON.stringify(fromEvent).slice(0, 40)}) is not a positive whole number.`
        : `preview: ${action} needs the pull request's number, and the event that started the workflow has no pull_request.`,
    'Run preview jobs on pull_request events, or set pull-request-number (e.g. from a workflow_dispatch input).',
  );
  return undefined;
}

/**
 * The preview inputs: `preview`, the pull request's number (`pull-request-number`, else the
 * event's pull_request.number), and how the preview is reached.
 */
function readPreview(input: InputReader, event: unknown, bad: Bad): PreviewConfig | undefined {
  const action = input('preview');
  if (action === '') return undefined;
  if (action !== 'deploy' && action !== 'destroy') {
    bad(
      'preview',
      `"${action}" is not one of deploy, destroy.`,
      'Set preview to deploy, destroy, or leave it empty for a normal deploy.',
    );
    return undefined;
  }
  const read = eventOf(event);
  const pr = (read.payload as { pull_request?: { number?: unknown; head?: { sha?: unknown } } } | undefined)
    ?.pull_request;
  const pullRequest = readPullRequestNumber(input, action, pr?.number, read.problem, bad);

  const listenerArn = input('preview-listener-arn') || undefined;
  const domain = input('preview-domain').toLowerCase() || undefined;
  const urlTemplate = input('preview-url') || undefined;
  if (listenerArn !== undefined && !LISTENER_ARN.test(listenerArn)) {
    bad(
      'preview-listener-arn',
      `"${listenerArn}" is not an Application Load Balancer listener ARN.`,
      'Use arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID (the HTTPS listener of the load balancer previews are reached through).',
    );
  }
  if ((listenerArn === undefined) !== (domain === undefined)) {
    bad(
      listenerArn === undefined ? 'preview-listener-arn' : 'preview-domain',
      `${listenerArn === undefined ? 'preview-domain' : 'preview-listener-arn'} is set without ${listenerArn === undefined ? 'preview-listener-arn' : 'preview-domain'}.`,
      'Set both, to route pr-<number>.<preview-domain> through that listener, or neither.',
    );
  }
  if (domain !== undefined && !DOMAIN.test(domain)) {
    bad(
      'preview-domain',
      `"${domain}" is not a domain name.`,
      'Use the domain whose wildcard points at the load balancer, e.g. preview.example.com.',
    );
  }
  if (urlTemplate !== undefined) {
    if (listenerArn !== undefined) {
      bad(
        'preview-url',
        'preview-url is set together with preview-listener-arn, which makes the URL https://pr-<number>.<preview-domain>.',
        'Remove preview-url, or route previews yourself and drop preview-listener-arn and preview-domain.',
      );
    }
    const unknown = [...urlTemplate.matchAll(/\{([^}]*)\}/g)]
      .map((m) => m[1] as string)
      .filter((name) => !URL_PLACEHOLDERS.includes(name));
    if (!/^https?:\/\/[^\s]+$/.test(urlTemplate) || unknown.length > 0) {
      bad(
        'preview-url',
        unknown.length > 0
          ? `"${urlTemplate}" has the unknown placeholder(s) ${unknown.map((u) => `{${u}}`).join(', ')}.`
          : `"${urlTemplate}" is not an http(s) URL.`,
        'Write a URL with {number} (the pull request) and {service} (the base service), e.g. https://pr-{number}.preview.example.com.',
      );
    }
  }
  const headSha = typeof pr?.head?.sha === 'string' ? pr.head.sha : undefined;
  return { action, pullRequest: pullRequest ?? 0, headSha, listenerArn, domain, urlTemplate };
}

/** A container's string key; a problem when it is not a string. */
function stringKey(
  s: Record<string, unknown>,
  name: string,
  key: string,
  bad: (what: string, fix: string) => void,
): string | undefined {
  const v = s[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    bad(`${name}.${key} must be a string.`, `Quote the value of ${key}.`);
    return undefined;
  }
  return v;
}

/** A container's build-args: a list of NAME=value strings, each checked as the build-args input is. */
function containerBuildArgs(
  args: unknown,
  name: string,
  bad: (what: string, fix: string) => void,
): string[] | undefined {
  if (args === undefined) return undefined;
  if (!Array.isArray(args)) {
    bad(`${name}.build-args must be a list of NAME=value.`, 'Write it as a YAML list.');
    return undefined;
  }
  const out: string[] = [];
  for (const [i, a] of args.entries()) {
    const text = typeof a === 'string' ? a : undefined;
    if (text === undefined || !BUILD_ARG.test(text) || /[\r\n]/.test(text)) {
      bad(
        `${name}.build-args[${i}] ${text === undefined ? `is a ${a === null ? 'null' : typeof a}, not` : 'is not'} one NAME=value line.`,
        'Write each build arg as a quoted string "NAME=value" on one line; NAME is letters, digits and _.',
      );
      continue;
    }
    out.push(text);
  }
  return out;
}

function parseContainers(
  raw: string,
  problems: Problems,
  buildFor: (spec: Partial<BuildSpec>, where: string) => BuildSpec,
): ContainerSpec[] {
  const bad = (what: string, fix: string) => problems.add({ where: 'containers', what, fix });
  const example =
    'Write a YAML mapping, e.g.\n  web:\n    context: .\n  envoy:\n    image: REPOSITORY_URI:TAG';
  let value: unknown;
  try {
    value = parseYaml(raw, { maxAliasCount: 10, uniqueKeys: true });
  } catch (e) {
    bad(`is not valid YAML: ${(e as Error).message.split('\n')[0]}`, example);
    return [];
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    bad('must be a mapping of container name to its image or build.', example);
    return [];
  }
  const out: ContainerSpec[] = [];
  for (const [name, spec] of Object.entries(value as Record<string, unknown>)) {
    if (!ECS_NAME.test(name)) {
      bad(`"${name}" is not a container name.`, 'Use letters, digits, - and _.');
      continue;
    }
    if (typeof spec === 'string') {
      if (!IMAGE_REF.test(spec))
        bad(`${name}: "${spec}" is not an image reference.`, 'Use REPOSITORY_URI:TAG.');
      out.push({ name, image: spec });
      continue;
    }
    if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
      bad(`${name}: must be an image reference or a mapping.`, example);
      continue;
    }
    const s = spec as Record<string, unknown>;
    const known = ['image', 'context', 'file', 'target', 'build-args', 'repository'];
    for (const key of Object.keys(s)) {
      if (!known.includes(key)) bad(`${name}: unknown key "${key}".`, `Use only: ${known.join(', ')}.`);
    }
    const str = (key: string) => stringKey(s, name, key, bad);
    if (s.image !== undefined) {
      const img = str('image') ?? '';
      if (!IMAGE_REF.test(img))
        bad(`${name}.image: "${img}" is not an image reference.`, 'Use REPOSITORY_URI:TAG.');
      if (['context', 'file', 'target', 'build-args'].some((k) => s[k] !== undefined)) {
        bad(`${name}: has both image and build keys.`, 'Give either image (deploy as is) or build keys.');
      }
      out.push({ name, image: img });
      continue;
    }
    const buildArgs = containerBuildArgs(s['build-args'], name, bad);
    out.push({
      name,
      build: buildFor(
        {
          context: str('context'),
          file: str('file'),
          target: str('target'),
          buildArgs,
          repository: str('repository'),
        },
        'containers',
      ),
    });
  }
  if (out.length === 0 && problems.empty) bad('names no container.', example);
  return out;
}
