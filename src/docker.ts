/**
 * The Docker CLI as a parameter. Commands are argument arrays (never a shell string), and a
 * secret travels on stdin only. `main` passes the real runner; tests pass a recorder. The
 * run's cancellation signal kills a running command (a build, a push) at once.
 */
import { spawn } from 'node:child_process';
import { throwIfCancelled } from './cancel.js';
import { inertLines } from './safe-text.js';

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
      if (!silent) process.stdout.write(`${inertLines(`[command]${command} ${args.join(' ')}`)}\n`);
      // Docker's own output (a Dockerfile's RUN can print anything) is echoed line by line
      // through inertLines, so the runner never reads a command in it.
      const echoOut = inertWriter((t) => process.stdout.write(t));
      const echoErr = inertWriter((t) => process.stderr.write(t));
      return new Promise<DockerResult>((resolve, reject) => {
        const child = spawn(command, args, {
          env: { ...process.env, DOCKER_CLI_HINTS: 'false' },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          if (!silent) echoOut.push(b.toString());
        });
        child.stderr.on('data', (b: Buffer) => {
          stderr += b.toString();
          if (!silent) echoErr.push(b.toString());
        });
        const onAbort = () => child.kill('SIGTERM');
        signal?.addEventListener('abort', onAbort, { once: true });
        child.on('error', (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        });
        child.on('close', (code) => {
          signal?.removeEventListener('abort', onAbort);
          if (!silent) for (const w of [echoOut, echoErr]) w.end();
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

/**
 * A writer that passes text on in whole lines, each made inert (a command can only start at
 * a line's start, so a line is held until its end arrives); `end` flushes the last one.
 */
export function inertWriter(write: (text: string) => void): { push(text: string): void; end(): void } {
  let pending = '';
  return {
    push(text) {
      pending += text;
      const cut = Math.max(pending.lastIndexOf('\n'), pending.lastIndexOf('\r'));
      if (cut < 0) return;
      write(`${inertLines(pending.slice(0, cut))}\n`);
      pending = pending.slice(cut + 1);
    },
    end() {
      if (pending !== '') write(`${inertLines(pending)}\n`);
      pending = '';
    },
  };
}
