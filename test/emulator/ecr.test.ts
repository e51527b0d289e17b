import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import {
  BatchDeleteImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  GetAuthorizationTokenCommand,
  ImageNotFoundException,
  InvalidParameterException,
  ListTagsForResourceCommand,
  PutImageTagMutabilityCommand,
  RepositoryAlreadyExistsException,
  RepositoryNotFoundException,
  TagResourceCommand,
  type ECRClient,
} from '@aws-sdk/client-ecr';
import { startEmulator, type Emulator, type RegistryConfig } from '../../emulator/index.js';
import { clients } from './clients.js';

/** The registry to test against, from EMULATOR_TEST_REGISTRY_HOST / _USER / _PASSWORD (or _PASSWORD_FILE). */
async function testRegistry(): Promise<RegistryConfig | string> {
  const host = process.env.EMULATOR_TEST_REGISTRY_HOST;
  if (!host) return 'EMULATOR_TEST_REGISTRY_HOST is not set';
  const username = process.env.EMULATOR_TEST_REGISTRY_USER ?? '';
  const passwordFile = process.env.EMULATOR_TEST_REGISTRY_PASSWORD_FILE;
  const password = passwordFile
    ? readFileSync(passwordFile, 'utf8').trim()
    : (process.env.EMULATOR_TEST_REGISTRY_PASSWORD ?? '');
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  const status = await fetch(`http://${host}/v2/`, { headers: { Authorization: auth } }).then(
    (r) => r.status,
    (e: unknown) => String(e),
  );
  return status === 200
    ? { host, username, password }
    : `registry ${host} answered ${status} to GET /v2/ with the given credentials`;
}

const registry = await testRegistry();
if (typeof registry === 'string') {
  console.warn(`SKIPPED: the ECR tests backed by a real registry did not run (${registry}).`);
}
const withRegistry = typeof registry === 'string' ? describe.skip : describe;

let emulator: Emulator | undefined;

describe('ECR without a registry', () => {
  let ecr: ECRClient;
  beforeAll(async () => {
    emulator = await startEmulator({
      manualClock: true,
      seed: { repositories: [{ name: 'seeded', imageTagMutability: 'IMMUTABLE' }] },
    });
    ecr = clients(emulator).ecr;
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it('GetAuthorizationToken answers in AWS form, valid 12 hours', async () => {
    const out = await ecr.send(new GetAuthorizationTokenCommand({}));
    const [data] = out.authorizationData ?? [];
    expect(Buffer.from(data?.authorizationToken ?? '', 'base64').toString()).toMatch(/^AWS:[0-9a-f]{64}$/);
    expect(data?.proxyEndpoint).toBe('https://000000000000.dkr.ecr.us-east-1.amazonaws.com');
    expect(data?.expiresAt?.getTime()).toBe((emulator as Emulator).clock.now() + 12 * 3600_000);
  });

  it('creates repositories with the defaults and errors of ECR', async () => {
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'team/app' }));
    expect(created.repository).toMatchObject({
      repositoryArn: 'arn:aws:ecr:us-east-1:000000000000:repository/team/app',
      registryId: '000000000000',
      repositoryName: 'team/app',
      repositoryUri: '000000000000.dkr.ecr.us-east-1.amazonaws.com/team/app',
      imageTagMutability: 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    });
    const again = await ecr
      .send(new CreateRepositoryCommand({ repositoryName: 'team/app' }))
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RepositoryAlreadyExistsException);
    expect((again as Error).message).toBe(
      "The repository with name 'team/app' already exists in the registry with id '000000000000'",
    );
    const bad = await ecr
      .send(new CreateRepositoryCommand({ repositoryName: 'Team/App' }))
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidParameterException);
  });

  it('describes repositories, and a missing one with RepositoryNotFoundException', async () => {
    const all = await ecr.send(new DescribeRepositoriesCommand({}));
    expect(all.repositories?.map((r) => [r.repositoryName, r.imageTagMutability])).toEqual([
      ['seeded', 'IMMUTABLE'],
      ['team/app', 'MUTABLE'],
    ]);
    const missing = await ecr
      .send(new DescribeRepositoriesCommand({ repositoryNames: ['nope'] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RepositoryNotFoundException);
    expect((missing as Error).message).toBe(
      "The repository with name 'nope' does not exist in the registry with id '000000000000'",
    );
  });

  it('has no images without a registry behind it', async () => {
    expect((await ecr.send(new DescribeImagesCommand({ repositoryName: 'seeded' }))).imageDetails).toEqual(
      [],
    );
    const byTag = await ecr
      .send(new DescribeImagesCommand({ repositoryName: 'seeded', imageIds: [{ imageTag: 'v1' }] }))
      .catch((e: unknown) => e);
    expect(byTag).toBeInstanceOf(ImageNotFoundException);
    expect((byTag as Error).message).toBe(
      "The image with imageId {imageDigest:'null', imageTag:'v1'} does not exist within the repository with name 'seeded' in the registry with id '000000000000'",
    );
    const deleted = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'seeded', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(deleted).toMatchObject({
      imageIds: [],
      failures: [
        {
          imageId: { imageTag: 'v1' },
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found',
        },
      ],
    });
  });

  it('changes tag mutability and tags', async () => {
    const out = await ecr.send(
      new PutImageTagMutabilityCommand({ repositoryName: 'team/app', imageTagMutability: 'IMMUTABLE' }),
    );
    expect(out.imageTagMutability).toBe('IMMUTABLE');
    const resourceArn = 'arn:aws:ecr:us-east-1:000000000000:repository/team/app';
    await ecr.send(new TagResourceCommand({ resourceArn, tags: [{ Key: 'pr', Value: '7' }] }));
    expect((await ecr.send(new ListTagsForResourceCommand({ resourceArn }))).tags).toEqual([
      { Key: 'pr', Value: '7' },
    ]);
  });
});

interface Pushed {
  digest: string;
  size: number;
}

/** Pushes a tiny image straight through the registry HTTP API (no Docker needed). */
async function push(config: RegistryConfig, repository: string, tags: string[]): Promise<Pushed> {
  const auth = {
    Authorization: `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`,
  };
  const base = `http://${config.host}`;
  const blob = async (content: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const start = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers: auth });
    const location = new URL(start.headers.get('location') as string, base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/octet-stream' },
      body: new Uint8Array(content),
    });
    if (put.status !== 201) throw new Error(`blob upload answered ${put.status}`);
    return { digest, size: content.length };
  };
  const layer = await blob(randomBytes(512));
  const config_ = await blob(
    Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
    ),
  );
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', ...config_ },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...layer }],
  });
  for (const tag of tags) {
    const res = await fetch(`${base}/v2/${repository}/manifests/${tag}`, {
      method: 'PUT',
      headers: { ...auth, 'Content-Type': 'application/vnd.docker.distribution.manifest.v2+json' },
      body: manifest,
    });
    if (res.status !== 201) throw new Error(`manifest upload answered ${res.status}`);
  }
  return {
    digest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
    size: layer.size + config_.size,
  };
}

withRegistry('ECR backed by a real registry', () => {
  const config = registry as RegistryConfig;
  const repository = `emulator-test/${randomBytes(4).toString('hex')}`;
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
  });

  it('logs in to the registry and names repositories after it', async () => {
    emulator = await startEmulator({ manualClock: true, registry: config });
    const { ecr } = clients(emulator);
    const [data] = (await ecr.send(new GetAuthorizationTokenCommand({}))).authorizationData ?? [];
    expect(Buffer.from(data?.authorizationToken ?? '', 'base64').toString()).toBe(
      `${config.username}:${config.password}`,
    );
    expect(data?.proxyEndpoint).toBe(`http://${config.host}`);
    const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    expect(created.repository?.repositoryUri).toBe(`${config.host}/${repository}`);
  });

  it('describes and deletes the images the registry holds', async () => {
    emulator = await startEmulator({
      manualClock: true,
      registry: config,
      seed: { repositories: [{ name: repository }] },
    });
    const { ecr } = clients(emulator);
    const first = await push(config, repository, ['v1']);
    const second = await push(config, repository, ['v2', 'latest']);

    const all = await ecr.send(new DescribeImagesCommand({ repositoryName: repository }));
    const byDigest = new Map(all.imageDetails?.map((d) => [d.imageDigest, d]));
    expect(byDigest.get(first.digest)).toMatchObject({
      registryId: '000000000000',
      repositoryName: repository,
      imageTags: ['v1'],
      imageSizeInBytes: first.size,
      imagePushedAt: new Date(emulator.clock.now()),
      imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      artifactMediaType: 'application/vnd.docker.container.image.v1+json',
    });
    expect(byDigest.get(second.digest)?.imageTags).toEqual(['latest', 'v2']);

    const one = await ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: 'v2' }] }),
    );
    expect(one.imageDetails?.map((d) => d.imageDigest)).toEqual([second.digest]);
    const missing = await ecr
      .send(new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: 'nope' }] }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ImageNotFoundException);

    const deleted = await ecr.send(
      new BatchDeleteImageCommand({
        repositoryName: repository,
        imageIds: [{ imageTag: 'v1' }, { imageTag: 'nope' }],
      }),
    );
    expect(deleted.imageIds).toEqual([{ imageDigest: first.digest, imageTag: 'v1' }]);
    expect(deleted.failures).toEqual([
      {
        imageId: { imageTag: 'nope' },
        failureCode: 'ImageNotFound',
        failureReason: 'Requested image not found',
      },
    ]);
    await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [{ imageDigest: second.digest }] }),
    );
    expect((await ecr.send(new DescribeImagesCommand({ repositoryName: repository }))).imageDetails).toEqual(
      [],
    );
  });
});
