/** The Docker CLI, run with an argument array; environment values and secrets never go on it. */
import { spawn } from 'node:child_process';

export interface DockerResult {
  /** null when the process was killed (timeout) or could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Long enough for a `docker run` that has to pull from the local registry. */
const DEFAULT_TIMEOUT_MS = 120_000;

export function docker(args: string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DockerResult> {
  return new Promise((resolve) => {
    const child = spawn('docker', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DOCKER_CLI_HINTS: 'false' },
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ code: null, stdout, stderr: stderr + error.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Fails with what went wrong and how to get an engine when no Docker engine answers. */
export async function requireDocker(): Promise<void> {
  const r = await docker(['version', '--format', '{{.Server.Version}}'], 30_000);
  if (r.code !== 0) {
    throw new Error(
      `the demo runtime runs ECS tasks as Docker containers, but 'docker version' failed: ${r.stderr.trim() || `exit ${r.code}`}. ` +
        'Fix: run `bash scripts/local-docker.sh up` (a Docker engine and registry on 127.0.0.1), or install Docker Engine.',
    );
  }
}
