/**
 * `npm run demo`: the whole pipeline on this machine, in one command. The built action
 * (`node dist/index.js`, given its inputs as INPUT_* variables exactly as a workflow step) builds
 * the example app, pushes it to a real registry behind the local AWS endpoint and registers it as
 * v1; the service is created on v1, as the infra stack creates it; then the action deploys v2 with
 * a CodeDeploy blue/green deployment while the demo shows what the production listener answers as
 * traffic moves. The tasks are real containers behind a local load balancer, all on 127.0.0.1.
 *
 *   npm run demo             then keep serving until Ctrl-C
 *   npm run demo -- --once   exit 0 once v2 is live, having removed everything the demo started
 *   npm run demo -- --strategy blue-green|linear|canary
 *                            an ECS-native service instead, whose listener rule weights ECS moves
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { DeploymentConfiguration } from '@aws-sdk/client-ecs';
import { startEmulator, type Emulator, type Seed } from '../emulator/index.js';
import { RUN_LABEL } from '../emulator/runtime/index.js';
import {
  defaultLockFile,
  defaultTarballDir,
  fetchTarballs,
  startNpmMirror,
  type NpmMirror,
} from './npm-mirror.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const localDockerScript = path.join(repoRoot, 'scripts', 'local-docker.sh');

const CLUSTER = 'demo';
const SERVICE = 'web';
const REGION = 'us-east-1';
/** The placeholder account of example-app/task-definition.json, so that its role ARNs exist here. */
const ACCOUNT_ID = '123456789012';
const DEPLOYMENT_CONFIG = 'CodeDeployDefault.ECSLinear10PercentEvery1Minutes';
/**
 * Emulated time runs this many times faster than real time: each emulated minute of the linear
 * traffic shift takes a second, so the shift is slow enough to watch and the demo stays short.
 */
const SPEED = 60;
const VERSIONS = [
  { name: 'v1', sha: 'de30000000000000000000000000000000000001' },
  { name: 'v2', sha: 'de30000000000000000000000000000000000002' },
] as const;
type Version = (typeof VERSIONS)[number];

/** Who may assume the example app's execution and task roles, as in example-app/infra. */
const ECS_TASKS_TRUST = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow' as const, Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
};

const SAMPLE_EVERY_MS = 250;
const REQUESTS_PER_SAMPLE = 20;
/** A sample that looks like the last one is printed again after this long, so a quiet wait shows. */
const REPEAT_SAMPLE_MS = 10_000;
/** Silence from the action longer than this gets a line saying the demo still waits. */
const HEARTBEAT_MS = 10_000;
const ACTION_TIMEOUT_MS = 10 * 60_000;
/** How long a cancelled action gets to stop its deployment. */
const ACTION_STOP_WAIT_MS = 15_000;
const LIVE_TIMEOUT_MS = 90_000;

const USAGE = `Usage: npm run demo [-- --once] [-- --strategy blue-green|linear|canary]

Builds the example app with the action, creates its ECS service on v1, then deploys v2 blue/green
through CodeDeploy, on this machine (Docker engine, registry and AWS endpoint on 127.0.0.1).
  --once       exit 0 once v2 is live, removing every container and process the demo started
               (without it, the demo keeps serving until Ctrl-C)
  --strategy   rehearse an ECS-native deployment instead of CodeDeploy: the service has the ECS
               controller and this deploymentConfiguration.strategy, and ECS moves production
               traffic by the weights of its listener rule (blue-green: all at once after the
               test traffic; linear: 20% a minute; canary: 10%, then the rest two minutes later)`;

/** The ECS-native strategies the demo can rehearse, as the service's deploymentConfiguration. */
const NATIVE = {
  'blue-green': { strategy: 'BLUE_GREEN', bakeTimeInMinutes: 1 },
  linear: {
    strategy: 'LINEAR',
    bakeTimeInMinutes: 1,
    linearConfiguration: { stepPercent: 20, stepBakeTimeInMinutes: 1 },
  },
  canary: {
    strategy: 'CANARY',
    bakeTimeInMinutes: 1,
    canaryConfiguration: { canaryPercent: 10, canaryBakeTimeInMinutes: 2 },
  },
} as const;
type NativeStrategy = keyof typeof NATIVE;

// ------------------------------------------------------------------ output

const say = (line: string) => console.log(line);
const stage = (step: number, total: number, what: string) => say(`\ndemo [${step}/${total}] ${what}`);

/** Splits a stream into lines, for prefixing. */
function onLines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  let rest = '';
  // Decoded by the stream, so a character split between chunks stays whole.
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) each(line.replace(/\r$/, ''));
  });
  stream.on('end', () => {
    if (rest) each(rest);
  });
}

const unescapeCommand = (text: string) =>
  text
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%25/g, '%');

/**
 * A line of the action's output as the GitHub runner would show it: workflow commands are
 * consumed (`::add-mask::` carries the secret to hide, so it is never shown), annotations and
 * groups shown plainly. Undefined for lines the runner does not display.
 */
function displayLine(line: string): string | undefined {
  const command = /^::([a-z-]+)(?: [^:]*)?::(.*)$/.exec(line);
  if (!command) return line;
  const [, name, message = ''] = command;
  if (name === 'error' || name === 'warning' || name === 'notice')
    return `${name}: ${unescapeCommand(message)}`;
  if (name === 'group') return `> ${message}`;
  return undefined;
}

// ------------------------------------------------------------------ processes

/** Runs a command with an argument array, its output streamed with a prefix; resolves to the exit code. */
function runStreamed(
  command: string,
  args: string[],
  opts: { prefix: string; env?: NodeJS.ProcessEnv },
): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onLines(child.stdout, (line) => say(`${opts.prefix}${line}`));
    onLines(child.stderr, (line) => say(`${opts.prefix}${line}`));
    child.on('error', (error) => {
      say(`${opts.prefix}${command} could not be started: ${error.message}`);
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
}

function capture(command: string, args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', () => resolve({ code: null, stdout }));
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

/** `KEY=value` lines, values escaped by bash's `printf %q`. */
function parseEnvLines(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined)
      values[match[1]] = match[2].replace(/\\(.)/g, '$1');
  }
  return values;
}

/** The runner's `name<<DELIMITER … DELIMITER` (and `name=value`) output file. */
function parseRunnerFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc?.[1] !== undefined && heredoc[2] !== undefined) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i] as string);
      out[heredoc[1]] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

class DemoError extends Error {}

// ------------------------------------------------------------------ what the demo starts, and stops

interface LocalDocker {
  registryHost: string;
  registryUser: string;
  registryPassword: string;
  baseImage: string;
}

/** Everything the demo starts, so that every exit path stops exactly that. */
class Resources {
  emulator?: Emulator;
  mirror?: NpmMirror;
  hook?: Server;
  sampler?: TrafficSampler;
  action?: ChildProcess;
  /** v2 is live and the demo only serves: Ctrl-C is then the normal way out. */
  serving = false;
  private cleaning?: Promise<void>;

  constructor(readonly runDir: string) {}

  /** Where `local-docker.sh up` lists what it started (dockerd, registry). */
  get startedFile(): string {
    return path.join(this.runDir, 'local-docker-started');
  }

  cleanup(): Promise<void> {
    this.cleaning ??= this.stopAll();
    return this.cleaning;
  }

  /** Stops the demo where it is once cleanup has begun (Ctrl-C), so it starts nothing more. */
  check(): void {
    if (this.cleaning) throw new DemoError('interrupted.');
  }

  private async stopAll(): Promise<void> {
    this.sampler?.stop();
    const action = this.action;
    if (action && action.exitCode === null && action.signalCode === null) {
      // The action stops its deployment when it is cancelled; let it, before its endpoint goes.
      const exited = new Promise((resolve) => action.once('close', resolve));
      action.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, ACTION_STOP_WAIT_MS))]);
    }
    const started = (await readFile(this.startedFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const step = async (what: string, stop: () => Promise<unknown>) => {
      try {
        await stop();
      } catch (error) {
        say(`demo: stopping ${what} failed: ${(error as Error).message}`);
      }
    };
    if (this.emulator) {
      const runtime = this.emulator.runtime;
      await step(
        'the containers and the local AWS endpoint',
        () => this.emulator?.stop() ?? Promise.resolve(),
      );
      if (runtime) {
        const left = runtime.containerIds();
        say(
          left.length === 0
            ? `demo: removed the containers labelled ${RUN_LABEL}=${runtime.runId}`
            : `demo: could not remove containers ${left.join(' ')}; remove them with: docker rm -f ${left.join(' ')}`,
        );
      }
    }
    if (this.hook) {
      const hook = this.hook;
      await step('the hook endpoint', () => {
        const closed = new Promise((resolve) => hook.close(resolve));
        hook.closeAllConnections();
        return closed;
      });
    }
    await step('the npm mirror', () => this.mirror?.stop() ?? Promise.resolve());
    // The run directory holds the registry login the action wrote (its DOCKER_CONFIG).
    await step(this.runDir, () => rm(this.runDir, { recursive: true, force: true }));
    // The registry before the engine; whatever ran before the demo keeps running.
    const components = ['registry', 'dockerd'].filter((c) => started.includes(c));
    if (components.length > 0) {
      say(`demo: stopping what the demo started: ${components.join(', ')}`);
      await runStreamed('bash', [localDockerScript, 'down', ...components], { prefix: '  docker | ' });
    }
  }
}

// ------------------------------------------------------------------ stages

async function bringUpDocker(resources: Resources): Promise<LocalDocker> {
  const code = await runStreamed('bash', [localDockerScript, 'up'], {
    prefix: '  docker | ',
    env: { ...process.env, LOCAL_DOCKER_STARTED_FILE: resources.startedFile },
  });
  if (code !== 0) {
    throw new DemoError(
      'scripts/local-docker.sh up could not provide the Docker engine, registry and base image the demo ' +
        'needs; its reason is above. The demo builds an image and runs containers, so it needs Docker. On ' +
        'Debian or Ubuntu, run `npm run demo` as root: scripts/local-docker.sh installs docker.io and ' +
        'docker-registry and starts them on 127.0.0.1. Elsewhere, install Docker Engine ' +
        '(https://docs.docker.com/engine/install/), start it, and run `npm run demo` again.',
    );
  }
  const env = parseEnvLines((await capture('bash', [localDockerScript, 'env'])).stdout);
  const need = (key: string) => {
    const value = env[key];
    if (!value) throw new DemoError(`scripts/local-docker.sh env printed no ${key}.`);
    return value;
  };
  return {
    registryHost: need('REGISTRY_HOST'),
    registryUser: need('REGISTRY_USER'),
    registryPassword: (await readFile(need('REGISTRY_PASSWORD_FILE'), 'utf8')).trim(),
    baseImage: need('BASE_IMAGE'),
  };
}

async function ensureBuiltAction(): Promise<void> {
  if (existsSync(path.join(repoRoot, 'dist', 'index.js'))) {
    say('  dist/index.js is present (the committed build of the action)');
    return;
  }
  say('  dist/index.js is missing: building it with `npm run build`');
  const code = await runStreamed('npm', ['run', 'build'], { prefix: '  build | ' });
  if (code !== 0) throw new DemoError('`npm run build` failed (output above), so there is no action to run.');
}

/** The smoke test CodeDeploy calls at AfterAllowTestTraffic: the test listener must answer with the new version. */
async function startSmokeTestHook(
  testUrl: string,
): Promise<{ server: Server; url(version: Version): string }> {
  const server = createServer((req, res) => {
    const expected = /^\/smoke-test\/([\w.-]+)$/.exec(req.url ?? '')?.[1];
    req.resume();
    const answer = (status: number, text: string) => {
      say(`  hook | AfterAllowTestTraffic smoke test: ${text}`);
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${text}\n`);
    };
    if (req.method !== 'POST' || !expected) return answer(404, `unknown hook ${req.method} ${req.url}`);
    fetch(testUrl, { signal: AbortSignal.timeout(5_000) }).then(
      async (r) => {
        const body = (await r.text()).trim();
        if (r.status === 200 && body.endsWith(`version ${expected}`))
          answer(200, `the test listener answers "${body}": pass`);
        else
          answer(500, `the test listener answered HTTP ${r.status} "${body}", not version ${expected}: fail`);
      },
      (error: Error) => answer(500, `the test listener did not answer: ${error.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: (version) => `http://127.0.0.1:${port}/smoke-test/${version.name}` };
}

/** The example app's own deployment files, with the version in the environment and the hook a local URL. */
async function writeDeploymentFiles(
  runDir: string,
  hookUrl: (version: Version) => string,
): Promise<Record<Version['name'], { taskDefinition: string; appspec: string }>> {
  const taskDefinition = JSON.parse(
    await readFile(path.join(repoRoot, 'example-app', 'task-definition.json'), 'utf8'),
  ) as { containerDefinitions: { environment?: { name: string; value: string }[] }[] };
  const appspec = parseYaml(
    await readFile(path.join(repoRoot, 'example-app', 'appspec.yaml'), 'utf8'),
  ) as Record<string, unknown>;
  const files = {} as Record<Version['name'], { taskDefinition: string; appspec: string }>;
  for (const version of VERSIONS) {
    const td = structuredClone(taskDefinition);
    for (const c of td.containerDefinitions) {
      c.environment = [
        ...(c.environment ?? []).filter((e) => e.name !== 'APP_VERSION'),
        { name: 'APP_VERSION', value: version.name },
      ];
    }
    const tdFile = path.join(runDir, `task-definition-${version.name}.json`);
    await writeFile(tdFile, `${JSON.stringify(td, null, 2)}\n`);
    const specFile = path.join(runDir, `appspec-${version.name}.yaml`);
    await writeFile(
      specFile,
      '# example-app/appspec.yaml, with the AfterAllowTestTraffic hook a local URL standing in for the Lambda function.\n' +
        stringifyYaml({ ...appspec, Hooks: [{ AfterAllowTestTraffic: hookUrl(version) }] }),
    );
    files[version.name] = {
      taskDefinition: path.relative(repoRoot, tdFile),
      appspec: path.relative(repoRoot, specFile),
    };
  }
  return files;
}

/** Runs the built action as a workflow step runs it, its output streamed; resolves to its outputs. */
async function runAction(
  resources: Resources,
  version: Version,
  inputs: Record<string, string>,
  awsEnv: Record<string, string>,
  what: string,
): Promise<Record<string, string>> {
  const runnerTemp = path.join(resources.runDir, `runner-${version.name}`);
  await mkdir(runnerTemp, { recursive: true, mode: 0o700 });
  const files = {
    GITHUB_OUTPUT: path.join(runnerTemp, 'output'),
    GITHUB_STEP_SUMMARY: path.join(runnerTemp, 'summary.md'),
    GITHUB_STATE: path.join(runnerTemp, 'state'),
    GITHUB_ENV: path.join(runnerTemp, 'env'),
  };
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    // The engine the demo checked (a runner's docker is the default socket, or DOCKER_HOST).
    DOCKER_HOST: process.env.DOCKER_HOST,
    DOCKER_CONFIG: path.join(runnerTemp, 'docker-config'),
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: repoRoot,
    GITHUB_SHA: version.sha,
    GITHUB_REPOSITORY: 'octo/example-app',
    GITHUB_RUN_ID: '1',
    RUNNER_TEMP: runnerTemp,
    AWS_EC2_METADATA_DISABLED: 'true',
    // The SDK warns about Node 20 for its developers; the runner's node24 never prints it, and a
    // user rehearsing the demo on Node 20 has nothing to act on.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...files,
    ...awsEnv,
  };
  for (const [name, value] of Object.entries(inputs))
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;

  const prefix = `  action ${version.name} | `;
  const started = Date.now();
  let lastOutput = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - lastOutput < HEARTBEAT_MS) return;
    lastOutput = Date.now();
    say(
      `demo: still waiting for the action (${what}), ${Math.round((Date.now() - started) / 1000)} s so far`,
    );
  }, 1_000);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'index.js')], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    resources.action = child;
    const timeout = setTimeout(() => child.kill('SIGTERM'), ACTION_TIMEOUT_MS);
    const show = (line: string) => {
      lastOutput = Date.now();
      const shown = displayLine(line);
      if (shown !== undefined) say(`${prefix}${shown}`);
    };
    onLines(child.stdout, show);
    onLines(child.stderr, show);
    child.on('close', (c) => {
      clearTimeout(timeout);
      resolve(c);
    });
  });
  clearInterval(heartbeat);
  resources.action = undefined;
  const outputs = parseRunnerFile(await readFile(files.GITHUB_OUTPUT, 'utf8'));
  if (code !== 0) {
    throw new DemoError(
      `the action (${what}) failed with exit code ${code}; its errors are above` +
        (outputs['deployment-outcome'] ? ` (deployment-outcome: ${outputs['deployment-outcome']})` : '') +
        '.',
    );
  }
  return outputs;
}

// ------------------------------------------------------------------ watching production

/** What production answered to one burst of requests: version (or failure) → count. */
interface Sample {
  at: number;
  counts: Record<string, number>;
  total: number;
}

/** `v1 90% | v2 10%`, versions in order. */
function describeSample(sample: Sample): string {
  return Object.keys(sample.counts)
    .sort()
    .map((k) => `${k} ${Math.round((100 * (sample.counts[k] as number)) / sample.total)}%`)
    .join(' | ');
}

async function askOnce(url: string): Promise<string> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = await r.text();
    if (r.status !== 200) return `HTTP ${r.status}`;
    return /version (\S+)/.exec(body)?.[1] ?? 'unexpected answer';
  } catch {
    return 'no answer';
  }
}

/** Asks production a burst of requests every SAMPLE_EVERY_MS and shows how the answers split. */
class TrafficSampler {
  readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private lastShown = '';
  private lastShownAt = 0;

  constructor(private readonly url: string) {}

  start(): void {
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    const answers = await Promise.all(Array.from({ length: REQUESTS_PER_SAMPLE }, () => askOnce(this.url)));
    if (!this.running) return;
    const counts: Record<string, number> = {};
    for (const a of answers) counts[a] = (counts[a] ?? 0) + 1;
    const sample: Sample = { at: Date.now(), counts, total: answers.length };
    this.samples.push(sample);
    const text = describeSample(sample);
    if (text !== this.lastShown || sample.at - this.lastShownAt >= REPEAT_SAMPLE_MS) {
      say(`  prod: ${text}`);
      this.lastShown = text;
      this.lastShownAt = sample.at;
    }
    this.timer = setTimeout(() => void this.tick(), SAMPLE_EVERY_MS);
  }

  /** Resolves once a sample taken from now on answers `version` to every request. */
  async until(version: string, timeoutMs: number, what: string): Promise<void> {
    const since = Date.now();
    const deadline = since + timeoutMs;
    for (;;) {
      const last = this.samples.at(-1);
      if (last && last.at > since && last.counts[version] === last.total) return;
      if (Date.now() > deadline) {
        throw new DemoError(
          `${what}: production did not answer ${version} to every request within ${timeoutMs / 1000} s` +
            (last ? ` (last: ${describeSample(last)})` : '') +
            '.',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  }
}

// ------------------------------------------------------------------ the demo

function howDeployed(strategy: NativeStrategy | undefined): string {
  return strategy === undefined
    ? `blue/green through CodeDeploy (${DEPLOYMENT_CONFIG})`
    : `with an ECS-native ${NATIVE[strategy].strategy} deployment (ECS moves the listener rule's weights)`;
}

/** The service as the infra stack creates it once an image exists: CodeDeploy's, or an ECS-native one. */
function serviceSeed(taskDefinition: string, strategy: NativeStrategy | undefined): Seed {
  const service = {
    cluster: CLUSTER,
    serviceName: SERVICE,
    taskDefinition,
    desiredCount: 2,
    launchType: 'FARGATE' as const,
  };
  if (strategy !== undefined) {
    const configuration = NATIVE[strategy];
    say(
      `  as example-app/infra/ecs-native.yaml creates it: 2 tasks, ECS controller, ${JSON.stringify(configuration)},`,
    );
    say('  a production and a test listener rule forwarding to both target groups (blue 100, green 0)');
    return {
      services: [
        {
          ...service,
          deploymentController: 'ECS',
          deploymentConfiguration: configuration as DeploymentConfiguration,
          nativeLoadBalancer: { containerName: 'web', containerPort: 8080 },
        },
      ],
    };
  }
  say('  as the example-app/infra stack creates it once an image exists: 2 tasks, CODE_DEPLOY controller,');
  say(`  a CodeDeploy deployment group with ${DEPLOYMENT_CONFIG}`);
  return {
    services: [
      {
        ...service,
        deploymentController: 'CODE_DEPLOY',
        loadBalancers: [{ containerName: 'web', containerPort: 8080 }],
      },
    ],
    codedeploy: {
      applications: [`AppECS-${CLUSTER}-${SERVICE}`],
      deploymentGroups: [
        {
          application: `AppECS-${CLUSTER}-${SERVICE}`,
          name: `DgpECS-${CLUSTER}-${SERVICE}`,
          cluster: CLUSTER,
          service: SERVICE,
          deploymentConfigName: DEPLOYMENT_CONFIG,
          terminationWaitMinutes: 1,
          autoRollback: true,
        },
      ],
    },
  };
}

async function demo(once: boolean, resources: Resources, strategy?: NativeStrategy): Promise<void> {
  const steps = 6;
  stage(1, steps, 'Docker engine, registry and base image, on 127.0.0.1 (scripts/local-docker.sh up)');
  const docker = await bringUpDocker(resources);
  resources.check();

  stage(2, steps, 'npm mirror on 127.0.0.1, so the image build downloads nothing from elsewhere');
  const { fetched, present } = await fetchTarballs({
    lockFile: defaultLockFile,
    tarballDir: defaultTarballDir,
  });
  resources.mirror = await startNpmMirror({
    tarballDir: defaultTarballDir,
    onMiss: (miss) => say(`  npm mirror | not found: ${miss}`),
  });
  resources.check();
  say(`  ${fetched} tarballs fetched, ${present} already present; serving them at ${resources.mirror.url}`);
  await ensureBuiltAction();
  resources.check();

  stage(
    3,
    steps,
    `local AWS endpoint (ECR, ECS, CodeDeploy, STS, IAM) with tasks as containers, at ${SPEED}x speed`,
  );
  const credentials = { accessKeyId: 'AKIDDEMO', secretAccessKey: randomBytes(24).toString('base64url') };
  const runId = `demo-${randomBytes(4).toString('hex')}`;
  const emulator = await startEmulator({
    region: REGION,
    accountId: ACCOUNT_ID,
    speed: SPEED,
    credentials: [credentials],
    registry: { host: docker.registryHost, username: docker.registryUser, password: docker.registryPassword },
    seed: {
      repositories: [{ name: 'example-app', imageTagMutability: 'MUTABLE' }],
      clusters: [CLUSTER],
      iam: {
        roles: [
          // The role the workflow's credentials belong to (the endpoint's default caller).
          {
            name: 'deploy',
            policies: [
              { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
            ],
          },
          { name: 'example-app-execution-role', assumeRolePolicyDocument: ECS_TASKS_TRUST },
          { name: 'example-app-task-role', assumeRolePolicyDocument: ECS_TASKS_TRUST },
        ],
      },
    },
    runtime: {
      runId,
      loadBalancer: { cluster: CLUSTER, service: SERVICE },
      onEvent: (message) => say(`  runtime | ${message}`),
    },
  });
  resources.emulator = emulator;
  resources.check();
  const lb = emulator.runtime?.loadBalancer as { productionUrl: string; testUrl: string };
  say(`  endpoint ${emulator.url}; ECR repository example-app in the registry at ${docker.registryHost}`);
  say(`  load balancer: production listener ${lb.productionUrl}, test listener ${lb.testUrl}`);
  say(`  containers are labelled ${RUN_LABEL}=${runId}`);
  const hook = await startSmokeTestHook(lb.testUrl);
  resources.hook = hook.server;
  resources.check();
  const files = await writeDeploymentFiles(resources.runDir, hook.url);
  const awsEnv = {
    AWS_ENDPOINT_URL: emulator.url,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
  const build = {
    context: 'example-app',
    'ecr-repository': 'example-app',
    'build-args': `BASE_IMAGE=${docker.baseImage}\nNPM_CONFIG_REGISTRY=${resources.mirror.url}`,
    network: 'host',
    'poll-interval-seconds': '1',
  };
  const [v1, v2] = VERSIONS;

  stage(4, steps, 'v1: the action builds the example app, pushes it and registers its task definition');
  const registered = await runAction(
    resources,
    v1,
    { ...build, 'task-definition': files.v1.taskDefinition, cluster: CLUSTER, 'deploy-mode': 'none' },
    awsEnv,
    'v1 build, push and register',
  );
  const v1TaskDefinition = registered['task-definition-arn'] as string;
  resources.check();

  stage(5, steps, `v1: the ECS service ${CLUSTER}/${SERVICE} is created on ${v1TaskDefinition}`);
  emulator.seed(serviceSeed(v1TaskDefinition, strategy));
  const sampler = new TrafficSampler(lb.productionUrl);
  resources.sampler = sampler;
  sampler.start();
  await sampler.until(v1.name, LIVE_TIMEOUT_MS, 'v1');
  say(`demo: v1 is live at ${lb.productionUrl}`);

  stage(
    6,
    steps,
    `v2: the action builds it, runs its migrations (node migrate.js) as a one-off task, then deploys it ${howDeployed(strategy)}`,
  );
  const deployed = await runAction(
    resources,
    v2,
    {
      ...build,
      'task-definition': files.v2.taskDefinition,
      cluster: CLUSTER,
      service: SERVICE,
      ...(strategy === undefined
        ? { 'codedeploy-appspec': files.v2.appspec }
        : { 'deploy-mode': 'ecs-native' }),
      // The release command gates the deployment: exit 0 lets v2 go live, anything else stops
      // the run before traffic moves. The service has no network of its own to copy here.
      'run-task': 'before',
      'run-task-command': '["node", "migrate.js"]',
      'run-task-subnets': 'subnet-0de30001',
    },
    awsEnv,
    `v2 build, push and ${howDeployed(strategy)}`,
  );
  say(
    `demo: v2's migrations ran as one-off task ${deployed['task-arn']} (exit code ${deployed['task-exit-code']})`,
  );
  await sampler.until(v2.name, LIVE_TIMEOUT_MS, 'v2');
  const moving = sampler.samples.filter((s) => (s.counts[v1.name] ?? 0) > 0 && (s.counts[v2.name] ?? 0) > 0);
  say(
    `\ndemo: v2 is live at ${lb.productionUrl} (deployment ${deployed['codedeploy-deployment-id'] ?? deployed['service-deployment-arn']}, ` +
      `${deployed['deployment-outcome']}); ${moving.length} samples caught production answering both versions`,
  );
  if (once) return;
  sampler.stop();
  resources.serving = true;
  say(`demo: serving until Ctrl-C. Try: curl ${lb.productionUrl}   (test listener: ${lb.testUrl})`);
  // Ctrl-C ends the demo from here (main's signal handler).
  await new Promise<never>(() => undefined);
}

async function main(argv: string[]): Promise<number> {
  let once: boolean;
  let strategy: NativeStrategy | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { once: { type: 'boolean' }, help: { type: 'boolean' }, strategy: { type: 'string' } },
    });
    if (values.help) {
      say(USAGE);
      return 0;
    }
    once = values.once === true;
    if (values.strategy !== undefined && !(values.strategy in NATIVE)) {
      throw new Error(`--strategy "${values.strategy}" is not one of ${Object.keys(NATIVE).join(', ')}.`);
    }
    strategy = values.strategy as NativeStrategy | undefined;
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const runDir = path.join(repoRoot, '.tmp', 'demo', `run-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await mkdir(runDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    console.error(
      `demo: cannot create ${runDir}: ${(error as Error).message}. Fix: run it as the owner of the checkout.`,
    );
    return 1;
  }
  const resources = new Resources(runDir);
  const interrupted = new Promise<number>((resolve) => {
    let stopping = false;
    // Kept for later signals too: the tsx wrapper passes on the Ctrl-C its process group also
    // delivered, and a second signal must not kill the demo half-way through its cleanup.
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      say(`\ndemo: ${signal}: stopping everything the demo started`);
      resolve(resources.serving ? 0 : 130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  const started = Date.now();
  let code: number;
  try {
    code = await Promise.race([demo(once, resources, strategy).then(() => 0), interrupted]);
  } catch (error) {
    console.error(
      `\ndemo: ${error instanceof DemoError ? error.message : ((error as Error).stack ?? String(error))}`,
    );
    code = 1;
  }
  await resources.cleanup();
  if (code === 0) say(`demo: done in ${Math.round((Date.now() - started) / 1000)} s`);
  return code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
