/**
 * Deploying an existing revision as it is (register: false), and keeping the family's
 * revision list short after a successful deployment (keep-revisions).
 */
import type { Config } from '../config.js';
import type { RunReport } from '../report.js';
import { oneLine } from '../safe-text.js';
import { familyOfArn, pruneRevisions } from '../task/revisions.js';
import type { RunDeps } from './deps.js';
import type { Stages } from './stage.js';

/** The revision validation found ACTIVE, in place of a registered one. */
export function deployAsIs(arn: string, deps: RunDeps, stages: Stages, report: RunReport): string {
  stages.skip('Register task definition', `register: false, deploying ${arn} as it is`);
  deps.log.info(`Deploying ${arn} as it is: nothing is registered.`);
  report.taskDefinitionArn = arn;
  deps.setOutput('task-definition-arn', arn);
  return arn;
}

/**
 * Deregisters (and with delete-deregistered-revisions deletes) the family's older revisions.
 * The deployment has succeeded by now, so a failure here is a warning, not a failed run.
 */
export async function cleanRevisions(
  config: Config,
  deployed: string,
  deps: RunDeps,
  stages: Stages,
): Promise<void> {
  const family = familyOfArn(deployed);
  const keep = config.revisions.keepRevisions;
  if (family === undefined || keep === undefined) return;
  await stages.run('Old revisions', async () => {
    try {
      const pruned = await pruneRevisions(deps.clients.ecs, {
        family,
        keep,
        del: config.revisions.deleteDeregistered,
        cluster: config.cluster,
        service: config.deployMode === 'none' ? undefined : config.service,
        deployed,
      });
      for (const arn of pruned.deregistered) deps.log.info(`Deregistered ${arn}.`);
      if (pruned.deleted.length > 0)
        deps.log.info(`Deleted ${pruned.deleted.length} deregistered revision(s).`);
      deps.log.info(
        `${family}: ${pruned.kept} ACTIVE revision(s) kept (keep-revisions: ${keep}, and any in use).`,
      );
    } catch (e) {
      deps.log.warning(`Old revisions of ${family} were not cleaned up: ${oneLine((e as Error).message)}`);
    }
  });
}
