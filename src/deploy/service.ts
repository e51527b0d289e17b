import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
  type Service,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { UserError } from '../errors.js';
import { isAwsError } from './aws-errors.js';

export type DeploymentControllerType = 'ECS' | 'CODE_DEPLOY' | 'EXTERNAL';

export interface TargetService {
  cluster: string;
  serviceName: string;
  serviceArn: string;
  status: string;
  controller: DeploymentControllerType;
  taskDefinitionArn: string;
  desiredCount: number;
  /** The DescribeServices answer as AWS gave it. */
  service: Service;
}

const REGION_HINT =
  'the region the AWS credentials are configured for (aws-actions/configure-aws-credentials)';

/**
 * DescribeServices for the one service this run deploys to. A missing cluster or a
 * missing, deleted or draining service is the user's to fix, so it becomes a UserError.
 */
export async function describeTargetService(
  ecs: ECSClient,
  cluster: string,
  service: string,
): Promise<TargetService> {
  let out;
  try {
    out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  } catch (err) {
    if (isAwsError(err, 'ClusterNotFoundException')) {
      throw new UserError({
        where: 'cluster',
        what: `ECS cluster '${cluster}' was not found.`,
        fix: `Check the cluster name and ${REGION_HINT}.`,
      });
    }
    throw err;
  }
  const failure = out.failures?.[0];
  const svc = out.services?.[0];
  if (failure && failure.reason !== 'MISSING') {
    throw new Error(
      `DescribeServices could not describe service '${service}' in cluster '${cluster}': ${failure.reason ?? 'unknown reason'}${failure.detail ? ` (${failure.detail})` : ''}`,
    );
  }
  if (!svc) {
    throw new UserError({
      where: 'service',
      what: `ECS service '${service}' was not found in cluster '${cluster}'.`,
      fix: `Create the service first, or check the service and cluster inputs and ${REGION_HINT}.`,
    });
  }
  const status = svc.status ?? 'UNKNOWN';
  if (status === 'INACTIVE' || status === 'DRAINING') {
    throw new UserError({
      where: 'service',
      what: `ECS service '${service}' in cluster '${cluster}' is ${status} (deleted${status === 'DRAINING' ? ', still draining' : ''}), so it cannot be deployed to.`,
      fix: `Create the service again (a DRAINING service must reach INACTIVE before a service of the same name can be created), or check the service and cluster inputs and ${REGION_HINT}.`,
    });
  }
  return {
    cluster,
    serviceName: svc.serviceName ?? service,
    serviceArn: svc.serviceArn ?? '',
    status,
    // DescribeServices omits deploymentController for services created before it existed: those are ECS.
    controller: svc.deploymentController?.type ?? 'ECS',
    taskDefinitionArn: svc.taskDefinition ?? '',
    desiredCount: svc.desiredCount ?? 0,
    service: svc,
  };
}

export type ResolvedDeployMode = 'codedeploy' | 'rolling' | 'none';

const CONTROLLER_MODE: Record<DeploymentControllerType, ResolvedDeployMode | undefined> = {
  CODE_DEPLOY: 'codedeploy',
  ECS: 'rolling',
  EXTERNAL: undefined,
};

/**
 * Which deployment this run performs. The service's deployment controller decides what is
 * possible: ECS refuses a task definition change through UpdateService on a CODE_DEPLOY
 * service, and CodeDeploy cannot deploy to an ECS-controlled one.
 */
export function resolveDeployMode(
  requested: 'auto' | 'codedeploy' | 'rolling' | 'none',
  svc: TargetService | undefined,
): ResolvedDeployMode {
  if (requested === 'none') return 'none';
  if (!svc) {
    throw new UserError({
      where: 'deploy-mode',
      what: `deploy-mode '${requested}' deploys to an ECS service, but no service was given.`,
      fix: 'Set the service (and cluster) inputs, or set deploy-mode: none to only build, push and register the task definition.',
    });
  }
  const name = `ECS service '${svc.serviceName}'`;
  const supported = CONTROLLER_MODE[svc.controller];
  if (!supported) {
    throw new UserError({
      where: 'deploy-mode',
      what: `${name} uses the ${svc.controller} deployment controller, which this action cannot deploy through.`,
      fix: 'Set deploy-mode: none to only register the task definition and deploy it with your own controller, or recreate the service with the ECS or CODE_DEPLOY deployment controller.',
    });
  }
  if (requested === 'auto' || requested === supported) return supported;
  if (requested === 'codedeploy') {
    throw new UserError({
      where: 'deploy-mode',
      what: `deploy-mode is 'codedeploy' but ${name} uses the ECS deployment controller, so CodeDeploy cannot deploy to it.`,
      fix: 'Set deploy-mode: rolling (or auto) to deploy with UpdateService, or recreate the service with deploymentController CODE_DEPLOY and a CodeDeploy application and deployment group for it.',
    });
  }
  throw new UserError({
    where: 'deploy-mode',
    what: `deploy-mode is 'rolling' but ${name} uses the CODE_DEPLOY deployment controller, and ECS only accepts a new task definition for it through CodeDeploy.`,
    fix: 'Set deploy-mode: codedeploy (or auto) for a blue/green deployment through CodeDeploy.',
  });
}

/** DescribeTaskDefinition with its tags: the starting point when the user gives no task-definition file. */
export async function describeTaskDefinition(
  ecs: ECSClient,
  taskDefinition: string,
): Promise<{ taskDefinition: TaskDefinition; tags: Tag[] }> {
  let out;
  try {
    out = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition, include: ['TAGS'] }));
  } catch (err) {
    // ECS answers ClientException "Unable to describe task definition." for an unknown family or revision.
    if (isAwsError(err, 'ClientException')) {
      throw new UserError({
        where: 'task-definition',
        what: `Task definition '${taskDefinition}' could not be described: ${err.message}`,
        fix: `Pass a task-definition file, or check that '${taskDefinition}' exists in ${REGION_HINT}.`,
      });
    }
    throw err;
  }
  if (!out.taskDefinition) {
    throw new Error(`DescribeTaskDefinition returned no taskDefinition for '${taskDefinition}'.`);
  }
  return { taskDefinition: out.taskDefinition, tags: out.tags ?? [] };
}
