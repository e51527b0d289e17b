/**
 * What the dry run says about the one-off task, deploying as-is and revision hygiene: the
 * calls added to (or taken from) the planned list. Pure.
 */
import type { Config } from '../config.js';

export function withTaskCalls(
  calls: string[],
  config: Pick<Config, 'task' | 'revisions' | 'cluster'>,
  asIsArn?: string,
): string[] {
  const out = [...calls];
  let at = out.findIndex((c) => c.startsWith('ecs:RegisterTaskDefinition'));
  if (asIsArn !== undefined && at >= 0) {
    out[at] = `(register: false) no RegisterTaskDefinition: ${asIsArn} is deployed as it is`;
  }
  const task = config.task;
  if (task !== undefined) {
    const line = [
      `ecs:RunTask cluster=${config.cluster} taskDefinition=<the deployed revision> startedBy=${task.startedBy}`,
      task.command !== undefined ? `command=${JSON.stringify(task.command)}` : '',
      'clientToken=<from the run> propagateTags=TASK_DEFINITION enableECSManagedTags=true;',
      'ecs:DescribeTasks and logs:GetLogEvents until it stops; ecs:StopTask on cancel or timeout',
    ]
      .filter(Boolean)
      .join(' ');
    if (task.when === 'before' && at >= 0) out.splice(++at, 0, line);
    else out.push(task.when === 'after' ? `${line} (after the deployment succeeded)` : line);
  }
  const keep = config.revisions.keepRevisions;
  if (keep !== undefined) {
    out.push(
      `ecs:ListTaskDefinitions, ecs:DeregisterTaskDefinition: the family's ACTIVE revisions beyond the newest ${keep}, none in use${config.revisions.deleteDeregistered ? ', then ecs:DeleteTaskDefinitions' : ''}`,
    );
  }
  return out;
}
