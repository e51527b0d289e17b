/**
 * Every input of the action, read and validated into one typed Config. Pure: it takes the
 * inputs and the environment as values, so it is tested table-driven and nothing touches
 * AWS or Docker before the whole Config is known to be good. All problems are reported at
 * once, each naming the input and the fix.
 */
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Problems } from './errors.js';
import { previewTagPrefix } from './preview/tags.js';

export type DeployMode = 'auto' | 'codedeploy' | 'rolling' | 'none';
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
  preview?: PreviewConfig;
  /** Redeploy the task definition that was live before the current one (or stop the running deployment with rollback). */
  rollback: boolean;
  github: GitHubConfig;
}

/** Reads one input as the runner passes it (`INPUT_<NAME>`); '' when absent. */
export type InputReader = (name: string) => string;

export function inputsFromEnv(env: NodeJS.ProcessEnv): InputReader {
  return (name) => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const BUILD_ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BUILD_STAGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const DOCKER_NETWORK = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/;
const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
const TASK_DEFINITION_ARN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d+$/;
const CODEDEPLOY_NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const LISTENER_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[0-9a-f]+\/[0-9a-f]+$/;
const DOMAIN =
  /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const URL_PLACEHOLDERS = ['number', 'service'];
const IMAGE_REF =
  /^[a-z0-9]+(?:[._:-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** Lines or commas, trimmed, blanks and `#` comments dropped (build-push-action's list format). */
export function parseList(value: string, { commas = true } = {}): string[] {
  const items = value.split(/\r?\n/).flatMap((line) => (commas ? line.split(',') : [line]));
  return items.map((s) => s.trim()).filter((s) => s !== '' && !s.startsWith('#'));
}

/**
 * `event` is the workflow's event payload (the JSON at GITHUB_EVENT_PATH), read by the caller;
 * a pull request's number and head commit come from it.
 */
export function readConfig(input: InputReader, env: NodeJS.ProcessEnv, event?: unknown): Config {
  const problems = new Problems();
  const bad = (where: string, what: string, fix: string) => problems.add({ where, what, fix });

  const bool = (name: string, dflt: boolean): boolean => {
    const raw = input(name);
    if (raw === '') return dflt;
    if (['true', 'True', 'TRUE'].includes(raw)) return true;
    if (['false', 'False', 'FALSE'].includes(raw)) return false;
    bad(name, `"${raw}" is not a boolean.`, `Write ${name}: true or ${name}: false.`);
    return dflt;
  };
  const int = (name: string, dflt: number | undefined, min: number, max: number): number | undefined => {
    const raw = input(name);
    if (raw === '') return dflt;
    if (!/^-?\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      bad(
        name,
        `"${raw}" is not a whole number from ${min} to ${max}.`,
        `Set ${name} to a number in that range.`,
      );
      return dflt;
    }
    return Number(raw);
  };
  /** Minutes may be fractional (0.5 is 30 seconds), which short-lived previews and tests use. */
  const minutes = (name: string, dflt: number): number => {
    const raw = input(name);
    if (raw === '') return dflt;
    const n = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || n <= 0 || n > 360) {
      bad(name, `"${raw}" is not a number of minutes above 0 and at most 360.`, `Set ${name} to e.g. 30.`);
      return dflt;
    }
    return n;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], dflt: T): T => {
    const raw = input(name);
    if (raw === '') return dflt;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    bad(
      name,
      `"${raw}" is not one of ${allowed.join(', ')}.`,
      `Set ${name} to one of: ${allowed.join(', ')}.`,
    );
    return dflt;
  };

  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const inWorkspace = (name: string, value: string): string => {
    const resolved = path.resolve(workspace, value);
    const rel = path.relative(workspace, resolved);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      bad(
        name,
        `"${value}" is outside the workspace (${workspace}).`,
        'Use a path inside the repository checkout, relative to its root.',
      );
    }
    return resolved;
  };
  const optionalPath = (name: string): string | undefined => {
    const raw = input(name);
    return raw === '' ? undefined : inWorkspace(name, raw);
  };

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

  const sha = env.GITHUB_SHA ?? '';

  const rollback = bool('rollback', false);
  const preview = readPreview(input, event, bad);
  if (preview !== undefined && rollback) {
    bad(
      'rollback',
      `rollback is true together with preview: ${preview.action}.`,
      'Roll back a service in a run of its own (workflow_dispatch), without preview.',
    );
  }
  // A rollback redeploys an earlier task definition and a destroy removes a preview: neither builds.
  const imagesNeeded = !rollback && preview?.action !== 'destroy';

  const buildArgs = parseList(input('build-args'), { commas: false });
  for (const arg of buildArgs) {
    const name = arg.split('=')[0] ?? '';
    if (!arg.includes('=') || !BUILD_ARG_NAME.test(name)) {
      bad(
        'build-args',
        `"${arg}" is not NAME=value.`,
        'Write one NAME=value per line; NAME is letters, digits and _.',
      );
    }
  }

  const tags = parseList(input('tags'));
  for (const tag of tags) {
    if (!DOCKER_TAG.test(tag)) {
      bad(
        'tags',
        `"${tag}" is not a valid image tag.`,
        'A tag is up to 128 letters, digits, _, . and -, and does not start with . or -.',
      );
    }
  }
  const shaTag = oneOf('sha-tag', ['full', 'short', 'both'] as const, 'full');

  const repository = input('ecr-repository');

  const image = input('image');
  if (image !== '' && !IMAGE_REF.test(image)) {
    bad(
      'image',
      `"${image}" is not an image reference.`,
      'Use REPOSITORY_URI:TAG or REPOSITORY_URI@sha256:DIGEST.',
    );
  }
  const context = input('context') || '.';
  const file = input('file');
  const target = input('target');
  // Docker takes each as one argument, so nothing is injected; checking them here fails a typo
  // before the registry login instead of halfway through the build.
  if (target !== '' && !BUILD_STAGE.test(target)) {
    bad(
      'target',
      `"${target}" is not a build stage name.`,
      'Use the name after AS in a FROM line of the Dockerfile.',
    );
  }
  const network = input('network');
  if (network !== '' && !DOCKER_NETWORK.test(network)) {
    bad(
      'network',
      `"${network}" is not a Docker network.`,
      'Use host, none, default, or the name of a network.',
    );
  }
  const platforms = parseList(input('platforms'));
  for (const platform of platforms) {
    if (!PLATFORM.test(platform)) {
      bad(
        'platforms',
        `"${platform}" is not a platform.`,
        'Use os/arch[/variant], e.g. linux/amd64 or linux/arm64.',
      );
    }
  }
  const buildFor = (spec: Partial<BuildSpec>, where: string): BuildSpec => {
    const repo = spec.repository ?? repository;
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
    const ctx = inWorkspace(where === 'containers' ? 'containers' : 'context', spec.context ?? context);
    const f = spec.file ?? (file || undefined);
    return {
      context: ctx,
      file: f === undefined ? undefined : inWorkspace(where === 'containers' ? 'containers' : 'file', f),
      target: spec.target ?? (target || undefined),
      buildArgs: spec.buildArgs ?? buildArgs,
      repository: repo,
    };
  };

  const containerName = input('container-name');
  if (containerName !== '' && !ECS_NAME.test(containerName)) {
    bad('container-name', `"${containerName}" is not a container name.`, 'Use letters, digits, - and _.');
  }
  let containers: ContainerSpec[] = [];
  const containersRaw = input('containers');
  if (rollback) {
    if (image !== '' || containersRaw !== '') {
      bad(
        image !== '' ? 'image' : 'containers',
        `rollback is true, and ${image !== '' ? 'image' : 'containers'} names what to deploy.`,
        'Either roll back (the task definition live before the current one is redeployed), or deploy the image you name with rollback: false.',
      );
    }
  } else if (containersRaw !== '') {
    if (image !== '' || containerName !== '') {
      bad(
        'containers',
        'containers is given together with image or container-name.',
        'Use containers alone for several containers, or container-name (and image) for one.',
      );
    }
    containers = parseContainers(containersRaw, problems, buildFor);
  } else if (imagesNeeded) {
    const name = containerName || undefined;
    containers = [image !== '' ? { name, image } : { name, build: buildFor({}, 'ecr-repository') }];
  } else if (repository !== '') {
    // A destroy builds nothing; the repository tells it where the preview's image tags are.
    containers = [{ name: containerName || undefined, build: buildFor({}, 'ecr-repository') }];
  }

  const taskDefinitionFile = input('task-definition');
  const family = input('task-definition-family');
  const arn = input('task-definition-arn');
  let taskDefinition: TaskDefinitionSource = { kind: 'service' };
  if (arn !== '' && (taskDefinitionFile !== '' || family !== '')) {
    bad(
      'task-definition-arn',
      `task-definition-arn is set together with ${taskDefinitionFile !== '' ? 'task-definition' : 'task-definition-family'}.`,
      'Choose one starting point: a file (optionally registered under task-definition-family), a family, or a revision ARN.',
    );
  }
  if (taskDefinitionFile !== '') {
    taskDefinition = { kind: 'file', path: inWorkspace('task-definition', taskDefinitionFile) };
  } else if (arn !== '') {
    if (!TASK_DEFINITION_ARN.test(arn)) {
      bad(
        'task-definition-arn',
        `"${arn}" is not a task definition ARN.`,
        'Use arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION.',
      );
    }
    taskDefinition = { kind: 'arn', arn };
  }
  if (family !== '' && !ECS_NAME.test(family)) {
    bad(
      'task-definition-family',
      `"${family}" is not a task definition family.`,
      'Use letters, digits, - and _.',
    );
  }
  if (taskDefinition.kind === 'service' && family !== '') taskDefinition = { kind: 'family', family };

  const cluster = input('cluster') || 'default';
  if (!ECS_NAME.test(cluster) && !/^arn:aws[a-z-]*:ecs:/.test(cluster)) {
    bad('cluster', `"${cluster}" is not a cluster name or ARN.`, 'Use the cluster name, e.g. default.');
  }
  const service = input('service') || undefined;
  if (service !== undefined && !ECS_NAME.test(service) && !/^arn:aws[a-z-]*:ecs:/.test(service)) {
    bad('service', `"${service}" is not a service name or ARN.`, 'Use the ECS service name.');
  }
  // An ARN names its region; the clients talk to aws-region, where that resource is not.
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
  const deployMode = oneOf('deploy-mode', ['auto', 'codedeploy', 'rolling', 'none'] as const, 'auto');
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
  if (preview !== undefined && deployMode !== 'auto' && deployMode !== 'rolling') {
    bad(
      'deploy-mode',
      `deploy-mode is ${deployMode}, but a preview is its own service with the ECS rolling deployment controller, whatever the base service uses.`,
      'Leave deploy-mode at auto (or rolling) for preview runs.',
    );
  }
  if (rollback && deployMode === 'none') {
    bad(
      'deploy-mode',
      'rollback is true but deploy-mode is none, so nothing would be redeployed.',
      'Leave deploy-mode at auto to roll back through the service’s own deployment controller.',
    );
  }
  if (imagesNeeded && taskDefinition.kind === 'service' && service === undefined) {
    bad(
      'task-definition',
      'No task definition is given and there is no service to take the current one from.',
      'Set task-definition to your task definition file (or task-definition-family / task-definition-arn).',
    );
  }

  const codedeployNames = (name: string): string | undefined => {
    const raw = input(name);
    if (raw !== '' && !CODEDEPLOY_NAME.test(raw)) {
      bad(
        name,
        `"${raw}" is not a valid CodeDeploy name.`,
        'Use up to 100 letters, digits and _ . + = , @ -.',
      );
    }
    return raw || undefined;
  };
  const description = input('codedeploy-deployment-description') || undefined;
  if (description !== undefined && description.length > 512) {
    bad(
      'codedeploy-deployment-description',
      `is ${description.length} characters long.`,
      'Keep it to 512 characters (CodeDeploy truncates nothing, it refuses).',
    );
  }

  const config: Config = {
    region,
    workspace,
    sha,
    containers,
    build: {
      platforms,
      cacheFrom: parseList(input('cache-from'), { commas: false }),
      cacheTo: parseList(input('cache-to'), { commas: false }),
      network: network || undefined,
      provenance: bool('provenance', false),
      push: bool('push', true),
      tags,
      shaTag,
    },
    createRepository: bool('create-repository', false),
    taskDefinition,
    taskDefinitionFamily: taskDefinition.kind === 'file' ? family || undefined : undefined,
    cluster,
    service,
    deployMode,
    waitForServiceStability: bool('wait-for-service-stability', true),
    waitForMinutes: minutes('wait-for-minutes', 30),
    waitForActiveDeploymentMinutes:
      input('wait-for-active-deployment-minutes') === '0'
        ? 0
        : minutes('wait-for-active-deployment-minutes', 15),
    pollIntervalSeconds: int('poll-interval-seconds', 5, 1, 300) ?? 5,
    forceNewDeployment: bool('force-new-deployment', false),
    desiredCount: int('desired-count', undefined, 0, 5000),
    codedeploy: {
      appspecPath: optionalPath('codedeploy-appspec'),
      application: codedeployNames('codedeploy-application'),
      deploymentGroup: codedeployNames('codedeploy-deployment-group'),
      deploymentConfig: codedeployNames('codedeploy-deployment-config'),
      description,
    },
    containerPort: int('container-port', undefined, 1, 65535),
    rollbackOnTimeout: bool('rollback-on-timeout', true),
    preflight: bool('preflight', true),
    dryRun: bool('dry-run', false),
    printPolicy: bool('print-policy', false),
    onCancel: oneOf('on-cancel', ['rollback', 'leave'] as const, 'rollback'),
    maxRetries: int('max-retries', 5, 0, 20) ?? 5,
    outputDir: input('output-dir')
      ? path.resolve(workspace, input('output-dir'))
      : path.join(env.RUNNER_TEMP || path.join(workspace, '.ecs-deploy'), 'ecs-deploy'),
    preview,
    rollback,
    github: {
      token: input('github-token') || undefined,
      apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
      serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
      repository: env.GITHUB_REPOSITORY || undefined,
      runId: env.GITHUB_RUN_ID || undefined,
    },
  };

  if ((preview !== undefined || rollback) && config.dryRun) {
    bad(
      'dry-run',
      `dry-run is true together with ${rollback ? 'rollback' : `preview: ${preview?.action}`}, which has no dry run.`,
      'Use dry-run on a normal deploy; run previews and rollbacks for real.',
    );
  }
  if (preview?.action === 'deploy') {
    if (tags.length > 0) {
      bad(
        'tags',
        `tags (${tags.join(', ')}) is set for a preview, whose image is tagged only pr-${preview.pullRequest}-<commit>.`,
        'Leave tags empty in preview runs: a destroy removes exactly the pr-<number>-* tags, and a moving tag such as latest must not point at a pull request’s image.',
      );
    }
    if (sha === '' && config.containers.some((c) => c.build !== undefined)) {
      bad(
        'preview',
        `GITHUB_SHA is not set, so the preview image cannot be tagged pr-${preview.pullRequest}-<commit>.`,
        'Run inside GitHub Actions (it sets GITHUB_SHA).',
      );
    }
  }

  const building = imagesNeeded && config.containers.some((c) => c.build !== undefined);
  if (building && sha === '' && tags.length === 0) {
    bad(
      'tags',
      'GITHUB_SHA is not set, so the image has no tag.',
      'Run inside GitHub Actions, or give a tag in the tags input.',
    );
  }
  if (!config.build.push && building && deployMode !== 'none' && !config.dryRun) {
    bad(
      'push',
      'push is false, but the image is to be deployed, and ECS can only run pushed images.',
      'Set deploy-mode: none to build without deploying, or leave push at true.',
    );
  }

  problems.throwIfAny();
  return config;
}

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

/**
 * The preview inputs: `preview`, the pull request's number (`pull-request-number`, else the
 * event's pull_request.number), and how the preview is reached.
 */
function readPreview(
  input: InputReader,
  event: unknown,
  bad: (where: string, what: string, fix: string) => void,
): PreviewConfig | undefined {
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
  const pr = (event as { pull_request?: { number?: unknown; head?: { sha?: unknown } } } | undefined)
    ?.pull_request;
  const raw = input('pull-request-number');
  let pullRequest: number | undefined;
  if (raw !== '') {
    if (!/^[1-9]\d{0,8}$/.test(raw)) {
      bad(
        'pull-request-number',
        `"${raw}" is not a pull request number.`,
        'Set pull-request-number to the number of the pull request, e.g. 42.',
      );
    } else {
      pullRequest = Number(raw);
    }
  } else if (typeof pr?.number === 'number' && Number.isInteger(pr.number) && pr.number > 0) {
    pullRequest = pr.number;
  } else {
    bad(
      'pull-request-number',
      `preview: ${action} needs the pull request's number, and the event that started the workflow has no pull_request.`,
      'Run preview jobs on pull_request events, or set pull-request-number (e.g. from a workflow_dispatch input).',
    );
  }

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
    const str = (key: string): string | undefined => {
      const v = s[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'string') {
        bad(`${name}.${key} must be a string.`, `Quote the value of ${key}.`);
        return undefined;
      }
      return v;
    };
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
    const args = s['build-args'];
    let buildArgs: string[] | undefined;
    if (Array.isArray(args)) buildArgs = args.map(String);
    else if (args !== undefined)
      bad(`${name}.build-args must be a list of NAME=value.`, 'Write it as a YAML list.');
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
