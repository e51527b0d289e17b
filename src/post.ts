/** The post step's entry point: read what main saved, clean up. Logic in cleanup.ts. */
import * as core from './runner.js';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECSClient } from '@aws-sdk/client-ecs';
import { cleanUp, readSavedState } from './cleanup.js';
import { clientConfig } from './client-config.js';
import { dockerCli } from './docker.js';
import { runnerLog } from './runner-log.js';

export async function post(): Promise<void> {
  const state = readSavedState((n) => core.getState(n));
  const region = state.deployment?.region ?? state.task?.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const config = clientConfig(region, 5);
  try {
    await cleanUp(state, {
      codedeploy: () => new CodeDeployClient(config),
      ecs: () => new ECSClient(config),
      docker: dockerCli(),
      log: runnerLog,
    });
  } catch (e) {
    core.warning(`Clean-up after the deploy failed: ${(e as Error).message}`);
  }
}
