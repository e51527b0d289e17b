/**
 * The Docker CLI as a parameter. Commands are argument arrays (never a shell string), and a
 * secret travels on stdin only. `main` passes the real runner; tests pass a recorder.
 */
import { getExecOutput } from '@actions/exec';

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Docker {
  run(args: string[], opts?: { input?: string; silent?: boolean }): Promise<DockerResult>;
}

export function dockerCli(command = 'docker'): Docker {
  return {
    async run(args, opts = {}) {
      const result = await getExecOutput(command, args, {
        ignoreReturnCode: true,
        silent: opts.silent ?? false,
        input: opts.input === undefined ? undefined : Buffer.from(opts.input),
        env: { ...(process.env as Record<string, string>), DOCKER_CLI_HINTS: 'false' },
      });
      return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

/** The last lines of a failed command's output, for an error message. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
