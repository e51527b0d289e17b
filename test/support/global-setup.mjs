/**
 * Jest's global setup: unless the caller already tracks them (as .ci/run does), name a file to which
 * `scripts/local-docker.sh up` records each component it starts during this run, so that the global
 * teardown stops exactly those. E2E_KEEP_DOCKER=1 keeps them running between runs (a developer's
 * speed-up; the next run finds them ready).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function globalSetup() {
  if (process.env.E2E_KEEP_DOCKER === '1' || process.env.LOCAL_DOCKER_STARTED_FILE) return;
  const dir = mkdtempSync(join(tmpdir(), 'ecs-deploy-tests-'));
  process.env.LOCAL_DOCKER_STARTED_FILE = join(dir, 'started');
  process.env.ECS_DEPLOY_TESTS_OWN_STARTED_FILE = '1';
}
