/**
 * The Docker CLI as a parameter. Commands are argument arrays (never a shell string), and a
 * secret travels on stdin only. `main` passes the real runner; tests pass a recorder. The
 * run's cancellation signal kills a running command (a build, a push) at once.
 */
import { spawn } from 'node:child_process';
import { throwIfCancelled } from './cancel.js';

export interface DockerResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Docker {
  run(args: string[], opts?: { input?: string; silent?: boolean }): Promise<DockerResult>;
}

export function dockerCli(command = 'docker', signal?: AbortSignal): Docker {
  return {
    async run(args, opts = {}) {
      throwIfCancelled(signal);
      const silent = opts.silent ?? false;
      if (!silent) process.stdout.write(`[command]${command} ${args.join(' ')}\n`);
      return new Promise<DockerResult>((resolve, reject) => {
        const child = spawn(command, args, {
          env: { ...process.env, DOCKER_CLI_HINTS: 'false' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          if (!silent) process.stdout.write(b);
        });
        child.stderr.on('data', (b: Buffer) => {
          stderr += b.toString();
          if (!silent) process.stderr.write(b);
        });
        const onAbort = () => child.kill('SIGTERM');
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('error', (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        });
        child.on('close', (code) => {
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) {
            try {
              throwIfCancelled(signal);
            } catch (err) {
              reject(err);
              return;
            }
          }
          resolve({ exitCode: code ?? 1, stdout, stderr });
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input === undefined ? undefined : Buffer.from(opts.input));
      });
    },
  };
}

/** The last lines of a failed command's output, for an error message. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
