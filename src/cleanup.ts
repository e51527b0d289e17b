/**
 * What the post step does. The runner runs it after the main step whatever happened to it: finished,
 * failed, cancelled (SIGINT, then SIGTERM) or crashed. When a deployment this run started
 * was left unwatched, it is stopped with rollback (on-cancel: rollback), so a cancelled
 * job never leaves production half-changed. It also logs out of the registry.
 */
import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { STRATEGIES } from './deploy/choose.js';
import type { DeploymentRecord } from './deploy/strategy.js';
import type { Docker } from './docker.js';
import type { Log } from './log.js';
import { recordedTasks, stopTask, type TaskRecord } from './task/ecs.js';

export interface SavedState {
  /** Written before the start call (intent, no id yet), completed with the id after. */
  deployment?: DeploymentRecord;
  settled: boolean;
  registry?: string;
  onCancel: 'rollback' | 'leave';
  /** A one-off task the run started (recorded before RunTask) and whether it was seen to stop. */
  task?: TaskRecord;
  taskSettled?: boolean;
}

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
    task: parseRecord<TaskRecord>(get('task')),
    taskSettled: get('task-settled') === 'true',
  };
}

function parseRecord<T>(raw: string): T | undefined {
  try {
    return raw ? (JSON.parse(raw) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** A one-off task the run left running (cancelled, crashed) is stopped: it must not go on alone. */
async function stopRecordedTask(record: TaskRecord, ecs: ECSClient, log: Log): Promise<void> {
  try {
    for (const arn of await recordedTasks(ecs, record)) {
      await stopTask(ecs, record.cluster, arn, 'The deploy run ended before the task did');
      log.info(`Stopped the one-off task ${arn}, which the run left running.`);
    }
  } catch (e) {
    log.warning(`Could not stop the one-off task the run started: ${(e as Error).message}`);
  }
}

export async function cleanUp(
  state: SavedState,
  deps: { codedeploy: () => CodeDeployClient; ecs: () => ECSClient; docker: Docker; log: Log },
): Promise<void> {
  const { log } = deps;
  if (state.task !== undefined && !state.taskSettled) await stopRecordedTask(state.task, deps.ecs(), log);
  const d = state.deployment;
  if (d !== undefined && !state.settled) {
    // The strategy that started it knows how to find it (also from the intent alone) and stop it.
    const strategy = STRATEGIES[d.kind];
    if (strategy === undefined) {
      log.warning(
        `The run recorded a deployment of an unknown kind (${String(d.kind)}); it is left as it is.`,
      );
    } else {
      await strategy.abandon({ codedeploy: deps.codedeploy(), ecs: deps.ecs() }, d, state.onCancel, log);
    }
  }
  if (state.registry !== undefined) {
    const r = await deps.docker.run(['logout', state.registry], { silent: true });
    if (r.exitCode === 0) log.info(`Logged out of ${state.registry}.`);
  }
}
