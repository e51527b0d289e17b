#!/usr/bin/env node
/**
 * The command line: `ecs-deploy-pipeline policy …` prints the least-privilege IAM policy
 * for the role that runs the action, so it can be created before the first run. runCli is
 * pure (arguments in, text and exit code out); the last lines run it as a program.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultCodeDeployNames } from './deploy/codedeploy.js';
import { UserError, formatProblem } from './errors.js';
import { buildPolicy, partitionOf, type PolicyInput } from './policy.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const USAGE = `Usage: ecs-deploy-pipeline policy --region REGION --account ACCOUNT_ID --family FAMILY
         --mode codedeploy|rolling|ecs-native|none [--cluster CLUSTER] [--service SERVICE]
         (--deploy-role ROLE | --no-preflight)
         [--repository NAME ...] [--create-repository] [--pull] [--image-repository NAME ...]
         [--application APP] [--deployment-group GROUP] [--deployment-config CONFIG]
         [--pass-role ROLE_ARN ...] [--rollback] [--preview [--preview-listener LISTENER_ARN]]
         [--log-group GROUP ...] [--load-balanced]

Prints the IAM policy (JSON) that the role running the action needs, scoped to these resources.
Give every kind of run the role makes (a build, an existing image, a rollback, previews): the
policy grants what all of them call, and nothing else.

  --region             AWS region, e.g. us-east-1
  --account            the 12-digit AWS account ID
  --family             the task definition family
  --mode               codedeploy (blue/green), rolling (ECS), ecs-native (ECS blue/green, linear, canary), or none (register the task definition only)
  --cluster            the ECS cluster (default: default)
  --service            the ECS service (required unless --mode none); for previews, the base service
  --deploy-role        the role the action runs as (NAME, PATH/NAME or its ARN): the preflight reads it
                       and simulates its policies (preflight: true, the action's default)
  --no-preflight       the workflow sets preflight: false; then no --deploy-role is needed
  --repository         an ECR repository the action pushes to; repeat for several; leave out when it builds nothing
  --create-repository  the action may create the repository (create-repository: true)
  --pull               the build pulls from its --repository too (a cache-from registry cache or a FROM image there);
                       pulls from other repositories need ecr:BatchGetImage and ecr:GetDownloadUrlForLayer on them
  --image-repository   the ECR repository of an existing image the action deploys (the image input); repeat for several
  --application        CodeDeploy application (default: AppECS-<cluster>-<service>)
  --deployment-group   CodeDeploy deployment group (default: DgpECS-<cluster>-<service>)
  --deployment-config  CodeDeploy deployment config (default: any, as the group's own is used)
  --pass-role          the task definition's taskRoleArn or executionRoleArn; repeat for both
  --rollback           rollback runs too (rollback: true)
  --preview            pull-request previews too (preview: deploy and destroy), next to --service
  --preview-listener   the load balancer listener previews are routed through (preview-listener-arn)
  --log-group          an awslogs-group of the task definition: a failed deployment's container logs are
                       read from it (container-log-lines); repeat for several
  --load-balanced      the service is behind a load balancer: its production listener is read for the url output
                       (implied by --mode ecs-native)
`;

const OPTIONS = {
  region: { type: 'string' },
  account: { type: 'string' },
  family: { type: 'string' },
  mode: { type: 'string' },
  cluster: { type: 'string' },
  service: { type: 'string' },
  repository: { type: 'string', multiple: true },
  'create-repository': { type: 'boolean' },
  application: { type: 'string' },
  'deployment-group': { type: 'string' },
  'deployment-config': { type: 'string' },
  'pass-role': { type: 'string', multiple: true },
  'deploy-role': { type: 'string' },
  'no-preflight': { type: 'boolean' },
  pull: { type: 'boolean' },
  'image-repository': { type: 'string', multiple: true },
  rollback: { type: 'boolean' },
  preview: { type: 'boolean' },
  'preview-listener': { type: 'string' },
  'log-group': { type: 'string', multiple: true },
  'load-balanced': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const MODES = ['codedeploy', 'rolling', 'ecs-native', 'none'] as const;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT = /^\d{12}$/;
const FAMILY = /^[A-Za-z0-9_-]{1,255}$/;
const ECS_NAME = /^(?:[A-Za-z0-9_-]{1,255}|arn:aws[\w-]*:ecs:\S+)$/;
const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const CODEDEPLOY_NAME = /^[A-Za-z0-9_.+=,@-]{1,100}$/;
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
/** A role name, optionally after its path: ci/deploy. */
const ROLE_NAME = /^(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const LISTENER_ARN =
  /^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[^/]+\/[^/]+\/[^/]+$/;

/** Runs one command line (without `node` and the script) and returns what to print. */
export function runCli(argv: string[]): CliResult {
  const usageError = (errors: string[]): CliResult => ({
    exitCode: 2,
    stdout: '',
    stderr: `${errors.map((e) => `error: ${e}`).join('\n')}\n\n${USAGE}`,
  });

  let parsed;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    return usageError([(err as Error).message]);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') return { exitCode: 0, stdout: USAGE, stderr: '' };
  if (positionals.length !== 1 || positionals[0] !== 'policy') {
    return usageError([
      positionals.length === 0
        ? 'no command given; the command is policy.'
        : `unknown command "${positionals.join(' ')}"; the command is policy.`,
    ]);
  }

  const errors: string[] = [];
  const o = checkOptions(values, errors);
  if (errors.length > 0) return usageError(errors);

  let policy;
  try {
    policy = buildPolicy(policyInputOf(values, o));
  } catch (err) {
    if (err instanceof UserError) return usageError(err.problems.map(formatProblem));
    throw err;
  }
  return {
    exitCode: 0,
    stdout: `${JSON.stringify(policy, null, 2)}\n`,
    stderr:
      o.passRoles.length === 0
        ? 'note: no --pass-role given, so the policy grants no iam:PassRole; registering a task definition that names a task role or execution role needs it.\n'
        : '',
  };
}

/** The ARN of a role given by name (with or without its path) or by ARN. */
function roleArn(role: string, region: string, account: string): string {
  return ROLE_ARN.test(role) ? role : `arn:${partitionOf(region)}:iam::${account}:role/${role}`;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(realpathSync(invokedPath)).href) {
  const result = runCli(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}

function parseOptions(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

type Values = ReturnType<typeof parseOptions>['values'];

/** Every option checked; each problem appended to `errors`. */
function checkOptions(values: Values, errors: string[]) {
  const required = (name: 'region' | 'account' | 'family' | 'mode', pattern: RegExp, shape: string) => {
    const value = values[name];
    if (value === undefined) errors.push(`--${name} is required.`);
    else if (!pattern.test(value)) errors.push(`--${name} "${value}" is not ${shape}.`);
    return value ?? '';
  };
  const region = required('region', REGION, 'an AWS region such as us-east-1');
  const account = required('account', ACCOUNT, 'a 12-digit AWS account ID');
  const family = required('family', FAMILY, 'a task definition family (letters, digits, - and _)');
  const mode = required('mode', new RegExp(`^(${MODES.join('|')})$`), `one of ${MODES.join(', ')}`) as
    (typeof MODES)[number] | '';
  const cluster = values.cluster ?? 'default';
  if (!ECS_NAME.test(cluster)) errors.push(`--cluster "${cluster}" is not a cluster name or ARN.`);
  const service = values.service;
  if (service !== undefined && !ECS_NAME.test(service)) {
    errors.push(`--service "${service}" is not a service name or ARN.`);
  }
  if (service === undefined && (mode === 'codedeploy' || mode === 'rolling' || mode === 'ecs-native')) {
    errors.push(`--mode ${mode} deploys to a service: give --service.`);
  }
  const repositories = values.repository ?? [];
  for (const r of repositories) {
    if (!REPOSITORY.test(r)) errors.push(`--repository "${r}" is not an ECR repository name.`);
  }
  if (values['create-repository'] && repositories.length === 0) {
    errors.push('--create-repository needs the --repository to create.');
  }
  const codedeployNames = (['application', 'deployment-group', 'deployment-config'] as const).filter(
    (n) => values[n] !== undefined,
  );
  for (const name of codedeployNames) {
    if (mode !== 'codedeploy') errors.push(`--${name} applies to --mode codedeploy only.`);
    else if (!CODEDEPLOY_NAME.test(values[name] as string)) {
      errors.push(`--${name} "${values[name]}" is not a CodeDeploy name.`);
    }
  }
  const { passRoles, preflight, deployRole } = checkRoleOptions(values, errors);
  if (values.pull && repositories.length === 0)
    errors.push('--pull needs the --repository the build pulls from.');
  const imageRepositories = values['image-repository'] ?? [];
  for (const r of imageRepositories) {
    if (!REPOSITORY.test(r)) errors.push(`--image-repository "${r}" is not an ECR repository name.`);
  }
  if (values.rollback && mode === 'none') {
    errors.push('--rollback redeploys through the service: give --mode codedeploy or rolling.');
  }
  if (values.preview && service === undefined) {
    errors.push('--preview runs next to a base service: give --service.');
  }
  const listenerArn = values['preview-listener'];
  if (listenerArn !== undefined && !values.preview) {
    errors.push('--preview-listener routes previews: give --preview too.');
  } else if (listenerArn !== undefined && !LISTENER_ARN.test(listenerArn)) {
    errors.push(
      `--preview-listener "${listenerArn}" is not an Application Load Balancer listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/NAME/ID/ID).`,
    );
  }
  return {
    region,
    account,
    family,
    mode,
    cluster,
    service,
    repositories,
    codedeployNames,
    passRoles,
    preflight,
    deployRole,
    imageRepositories,
    listenerArn,
  };
}

/** --pass-role, --deploy-role and --no-preflight. */
function checkRoleOptions(values: Values, errors: string[]) {
  const passRoles = values['pass-role'] ?? [];
  for (const role of passRoles) {
    if (!ROLE_ARN.test(role))
      errors.push(`--pass-role "${role}" is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME).`);
  }
  const preflight = !(values['no-preflight'] ?? false);
  const deployRole = values['deploy-role'];
  if (deployRole !== undefined && !ROLE_ARN.test(deployRole) && !ROLE_NAME.test(deployRole)) {
    errors.push(`--deploy-role "${deployRole}" is not a role name (NAME or PATH/NAME) or an IAM role ARN.`);
  } else if (deployRole !== undefined && !preflight) {
    errors.push('--deploy-role is for the preflight, and --no-preflight leaves it out: give one of them.');
  } else if (deployRole === undefined && preflight) {
    errors.push(
      '--deploy-role is required: the preflight (on unless the workflow sets preflight: false) reads and simulates the role the action runs as. Name that role, or give --no-preflight.',
    );
  }
  return { passRoles, preflight, deployRole };
}

/** The policy's input from the checked options. */
function policyInputOf(values: Values, o: ReturnType<typeof checkOptions>): PolicyInput {
  const { region, account, family, mode, cluster, service, repositories, codedeployNames } = o;
  const { passRoles, preflight, deployRole, imageRepositories, listenerArn } = o;
  return {
    region,
    accountId: account,
    repositories,
    imageRepositories,
    cluster,
    service,
    taskDefinitionFamily: family,
    ...(mode === 'codedeploy' &&
      codedeployNames.length > 0 && {
        codedeploy: {
          ...defaultCodeDeployNames(cluster, service as string),
          ...(values.application !== undefined && { application: values.application }),
          ...(values['deployment-group'] !== undefined && { deploymentGroup: values['deployment-group'] }),
          deploymentConfigName: values['deployment-config'],
        },
      }),
    passRoles,
    principalArn: deployRole === undefined ? undefined : roleArn(deployRole, region, account),
    previewListenerArn: listenerArn,
    needs: {
      build: repositories.length > 0,
      createRepository: values['create-repository'] ?? false,
      mode: mode as (typeof MODES)[number],
      preflight,
      existingImage: imageRepositories.length > 0,
      pull: values.pull ?? false,
      rollback: values.rollback ?? false,
      ...(values.preview && { preview: { routing: listenerArn !== undefined } }),
      containerLogGroups: values['log-group'] ?? [],
      // An ECS-native service is always behind a load balancer: its listener gives the url output.
      url: (values['load-balanced'] ?? false) || mode === 'ecs-native',
    },
  };
}
