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
