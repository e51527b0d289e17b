/**
 * The stages every deploy shares, in order: validate (everything checkable before a change,
 * then the preflight), the policy when asked, login and build, render. Nothing here changes
 * the service; `register` and the deploy stage come after, in the run.
 */
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { Config } from '../config.js';
import { type Plan, policyInput, validate } from '../plan.js';
import { buildPolicy } from '../policy.js';
import type { RunReport } from '../report.js';
import type { RunDeps } from './deps.js';
import { produceImages, setImageOutputs } from './images.js';
import { renderFiles } from './register.js';
import type { Stages } from './stage.js';

export interface Release {
  plan: Plan;
  /** The task definition to register, images put in. */
  taskDefinition: RegisterTaskDefinitionCommandInput;
}

export async function prepareRelease(
  config: Config,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<Release> {
  const plan = await stages.run(
    'Validate',
    () => validate(config, deps),
    (p) => `mode ${p.mode}`,
  );
  report.mode = plan.mode;
  deps.setOutput('deploy-mode', plan.mode);
  if (config.printPolicy) {
    const policy = plan.policy ?? buildPolicy(await policyInput(config, plan, deps.clients));
    deps.log.info(`Least-privilege IAM policy for this deployment:\n${JSON.stringify(policy, null, 2)}`);
    deps.setOutput('policy', JSON.stringify(policy));
  }
  // The rendered files, and buildx's metadata file, go here.
  await deps.fs.mkdir(config.outputDir);
  const images = await produceImages(config, plan, deps, stages, report);
  setImageOutputs(deps, report, images);
  stages.check();
  // register: false deploys the revision as it is: there is nothing to render or register.
  const taskDefinition =
    plan.asIsArn !== undefined ? plan.taskDefinition : await renderFiles(config, plan, images, deps);
  return { plan, taskDefinition };
}
