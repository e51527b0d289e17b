/** The dry run: what a real run would change, instead of changing it. */
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { type Config, imageTags } from '../config.js';
import { describeTaskDefinition } from '../deploy/service.js';
import {
  type CurrentTaskDefinition,
  describePlannedCalls,
  renderDryRunSummary,
  taskDefinitionDiff,
} from '../dryrun.js';
import type { Plan } from '../plan.js';
import type { RunReport } from '../report.js';
import { withTaskCalls } from '../task/plan.js';
import type { RunDeps } from './deps.js';

/** What a real run would change: the task definition diff, the calls, the appspec. */
export async function showDryRun(
  config: Config,
  plan: Plan,
  next: RegisterTaskDefinitionCommandInput,
  deps: RunDeps,
  report: RunReport,
): Promise<void> {
  let current: CurrentTaskDefinition | undefined;
  if (config.taskDefinition.kind === 'service') {
    current = plan.source.doc as CurrentTaskDefinition;
  } else if (plan.service !== undefined) {
    current = await describeTaskDefinition(deps.clients.ecs, plan.service.taskDefinitionArn);
  }
  const diff = taskDefinitionDiff(current, next);
  const planned = describePlannedCalls({
    pushes: config.containers.flatMap((c) =>
      c.build === undefined
        ? []
        : [
            {
              repository: c.build.repository,
              tags: imageTags(config),
              createRepository: plan.repositories.get(c.build.repository) === undefined,
            },
          ],
    ),
    taskDefinitionFamily: next.family ?? '',
    deployment: plan.strategy?.planned({ group: plan.group }, { config }) ?? { mode: 'none' },
    wait: config.waitForServiceStability,
  });
  const calls = withTaskCalls(planned, config, plan.asIsArn);
  deps.log.info(`Dry run: nothing is changed. A real run would make these calls:\n  ${calls.join('\n  ')}`);
  deps.log.info(
    diff === '' ? 'Task definition: no change from the current revision.' : `Task definition diff:\n${diff}`,
  );
  const markdown = renderDryRunSummary({ calls, diff, appspec: plan.appspec?.appspec });
  report.extraMarkdown = markdown;
  report.outcome = 'dry-run';
  deps.setOutput('deployment-outcome', 'dry-run');
}
