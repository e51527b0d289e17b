/**
 * The real Docker pieces for end-to-end tests: the engine, the registry on 127.0.0.1 and the base
 * image that `scripts/local-docker.sh up` provides, plus an npm mirror for `npm ci` inside builds.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  defaultLockFile,
  defaultTarballDir,
  lockedTarballs,
  missingTarballs,
  startNpmMirror,
} from '../../scripts/npm-mirror.js';

export interface DockerEnv {
  /** `127.0.0.1:5000`: push to `${registryHost}/<repository>:<tag>`. */
  registryHost: string;
  registryUser: string;
  registryPassword: string;
  /** The Node base image to pass as the `BASE_IMAGE` build argument. */
  baseImage: string;
  /** The npm mirror's URL, for the `NPM_CONFIG_REGISTRY` build argument. */
  npmRegistry: string;
  /** Stops the npm mirror; the engine and the registry stay up for other tests. */
  stop(): Promise<void>;
}

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const localDockerScript = join(repoRoot, 'scripts', 'local-docker.sh');
/** Long enough for a first `up` on a fresh machine: apt installs, dockerd start, base image. */
const upTimeoutMs = 15 * 60_000;

const execFileAsync = promisify(execFile);

interface LocalDocker {
  registryHost: string;
  registryUser: string;
  registryPassword: string;
  baseImage: string;
}

/** Parses `local-docker.sh env`: `KEY=value` lines, values escaped by bash's `printf %q`. */
export function parseEnvLines(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined)
      values[match[1]] = match[2].replace(/\\(.)/g, '$1');
  }
  return values;
}

function required(values: Record<string, string>, key: string): string {
  const value = values[key];
  if (!value) throw new Error(`scripts/local-docker.sh env printed no ${key}`);
  return value;
}

async function bringUpLocalDocker(): Promise<LocalDocker> {
  const ready = await execFileAsync('bash', [localDockerScript, 'status']).then(
    () => true,
    () => false,
  );
  if (!ready) {
    try {
      await execFileAsync('bash', [localDockerScript, 'up', '--quiet'], {
        timeout: upTimeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
      throw new Error(`scripts/local-docker.sh up failed:\n${stderr || stdout}`);
    }
  }
  const { stdout } = await execFileAsync('bash', [localDockerScript, 'env']);
  const env = parseEnvLines(stdout);
  const passwordFile = required(env, 'REGISTRY_PASSWORD_FILE');
  return {
    registryHost: required(env, 'REGISTRY_HOST'),
    registryUser: required(env, 'REGISTRY_USER'),
    registryPassword: (await readFile(passwordFile, 'utf8')).trim(),
    baseImage: required(env, 'BASE_IMAGE'),
  };
}

async function checkMirrorTarballs(): Promise<void> {
  const tarballs = lockedTarballs(await readFile(defaultLockFile, 'utf8'), defaultLockFile);
  const missing = await missingTarballs(tarballs, defaultTarballDir);
  if (missing.length > 0) {
    throw new Error(
      `${missing.length} of the ${tarballs.length} npm tarballs example-app's lock names are not in ` +
        `${defaultTarballDir} (first: ${missing[0]?.path}). Fix: run \`npx tsx scripts/npm-mirror.ts fetch\`.`,
    );
  }
}

let localDocker: Promise<LocalDocker> | undefined;

/**
 * The local engine, registry, base image and a fresh npm mirror, or undefined (with a warning) when
 * they cannot be had. With `E2E_REQUIRE_DOCKER` set, as CI sets it, that is an error instead, so a
 * broken machine cannot pass by skipping. Each call starts its own mirror; stop it when done.
 */
export async function ensureDocker(): Promise<DockerEnv | undefined> {
  let docker: LocalDocker;
  try {
    localDocker ??= bringUpLocalDocker();
    docker = await localDocker;
    await checkMirrorTarballs();
  } catch (error) {
    localDocker = undefined;
    if (process.env.E2E_REQUIRE_DOCKER) throw error;
    console.warn(
      `Skipping the Docker end-to-end tests: ${(error as Error).message}\n` +
        'Set E2E_REQUIRE_DOCKER=1 to make this an error.',
    );
    return undefined;
  }
  const mirror = await startNpmMirror({ tarballDir: defaultTarballDir });
  return { ...docker, npmRegistry: mirror.url, stop: mirror.stop };
}

export interface RunOptions {
  /** Written to the process's stdin, then closed: how secrets reach `docker login`. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Runs `docker` with an argument array; resolves to its stdout, rejects with its stderr. */
export function runDocker(args: string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 5 * 60_000,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString();
      if (code === 0) return resolve(out);
      // The command line is safe to show: secrets only ever travel on stdin.
      reject(
        new Error(
          `docker ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${Buffer.concat(stderr).toString()}${out}`,
        ),
      );
    });
    child.stdin.end(options.input ?? '');
  });
}
