/**
 * Verify: read-only checks a careful operator makes before a deployment, all reported at
 * once. Does the cluster exist and is it ACTIVE, is the service there and does its
 * deployment controller fit the mode, does the CodeDeploy group target it, do the appspec's
 * container and port match the service's load balancer and the task definition, do the
 * roles the task definition names exist. (Whether an existing image is in ECR is checked while
 * planning, by checkImageExists in plan.ts.) Nothing is changed; a check the credentials may
 * not make is skipped with a warning.
 */
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import {
  DescribeClustersCommand,
  type ECSClient,
  type RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { DeployMode } from './config.js';
import { isAwsError } from './deploy/aws-errors.js';
import { defaultCodeDeployNames, getDeploymentGroup } from './deploy/codedeploy.js';
import { resolveDeployMode } from './deploy/choose.js';
import { serviceProblems } from './deploy/native-check.js';
import { isNativeStrategy } from './deploy/native.js';
import { describeTargetService, type TargetService } from './deploy/service.js';
import { type Problem, UserError } from './errors.js';
import type { Log } from './log.js';
import { type AppSpec, checkAppSpecAgainstTaskDefinition } from './render/appspec.js';
import { FieldProblems, isRecord, type FieldPath, type ParsedDocument } from './render/document.js';

export interface VerifyClients {
  ecs: ECSClient;
  codedeploy: CodeDeployClient;
  iam: IAMClient;
}

export interface VerifyTarget {
  region: string;
  cluster: string;
  service?: string;
  /** deploy-mode as given; the service's deployment controller must fit it. */
  deployMode: DeployMode;
  /** Unset names default to the console's AppECS-<cluster>-<service> / DgpECS-… */
  codedeploy?: { application?: string; deploymentGroup?: string; deploymentConfigName?: string };
  /** The task definition to register, and where it came from (for the file and line of a problem). */
  taskDefinition?: {
    input: RegisterTaskDefinitionCommandInput;
    source: string;
    file?: string;
    parsed?: ParsedDocument;
  };
  /** The appspec to deploy with; without `file` it is the one generated from the inputs. */
  appspec?: { appspec: AppSpec; file?: string; parsed?: ParsedDocument };
  /**
   * What the caller has already read and checked this run, so it is not asked of AWS twice:
   * the service as described, the deployment group (found and targeting this service).
   */
  known?: { service?: TargetService; deploymentGroupChecked?: boolean };
}

const ACCESS_DENIED = ['AccessDenied', 'AccessDeniedException'];
const REGION_HINT = 'the region the AWS credentials are configured for';
const LOAD_BALANCER_INFO: FieldPath = ['Resources', 0, 'TargetService', 'Properties', 'LoadBalancerInfo'];
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/(?:[^/]+\/)*([\w+=,.@-]{1,64})$/;
/** Every problem found; an empty list means the deployment looks right. */
export async function verifyDeployment(
  clients: VerifyClients,
  target: VerifyTarget,
  log: Log,
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const attempt: Attempt = async (what, action, fn) => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UserError) {
        problems.push(...err.problems);
        return undefined;
      }
      if (isAwsError(err, ...ACCESS_DENIED)) {
        log.warning(`Verify: could not check ${what} (${err.message}); allow ${action} to have it checked.`);
        return undefined;
      }
      throw err;
    }
  };

  const collect = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      problems.push(...err.problems);
      return undefined;
    }
  };

  const before = problems.length;
  await attempt('the cluster', 'ecs:DescribeClusters', () =>
    checkCluster(clients.ecs, target.cluster, target.region),
  );
  const clusterMissing = problems.length > before;
  let service: TargetService | undefined = target.known?.service;
  if (!clusterMissing && target.service !== undefined && service === undefined) {
    service = await attempt('the service', 'ecs:DescribeServices', () =>
      describeTargetService(clients.ecs, target.cluster, target.service as string),
    );
  }
  // Without the service (not found, or not describable) its controller cannot be judged.
  const mode =
    target.deployMode === 'none' || service !== undefined
      ? collect(() => resolveDeployMode(target.deployMode, service))
      : undefined;

  // ECS-native (auto on a BLUE_GREEN/LINEAR/CANARY service): what the service itself lacks for it.
  // A run that has described the service already checked this through the strategy.
  if (mode === 'rolling' && service !== undefined && target.known?.service === undefined) {
    if (isNativeStrategy(service.service.deploymentConfiguration?.strategy)) {
      problems.push(...serviceProblems(service.service));
    }
  }
  if (mode === 'codedeploy' && service !== undefined) {
    if (!target.known?.deploymentGroupChecked) await checkGroup(clients, target, attempt);
    if (target.appspec !== undefined) problems.push(...appSpecAgainstService(target.appspec, service));
  }
  const { appspec, taskDefinition } = target;
  if (mode === 'codedeploy' && appspec !== undefined && taskDefinition !== undefined) {
    collect(() =>
      checkAppSpecAgainstTaskDefinition(appspec.appspec, taskDefinition.input, {
        file: appspec.file,
        where: 'codedeploy-appspec',
        parsed: appspec.parsed,
      }),
    );
  }

  if (target.taskDefinition !== undefined) {
    problems.push(...(await checkRoles(clients, target.taskDefinition, attempt)));
  }

  return problems;
}

type Attempt = <T>(what: string, action: string, fn: () => Promise<T>) => Promise<T | undefined>;

/** The task definition's roles exist and can be assumed by ECS tasks. */
async function checkRoles(
  clients: VerifyClients,
  td: NonNullable<VerifyTarget['taskDefinition']>,
  attempt: Attempt,
): Promise<Problem[]> {
  const root = isRecord(td.parsed?.value) && 'taskDefinition' in td.parsed.value ? ['taskDefinition'] : [];
  const fields = new FieldProblems({ source: td.source, file: td.file, parsed: td.parsed, prefix: root });
  for (const field of ['executionRoleArn', 'taskRoleArn'] as const) {
    const arn = td.input[field];
    if (arn === undefined || arn === '') continue;
    await attempt(`the ${field} role`, 'iam:GetRole', () => checkRole(clients.iam, field, arn, fields));
  }
  return fields.problems.list;
}

/** The CodeDeploy deployment group (and config) deploy to this service. */
async function checkGroup(clients: VerifyClients, target: VerifyTarget, attempt: Attempt): Promise<void> {
  const serviceName = target.service as string;
  const defaults = defaultCodeDeployNames(target.cluster, serviceName);
  const actions = target.codedeploy?.deploymentConfigName
    ? 'codedeploy:GetDeploymentGroup and codedeploy:GetDeploymentConfig'
    : 'codedeploy:GetDeploymentGroup';
  await attempt('the CodeDeploy deployment group', actions, () =>
    getDeploymentGroup(clients.codedeploy, {
      application: target.codedeploy?.application ?? defaults.application,
      deploymentGroup: target.codedeploy?.deploymentGroup ?? defaults.deploymentGroup,
      deploymentConfigName: target.codedeploy?.deploymentConfigName,
      cluster: target.cluster,
      service: serviceName,
    }),
  );
}

/** Throws a UserError for a missing or inactive cluster. */
async function checkCluster(ecs: ECSClient, cluster: string, region: string): Promise<void> {
  const out = await ecs.send(new DescribeClustersCommand({ clusters: [cluster] }));
  const found = out.clusters?.[0];
  if (found === undefined) {
    const failure = out.failures?.[0];
    throw new UserError({
      where: 'cluster',
      what: `ECS cluster '${cluster}' was not found in ${region}${failure?.reason && failure.reason !== 'MISSING' ? ` (${failure.reason})` : ''}.`,
      fix: `Check the cluster name and ${REGION_HINT}.`,
    });
  }
  if (found.status !== 'ACTIVE') {
    throw new UserError({
      where: 'cluster',
      what: `ECS cluster '${cluster}' is ${found.status ?? 'in an unknown state'}, not ACTIVE${found.status === 'INACTIVE' ? ' (it was deleted)' : ''}.`,
      fix: 'Deploy to an ACTIVE cluster: create it again, or wait until it has finished provisioning.',
    });
  }
}

/**
 * CodeDeploy shifts traffic with the service's own load balancer settings, so the appspec's
 * container and port must be one of the service's loadBalancers entries.
 */
function appSpecAgainstService(
  target: NonNullable<VerifyTarget['appspec']>,
  service: TargetService,
): Problem[] {
  const { ContainerName, ContainerPort } =
    target.appspec.Resources[0].TargetService.Properties.LoadBalancerInfo;
  const entries = (service.service.loadBalancers ?? []).filter((lb) => lb.containerName !== undefined);
  if (
    entries.length === 0 ||
    entries.some((lb) => lb.containerName === ContainerName && lb.containerPort === ContainerPort)
  ) {
    return [];
  }
  const listed = entries.map((lb) => `${lb.containerName}:${lb.containerPort}`).join(', ');
  const sameName = entries.find((lb) => lb.containerName === ContainerName);
  const nameKnown = sameName !== undefined;
  const what = `ECS service '${service.serviceName}' sends load balancer traffic to ${listed}, but the appspec names ${ContainerName}:${ContainerPort}.`;
  const first = sameName ?? entries[0]!;
  if (target.file !== undefined) {
    const problems = new FieldProblems({ source: target.file, file: target.file, parsed: target.parsed });
    problems.at(
      [...LOAD_BALANCER_INFO, nameKnown ? 'ContainerPort' : 'ContainerName'],
      what,
      `Set LoadBalancerInfo to ContainerName: ${first.containerName} and ContainerPort: ${first.containerPort}, as the service's load balancer is configured.`,
    );
    return problems.problems.list;
  }
  return [
    {
      where: nameKnown ? 'container-port' : 'container-name',
      what,
      fix: `Set container-name to ${first.containerName} and container-port to ${first.containerPort}, or leave them unset to take them from the service.`,
    },
  ];
}

async function checkRole(
  iam: IAMClient,
  field: 'executionRoleArn' | 'taskRoleArn',
  arn: string,
  problems: FieldProblems,
): Promise<void> {
  const name = ROLE_ARN.exec(arn)?.[1];
  if (name === undefined) {
    problems.at(
      [field],
      `${field} ${JSON.stringify(arn)} is not an IAM role ARN.`,
      `Set ${field} to the role's ARN, arn:aws:iam::ACCOUNT:role/NAME (IAM console, the role's summary).`,
    );
    return;
  }
  let actual: string | undefined;
  try {
    actual = (await iam.send(new GetRoleCommand({ RoleName: name }))).Role?.Arn;
  } catch (err) {
    if (!isAwsError(err, 'NoSuchEntityException', 'NoSuchEntity')) throw err;
    problems.at(
      [field],
      `The role ${arn} does not exist (IAM has no role named ${name} in this account).`,
      field === 'executionRoleArn'
        ? 'Create the task execution role (ecsTaskExecutionRole, with the AmazonECSTaskExecutionRolePolicy) or correct the ARN.'
        : 'Create the task role the application runs as, or correct the ARN (remove taskRoleArn if the task calls no AWS API).',
    );
    return;
  }
  if (actual !== undefined && actual !== arn) {
    problems.at(
      [field],
      `${field} is ${arn}, but the role named ${name} is ${actual} (its path or account differs), so ECS cannot use it.`,
      `Set ${field} to ${actual}.`,
    );
  }
}
