/**
 * Revision hygiene (keep-revisions): after a successful deployment, the family's older ACTIVE
 * revisions beyond the newest N are deregistered (and, when asked, deleted), never one the
 * service still runs or a deployment of it still uses.
 */
import {
  DeleteTaskDefinitionsCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';

/** The family of a revision ARN (`…:task-definition/<family>:<revision>`). */
export function familyOfArn(arn: string): string | undefined {
  return /:task-definition\/([^:]+):\d+$/.exec(arn)?.[1];
}

/**
 * Which revisions to deregister: newest first in `active`, the first `keep` stay, and so does
 * every one in `inUse`. Pure.
 */
export function revisionsToDeregister(active: string[], keep: number, inUse: Set<string>): string[] {
  return active.slice(keep).filter((arn) => !inUse.has(arn));
}

/** Every ACTIVE revision of the family, newest first (all pages). */
export async function activeRevisions(ecs: ECSClient, family: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: family, status: 'ACTIVE', sort: 'DESC', nextToken }),
    );
    // familyPrefix is a prefix in some answers: keep the family's own revisions only.
    arns.push(...(out.taskDefinitionArns ?? []).filter((a) => familyOfArn(a) === family));
    nextToken = out.nextToken;
  } while (nextToken);
  return arns;
}

/** The revisions the service's deployments and task sets still use. */
export async function revisionsInUse(
  ecs: ECSClient,
  cluster: string,
  service: string | undefined,
): Promise<Set<string>> {
  const inUse = new Set<string>();
  if (service === undefined) return inUse;
  const out = await ecs.send(new DescribeServicesCommand({ cluster, services: [service] }));
  for (const s of out.services ?? []) {
    if (s.taskDefinition) inUse.add(s.taskDefinition);
    for (const d of s.deployments ?? []) if (d.taskDefinition) inUse.add(d.taskDefinition);
    for (const t of s.taskSets ?? []) if (t.taskDefinition) inUse.add(t.taskDefinition);
  }
  return inUse;
}

export interface Pruned {
  kept: number;
  deregistered: string[];
  deleted: string[];
}

export async function pruneRevisions(
  ecs: ECSClient,
  opts: { family: string; keep: number; del: boolean; cluster: string; service?: string; deployed: string },
): Promise<Pruned> {
  const active = await activeRevisions(ecs, opts.family);
  const inUse = await revisionsInUse(ecs, opts.cluster, opts.service);
  inUse.add(opts.deployed);
  const doomed = revisionsToDeregister(active, opts.keep, inUse);
  for (const arn of doomed) {
    await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: arn }));
  }
  const deleted: string[] = [];
  if (opts.del) {
    // DeleteTaskDefinitions takes at most 10 revisions a call.
    for (let i = 0; i < doomed.length; i += 10) {
      const out = await ecs.send(
        new DeleteTaskDefinitionsCommand({ taskDefinitions: doomed.slice(i, i + 10) }),
      );
      deleted.push(...(out.taskDefinitions ?? []).map((t) => t.taskDefinitionArn ?? '').filter(Boolean));
    }
  }
  return { kept: active.length - doomed.length, deregistered: doomed, deleted };
}
