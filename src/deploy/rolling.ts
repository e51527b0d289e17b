import {
  UpdateServiceCommand,
  type ECSClient,
  type Service,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { UserError } from '../errors.js';
import { isAwsError } from './aws-errors.js';

/**
 * UpdateService to the new task definition. The deployment to watch is the PRIMARY one
 * running our task definition: ECS creates it in this call (or, when nothing changed and
 * no new deployment was forced, it is the one already running it).
 */
export async function startRollingDeployment(
  ecs: ECSClient,
  opts: {
    cluster: string;
    service: string;
    taskDefinitionArn: string;
    forceNewDeployment: boolean;
    desiredCount?: number;
    /** service-propagate-tags: the tasks get the service's or the revision's tags, and ECS-managed ones. */
    propagateTags?: 'SERVICE' | 'TASK_DEFINITION' | 'NONE';
  },
): Promise<{ deploymentId: string; service: Service }> {
  const input: UpdateServiceCommandInput = {
    cluster: opts.cluster,
    service: opts.service,
    taskDefinition: opts.taskDefinitionArn,
    forceNewDeployment: opts.forceNewDeployment,
  };
  if (opts.desiredCount !== undefined) input.desiredCount = opts.desiredCount;
  if (opts.propagateTags !== undefined) {
    input.propagateTags = opts.propagateTags;
    input.enableECSManagedTags = true;
  }
  let out;
  try {
    out = await ecs.send(new UpdateServiceCommand(input));
  } catch (err) {
    if (isAwsError(err, 'ClusterNotFoundException')) {
      throw new UserError({
        where: 'cluster',
        what: `ECS cluster '${opts.cluster}' was not found.`,
        fix: 'Check the cluster name and the region the AWS credentials are configured for.',
      });
    }
    if (isAwsError(err, 'ServiceNotFoundException', 'ServiceNotActiveException')) {
      throw new UserError({
        where: 'service',
        what: `ECS service '${opts.service}' in cluster '${opts.cluster}' cannot be updated: ${err.message}`,
        fix: 'Create the service (or wait until a deleted one has finished draining and create it again), or check the service and cluster inputs.',
      });
    }
    throw err;
  }
  const service = out.service;
  const primary = service?.deployments?.find(
    (d) => d.status === 'PRIMARY' && d.taskDefinition === opts.taskDefinitionArn,
  );
  if (!service || !primary?.id) {
    const seen = (service?.deployments ?? [])
      .map((d) => `${d.id} ${d.status} ${d.taskDefinition}`)
      .join('; ');
    throw new Error(
      `UpdateService on '${opts.service}' returned no PRIMARY deployment of ${opts.taskDefinitionArn} (deployments: ${seen || 'none'}).`,
    );
  }
  return { deploymentId: primary.id, service };
}
