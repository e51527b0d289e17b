/**
 * Runs the emulator as a process: `npm run emulator -- --port 4566 --seed world.yaml --speed 60`.
 * Secrets come from the environment or files, never from the command line.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { startEmulator, type EmulatorOptions, type Seed } from './index.js';

const USAGE = `Usage: npm run emulator -- [options]

  --port N                      port on 127.0.0.1 (default 4566; 0 picks a free one)
  --seed FILE                   JSON or YAML world to start with (see emulator/README.md)
  --speed X                     emulated time runs X times faster than real time (default 1)
  --region NAME                 default us-east-1
  --account ID                  12 digits, default 000000000000
  --access-key ID               access key clients sign with (or EMULATOR_ACCESS_KEY_ID)
  --secret-key-file FILE        its secret key (or EMULATOR_SECRET_ACCESS_KEY); default key pair test/test
  --registry-host HOST:PORT     the registry ECR fronts (or EMULATOR_REGISTRY_HOST), on 127.0.0.1
  --registry-user NAME          (or EMULATOR_REGISTRY_USER)
  --registry-password-file FILE (or EMULATOR_REGISTRY_PASSWORD)
  --help`;

class UsageError extends Error {}

function readSecret(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new UsageError(`${what}: cannot read ${file}: ${(e as Error).message}`);
  }
}

function number(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new UsageError(`${flag} needs a non-negative number, got '${value}'`);
  return n;
}

function optionsFromArgs(argv: string[], env: NodeJS.ProcessEnv): EmulatorOptions & { port: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      seed: { type: 'string' },
      speed: { type: 'string' },
      region: { type: 'string' },
      account: { type: 'string' },
      'access-key': { type: 'string' },
      'secret-key-file': { type: 'string' },
      'registry-host': { type: 'string' },
      'registry-user': { type: 'string' },
      'registry-password-file': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');

  const accessKeyId = values['access-key'] ?? env.EMULATOR_ACCESS_KEY_ID;
  const secretAccessKey = values['secret-key-file']
    ? readSecret(values['secret-key-file'], '--secret-key-file')
    : env.EMULATOR_SECRET_ACCESS_KEY;
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new UsageError(
      'give both the access key (--access-key or EMULATOR_ACCESS_KEY_ID) and its secret (--secret-key-file or EMULATOR_SECRET_ACCESS_KEY), or neither for test/test',
    );
  }

  const registryHost = values['registry-host'] ?? env.EMULATOR_REGISTRY_HOST;
  const registryPassword = values['registry-password-file']
    ? readSecret(values['registry-password-file'], '--registry-password-file')
    : env.EMULATOR_REGISTRY_PASSWORD;
  if (registryHost && registryPassword === undefined) {
    throw new UsageError(
      'the registry needs a password: EMULATOR_REGISTRY_PASSWORD or --registry-password-file',
    );
  }

  let seed: Seed | undefined;
  if (values.seed) {
    let text: string;
    try {
      text = readFileSync(values.seed, 'utf8');
    } catch (e) {
      throw new UsageError(`--seed: cannot read ${values.seed}: ${(e as Error).message}`);
    }
    const parsed: unknown = parseYaml(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new UsageError(
        `--seed ${values.seed}: expected a mapping with repositories, clusters, taskDefinitions, services, codedeploy`,
      );
    }
    seed = parsed as Seed;
  }

  return {
    port: number(values.port, '--port', 4566),
    speed: number(values.speed, '--speed', 1),
    region: values.region,
    accountId: values.account,
    credentials:
      accessKeyId !== undefined && secretAccessKey !== undefined
        ? [{ accessKeyId, secretAccessKey }]
        : undefined,
    registry: registryHost
      ? {
          host: registryHost,
          username: values['registry-user'] ?? env.EMULATOR_REGISTRY_USER ?? 'AWS',
          password: registryPassword as string,
        }
      : undefined,
    seed,
  };
}

async function main(): Promise<void> {
  let options: ReturnType<typeof optionsFromArgs>;
  try {
    options = optionsFromArgs(process.argv.slice(2), process.env);
  } catch (e) {
    const usage =
      e instanceof UsageError || String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (!usage) throw e;
    const message = (e as Error).message;
    if (message) console.error(`emulator: ${message}`);
    console.error(USAGE);
    process.exitCode = message ? 2 : 0;
    return;
  }
  const emulator = await startEmulator(options);
  const credentials = options.credentials?.[0];
  console.log(
    `ECR, ECS and CodeDeploy emulator listening on ${emulator.url} (speed ${emulator.clock.speed}x)`,
  );
  console.log('Use it with:');
  console.log(`  export AWS_ENDPOINT_URL=${emulator.url}`);
  console.log(`  export AWS_ACCESS_KEY_ID=${credentials?.accessKeyId ?? 'test'}`);
  // A secret given through the environment or a file is not printed back.
  console.log(`  export AWS_SECRET_ACCESS_KEY=${credentials ? '<the secret you configured>' : 'test'}`);
  console.log(`  export AWS_REGION=${options.region ?? 'us-east-1'}`);
  if (options.registry) console.log(`ECR fronts the registry at ${options.registry.host}`);

  const shutdown = (signal: string) => {
    console.log(`emulator: ${signal}, stopping`);
    emulator.stop().then(
      () => {
        process.exitCode = 0;
      },
      (e: unknown) => {
        console.error(`emulator: stopping failed: ${String(e)}`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(`emulator: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
