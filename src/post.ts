/** The post step's entry point: read what main saved, clean up. Logic in cleanup.ts. */
import * as core from '@actions/core';
import { createClients } from './aws.js';
import { cleanUp, readSavedState } from './cleanup.js';
import { dockerCli } from './docker.js';

export async function post(): Promise<void> {
  const state = readSavedState((n) => core.getState(n));
  const region = state.deployment?.region ?? process.env.AWS_REGION ?? 'us-east-1';
  let clients: ReturnType<typeof createClients> | undefined;
  const get = () => (clients ??= createClients(region, 5));
  try {
    await cleanUp(state, {
      codedeploy: () => get().codedeploy,
      ecs: () => get().ecs,
      docker: dockerCli(),
      log: {
        info: (m) => core.info(m),
        warning: (m) => core.warning(m),
        notice: (m) => core.notice(m),
        debug: (m) => core.debug(m),
        secret: (v) => core.setSecret(v),
      },
    });
  } catch (e) {
    core.warning(`Clean-up after the deploy failed: ${(e as Error).message}`);
  }
}

await post();
