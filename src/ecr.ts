/**
 * ECR: registry login and the repository the image goes to. The password from
 * GetAuthorizationToken is masked and handed to `docker login` on stdin, never on argv.
 */
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  type ECRClient,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { type Docker, tail } from './docker.js';
import { UserError } from './errors.js';
import type { Log } from './log.js';

export interface RegistryLogin {
  /** host[:port] as docker knows it, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com */
  registry: string;
  username: string;
}

export function registryHost(proxyEndpoint: string): string {
  return proxyEndpoint.replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
}

export async function loginToRegistry(ecr: ECRClient, docker: Docker, log: Log): Promise<RegistryLogin> {
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData?.[0];
  if (!data?.authorizationToken || !data.proxyEndpoint) {
    throw new Error('ECR GetAuthorizationToken returned no authorization data.');
  }
  const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  const username = decoded.slice(0, sep);
  const password = decoded.slice(sep + 1);
  log.secret(password);
  log.secret(data.authorizationToken);
  const registry = registryHost(data.proxyEndpoint);
  const result = await docker.run(['login', '--username', username, '--password-stdin', registry], {
    input: password,
    silent: true,
  });
  if (result.exitCode !== 0) {
    throw new UserError({
      where: 'ECR login',
      what: `docker login to ${registry} failed: ${tail(result.stderr || result.stdout, 5)}`,
      fix: 'Check that Docker is running on the runner and that the registry is reachable.',
    });
  }
  log.info(
    `Logged in to ${registry} as ${username} (token valid until ${data.expiresAt?.toISOString() ?? '?'}).`,
  );
  return { registry, username };
}

export interface Repository {
  name: string;
  uri: string;
  immutable: boolean;
}

/** Finds the repository; creates it only when allowed. Reading it is not a change. */
export async function findRepository(ecr: ECRClient, name: string): Promise<Repository | undefined> {
  try {
    const out = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [name] }));
    const repo = out.repositories?.[0];
    if (!repo?.repositoryUri) return undefined;
    return {
      name,
      uri: repo.repositoryUri,
      immutable: repo.imageTagMutability?.startsWith('IMMUTABLE') ?? false,
    };
  } catch (e) {
    if ((e as Error).name === 'RepositoryNotFoundException') return undefined;
    throw e;
  }
}

export function missingRepository(name: string, region: string): UserError {
  return new UserError({
    where: 'ecr-repository',
    what: `The ECR repository "${name}" does not exist in ${region}.`,
    fix: `Create it (aws ecr create-repository --repository-name ${name} --region ${region}), check aws-region, or set create-repository: true.`,
  });
}

export async function createRepository(ecr: ECRClient, name: string, log: Log): Promise<Repository> {
  const out = await ecr.send(
    new CreateRepositoryCommand({
      repositoryName: name,
      imageScanningConfiguration: { scanOnPush: true },
    }),
  );
  const uri = out.repository?.repositoryUri;
  if (!uri) throw new Error(`ECR CreateRepository for ${name} returned no repository URI.`);
  log.notice(`Created ECR repository ${name} (scan on push).`);
  return { name, uri, immutable: out.repository?.imageTagMutability?.startsWith('IMMUTABLE') ?? false };
}

/** The image with that tag, or undefined. */
export async function findImage(
  ecr: ECRClient,
  repository: string,
  tag: string,
): Promise<ImageDetail | undefined> {
  try {
    const out = await ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
    );
    return out.imageDetails?.[0];
  } catch (e) {
    if ((e as Error).name === 'ImageNotFoundException') return undefined;
    throw e;
  }
}
