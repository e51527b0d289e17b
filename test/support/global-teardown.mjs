/** Jest's global teardown: stops the Docker engine and registry that this test run started, and nothing else. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scripts', 'local-docker.sh');

export default function globalTeardown() {
  const file = process.env.LOCAL_DOCKER_STARTED_FILE;
  if (!file || process.env.ECS_DEPLOY_TESTS_OWN_STARTED_FILE !== '1') return;
  const started = existsSync(file)
    ? [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))]
    : [];
  rmSync(dirname(file), { recursive: true, force: true });
  if (started.length === 0) return;
  console.log(`Stopping what the tests started: ${started.join(', ')} (E2E_KEEP_DOCKER=1 keeps them).`);
  execFileSync('bash', [script, 'down', ...started], { stdio: 'inherit' });
}
