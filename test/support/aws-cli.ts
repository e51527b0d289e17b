/**
 * The AWS CLI for the tests that drive the local endpoint by hand: one binary for every call and
 * for the version check (`E2E_AWS_CLI` when set, a path, else the `aws` on PATH, v1 or v2), and
 * region and endpoint passed as arguments on every call, since v1 ignores AWS_REGION and older
 * CLIs ignore AWS_ENDPOINT_URL (and would go to AWS).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const AWS_CLI = process.env.E2E_AWS_CLI || 'aws';

/**
 * Whether the CLI runs here. Without it the caller's tests are skipped with a visible warning,
 * unless E2E_REQUIRE_AWS_CLI (set by CI) makes that an error.
 */
export async function awsCliAvailable(tests: string): Promise<boolean> {
  try {
    await run(AWS_CLI, ['--version']);
    return true;
  } catch {
    if (process.env.E2E_REQUIRE_AWS_CLI)
      throw new Error('The AWS CLI is not installed (apt-get install awscli).');
    console.warn(`SKIPPED: ${tests} did not run: no \`aws\` command (apt-get install awscli).`);
    return false;
  }
}

/** One CLI call against `endpoint`, with no profile or config file; its JSON output, or undefined. */
export async function awsCli(
  args: string[],
  to: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string },
): Promise<unknown> {
  const global = ['--endpoint-url', to.endpoint, '--region', to.region, '--output', 'json'];
  const { stdout } = await run(AWS_CLI, [...global, ...args], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: '/nonexistent',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_ACCESS_KEY_ID: to.accessKeyId,
      AWS_SECRET_ACCESS_KEY: to.secretAccessKey,
      AWS_REGION: to.region,
      AWS_DEFAULT_REGION: to.region,
      AWS_ENDPOINT_URL: to.endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PAGER: '',
    },
  });
  return stdout.trim() === '' ? undefined : JSON.parse(stdout);
}
