/**
 * What a run of the built action exposes or leaves behind, checked rather than assumed:
 * secrets in what the runner shows or keeps (stdout/stderr, the job summary, the
 * GITHUB_OUTPUT/GITHUB_STATE files, the files rendered into RUNNER_TEMP), secrets on any
 * process's command line while runs are going on (sampled from /proc, read-only), processes
 * still running in the run's workspace, and deployments still active in the emulator.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Emulator } from '../../../emulator/index.js';
import type { DockerEnv } from '../../support/docker.js';
import type { ActionRun } from './action.js';
import { CREDENTIALS, visible } from './world.js';

export interface Secret {
  name: string;
  value: string;
}

/** The AWS secret key every e2e run signs with, and the registry password with the ECR token that carries it. */
export function runSecrets(docker?: DockerEnv): Secret[] {
  const secrets: Secret[] = [{ name: 'AWS secret access key', value: CREDENTIALS.secretAccessKey }];
  if (docker) {
    secrets.push(
      { name: 'registry password', value: docker.registryPassword },
      {
        // GetAuthorizationToken's authorizationToken: base64 of user:password.
        name: 'ECR authorization token',
        value: Buffer.from(`${docker.registryUser}:${docker.registryPassword}`).toString('base64'),
      },
    );
  }
  return secrets;
}

/** Docker's credential store: holding the login until the post step logs out is its job. */
const DOCKER_CONFIG_DIR = 'docker-config';

async function filesUnder(dir: string, skip: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const files: string[] = [];
  for (const entry of entries) {
    if (skip.includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(full)));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

/**
 * Where each secret shows in what the run printed (the runner consumes `::add-mask::` lines
 * and shows the rest) or wrote under its RUNNER_TEMP: the output, state, env and summary
 * files, and the rendered task definition, appspec and artifacts. Empty when nothing leaked.
 */
export async function secretLeaks(run: ActionRun, secrets: Secret[]): Promise<string[]> {
  const places: [string, string][] = [
    ['stdout', visible(run.stdout)],
    ['stderr', visible(run.stderr)],
  ];
  for (const file of await filesUnder(run.runnerTemp, [DOCKER_CONFIG_DIR])) {
    places.push([path.relative(run.runnerTemp, file), await readFile(file, 'utf8').catch(() => '')]);
  }
  return places.flatMap(([where, text]) =>
    secrets.filter((s) => s.value !== '' && text.includes(s.value)).map((s) => `${s.name} in ${where}`),
  );
}

/** The registries a run's docker credential store (DOCKER_CONFIG) still holds a login for. */
export async function registryLogins(run: ActionRun): Promise<string[]> {
  const file = path.join(run.runnerTemp, DOCKER_CONFIG_DIR, 'config.json');
  const text = await readFile(file, 'utf8').catch(() => '{}');
  const config = JSON.parse(text) as { auths?: Record<string, unknown> };
  return Object.keys(config.auths ?? {});
}

export interface CommandLineReport {
  /** Complete passes over /proc. */
  passes: number;
  /** Every distinct command line seen, secrets replaced by their names. */
  seen: Set<string>;
  /** `<secret name> on the command line of pid N: <command line, secret replaced>`. */
  leaks: string[];
}

export interface CommandLineWatch {
  /** Stops sampling after the pass under way and reports. */
  stop(): Promise<CommandLineReport>;
}

function redact(commandLine: string, secrets: Secret[]): string {
  return secrets.reduce((line, s) => line.split(s.value).join(`<${s.name}>`), commandLine);
}

async function commandLines(): Promise<[number, string][]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const lines = await Promise.all(
    pids.map(async (pid): Promise<[number, string] | undefined> => {
      // A process may end between readdir and read; that is not an error.
      const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      return raw === '' ? undefined : [Number(pid), raw.replace(/\0+$/, '').split('\0').join(' ')];
    }),
  );
  return lines.filter((l): l is [number, string] => l !== undefined);
}

/**
 * Samples the command line of every process on this machine every `intervalMs` until
 * stopped, recording any that holds a secret. Only /proc/<pid>/cmdline is read.
 */
export function watchCommandLines(secrets: Secret[], intervalMs = 20): CommandLineWatch {
  const report: CommandLineReport = { passes: 0, seen: new Set(), leaks: [] };
  const leaked = new Set<string>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const [pid, line] of await commandLines()) {
        const shown = redact(line, secrets);
        report.seen.add(shown);
        for (const s of secrets) {
          const leak = `${s.name} on the command line of pid ${pid}: ${shown}`;
          if (line.includes(s.value) && !leaked.has(leak)) {
            leaked.add(leak);
            report.leaks.push(leak);
          }
        }
      }
      report.passes++;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return report;
    },
  };
}

/**
 * Processes (other than this one) whose working directory is `dir` or below it: a run's
 * workspace is its children's working directory, so after the run has exited anything
 * listed here was left running by it.
 */
export async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const [pid, line] of await commandLines()) {
    if (pid === process.pid) continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`pid ${pid} (${line})`);
  }
  return found;
}

const ACTIVE_CODEDEPLOY = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

/** CodeDeploy deployments not yet ended and ECS rolling deployments IN_PROGRESS, as `service: id status`. */
export function activeDeployments(emulator: Emulator): string[] {
  const state = emulator.state;
  const codedeploy = [...state.codedeploy.deployments.values()]
    .filter((d) => ACTIVE_CODEDEPLOY.has(d.status))
    .map((d) => `${d.serviceName}: ${d.deploymentId} ${d.status} (${d.creator})`);
  const ecs = state.ecs.services
    .filter((s) => s.status === 'ACTIVE')
    .flatMap((s) =>
      s.deployments
        .filter((d) => d.rolloutState === 'IN_PROGRESS')
        .map((d) => `${s.serviceName}: ${d.id} IN_PROGRESS`),
    );
  return [...codedeploy, ...ecs];
}
