/**
 * What the post step does. The runner runs it after the main step whatever happened to it: finished,
 * failed, cancelled (SIGINT, then SIGTERM) or crashed. When a deployment this run started
 * was left unwatched, it is stopped with rollback (on-cancel: rollback), so a cancelled
 * job never leaves production half-changed. It also logs out of the registry.
 */
import {
  GetDeploymentCommand,
  StopDeploymentCommand,
  type CodeDeployClient,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { Docker } from './docker.js';
import type { Log } from './log.js';

export interface SavedState {
  deployment?: {
    kind: 'codedeploy' | 'rolling';
    id: string;
    cluster: string;
    service: string;
    region: string;
  };
  settled: boolean;
  registry?: string;
  onCancel: 'rollback' | 'leave';
}

const ACTIVE_CODEDEPLOY = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

export function readSavedState(get: (name: string) => string): SavedState {
  const raw = get('deployment');
  let deployment: SavedState['deployment'];
  try {
    deployment = raw ? (JSON.parse(raw) as SavedState['deployment']) : undefined;
  } catch {
    deployment = undefined;
  }
  return {
    deployment,
    settled: get('settled') === 'true',
    registry: get('registry') || undefined,
    onCancel: get('on-cancel') === 'leave' ? 'leave' : 'rollback',
  };
}

export async function cleanUp(
  state: SavedState,
  deps: { codedeploy: () => CodeDeployClient; ecs: () => ECSClient; docker: Docker; log: Log },
): Promise<void> {
  const { log } = deps;
  const d = state.deployment;
  if (d !== undefined && !state.settled) {
    if (d.kind === 'codedeploy') {
      const info = (await deps.codedeploy().send(new GetDeploymentCommand({ deploymentId: d.id })))
        .deploymentInfo;
      const status = info?.status ?? 'unknown';
      if (!ACTIVE_CODEDEPLOY.has(status)) {
        log.info(`CodeDeploy deployment ${d.id} is ${status}; nothing to stop.`);
      } else if (state.onCancel === 'leave') {
        log.warning(
          `The run ended while CodeDeploy deployment ${d.id} was ${status}; on-cancel is leave, so it goes on without being watched.`,
        );
      } else {
        const out = await deps
          .codedeploy()
          .send(new StopDeploymentCommand({ deploymentId: d.id, autoRollbackEnabled: true }));
        log.warning(
          `The run ended while CodeDeploy deployment ${d.id} was ${status}: stopped it with rollback (${out.status ?? ''}${out.statusMessage ? `: ${out.statusMessage}` : ''}). Production stays on the previous version.`,
        );
      }
    } else {
      const svc = (
        await deps.ecs().send(new DescribeServicesCommand({ cluster: d.cluster, services: [d.service] }))
      ).services?.[0];
      const ours = svc?.deployments?.find((x) => x.id === d.id);
      const summary = ours
        ? `${ours.status} ${ours.rolloutState ?? ''}, ${ours.runningCount ?? 0}/${ours.desiredCount ?? 0} tasks running`
        : 'no longer among the service deployments (replaced or rolled back)';
      log.warning(
        `The run ended before ECS deployment ${d.id} of ${d.cluster}/${d.service} finished; it is left as it is: ${summary}. ECS goes on with it (its circuit breaker, when enabled, rolls back a failure).`,
      );
    }
  }
  if (state.registry !== undefined) {
    const r = await deps.docker.run(['logout', state.registry], { silent: true });
    if (r.exitCode === 0) log.info(`Logged out of ${state.registry}.`);
  }
}
