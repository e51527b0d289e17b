/**
 * Render and register: the task definition with the images put in (and the artifacts
 * CodePipeline's Build stage would leave: imagedefinitions.json, imageDetail.json), written
 * to output-dir, then RegisterTaskDefinition unless this is a dry run.
 */
import path from 'node:path';
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import type { Config } from '../config.js';
import { type Plan, prepareRegistration } from '../plan.js';
import { registerTaskDefinition } from '../register.js';
import { renderImageDefinitions, renderImageDetail } from '../render/artifacts.js';
import type { ImageAssignment } from '../render/taskdef.js';
import type { RunReport } from '../report.js';
import type { RunDeps } from './deps.js';
import type { Stages } from './stage.js';

/** The task definition to register, and the files for later steps; changes nothing in AWS. */
export async function renderFiles(
  config: Config,
  plan: Plan,
  images: ImageAssignment[],
  deps: RunDeps,
): Promise<RegisterTaskDefinitionCommandInput> {
  const { log } = deps;
  const prepared = prepareRegistration(plan, images);
  if (prepared.stripped.length > 0) {
    log.notice(
      `Removed read-only fields from the task definition before registering: ${prepared.stripped.join(', ')}.`,
    );
  }
  for (const c of prepared.coerced) log.notice(`Task definition: ${c}`);
  const out = (name: string) => path.join(config.outputDir, name);
  await deps.fs.writeFile(out('task-definition.json'), JSON.stringify(prepared.input, null, 2) + '\n');
  await deps.fs.writeFile(out('imagedefinitions.json'), renderImageDefinitions(images));
  deps.setOutput('task-definition-path', out('task-definition.json'));
  deps.setOutput('imagedefinitions-path', out('imagedefinitions.json'));
  if (images[0]) {
    await deps.fs.writeFile(out('imageDetail.json'), renderImageDetail(images[0].imageUri));
    deps.setOutput('imagedetail-path', out('imageDetail.json'));
  }
  return prepared.input;
}

/** RegisterTaskDefinition; the new revision's ARN. */
export async function register(
  input: RegisterTaskDefinitionCommandInput,
  deps: RunDeps,
  stages: Stages,
  report: RunReport,
): Promise<string> {
  const registered = await stages.run(
    'Register task definition',
    () => registerTaskDefinition(deps.clients.ecs, input),
    (r) => r.arn,
  );
  report.taskDefinitionArn = registered.arn;
  report.registered = true;
  deps.setOutput('task-definition-arn', registered.arn);
  return registered.arn;
}
