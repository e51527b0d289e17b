import { beforeEach, describe, expect, it } from '@jest/globals';
import { DescribeImagesCommand, ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { Config } from '../../src/config.js';
import type { Docker, DockerResult } from '../../src/docker.js';
import { loginToRegistry, registryHost } from '../../src/ecr.js';
import { UserError } from '../../src/errors.js';
import {
  buildAndPushImage,
  buildxArgs,
  digestFromPushOutput,
  legacyBuildArgs,
  type BuildOptions,
} from '../../src/image.js';
import { MemoryLog } from '../../src/log.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

class RecordingDocker implements Docker {
  readonly calls: { args: string[]; input?: string }[] = [];
  constructor(private readonly answer: (args: string[]) => Partial<DockerResult> = () => ({})) {}
  async run(args: string[], opts: { input?: string } = {}): Promise<DockerResult> {
    this.calls.push({ args, input: opts.input });
    return { exitCode: 0, stdout: '', stderr: '', ...this.answer(args) };
  }
}

const options = (o: Partial<BuildOptions> = {}): BuildOptions => ({
  spec: { context: '/ws', buildArgs: [], repository: 'app' },
  repositoryUri: '1.dkr.ecr.us-east-1.amazonaws.com/app',
  tags: ['abc'],
  platforms: [],
  cacheFrom: [],
  cacheTo: [],
  provenance: false,
  push: true,
  ...o,
});

describe('docker argument lists', () => {
  it.each([
    [
      'minimal',
      options(),
      [
        'buildx',
        'build',
        '--provenance=false',
        '--tag',
        '1.dkr.ecr.us-east-1.amazonaws.com/app:abc',
        '--metadata-file',
        '/t/m.json',
        '--push',
        '/ws',
      ],
    ],
    [
      'everything',
      options({
        spec: {
          context: '/ws/app',
          file: '/ws/app/Dockerfile.prod',
          target: 'prod',
          buildArgs: ['A=1', 'B=x y'],
          repository: 'app',
        },
        tags: ['abc', 'latest'],
        platforms: ['linux/amd64', 'linux/arm64'],
        cacheFrom: ['type=gha'],
        cacheTo: ['type=gha,mode=max'],
        network: 'host',
        provenance: true,
        push: false,
      }),
      [
        'buildx',
        'build',
        '--file',
        '/ws/app/Dockerfile.prod',
        '--target',
        'prod',
        '--build-arg',
        'A=1',
        '--build-arg',
        'B=x y',
        '--platform',
        'linux/amd64,linux/arm64',
        '--cache-from',
        'type=gha',
        '--cache-to',
        'type=gha,mode=max',
        '--network',
        'host',
        '--provenance=true',
        '--tag',
        '1.dkr.ecr.us-east-1.amazonaws.com/app:abc',
        '--tag',
        '1.dkr.ecr.us-east-1.amazonaws.com/app:latest',
        '--metadata-file',
        '/t/m.json',
        '--load',
        '/ws/app',
      ],
    ],
  ])('buildx: %s', (_name, o, expected) => {
    expect(buildxArgs(o, '/t/m.json')).toEqual(expected);
  });

  it.each([
    ['minimal', options(), ['build', '--tag', '1.dkr.ecr.us-east-1.amazonaws.com/app:abc', '/ws']],
    [
      'with options',
      options({
        spec: { context: '/ws', file: '/ws/Dockerfile', target: 't', buildArgs: ['A=1'], repository: 'app' },
        platforms: ['linux/amd64'],
        cacheFrom: ['type=registry,ref=x/app:cache'],
        network: 'host',
        tags: ['abc', 'v1'],
      }),
      [
        'build',
        '--file',
        '/ws/Dockerfile',
        '--target',
        't',
        '--build-arg',
        'A=1',
        '--platform',
        'linux/amd64',
        '--cache-from',
        'x/app:cache',
        '--network',
        'host',
        '--tag',
        '1.dkr.ecr.us-east-1.amazonaws.com/app:abc',
        '--tag',
        '1.dkr.ecr.us-east-1.amazonaws.com/app:v1',
        '/ws',
      ],
    ],
  ])('legacy: %s', (_name, o, expected) => {
    expect(legacyBuildArgs(o)).toEqual(expected);
  });

  it('reads the digest docker push prints', () => {
    expect(digestFromPushOutput(`abc: digest: ${DIGEST} size: 1573\n`)).toBe(DIGEST);
    expect(digestFromPushOutput('no digest here')).toBeUndefined();
  });
});

const ecr = mockClient(ECRClient);
beforeEach(() => {
  ecr.reset();
});

describe('loginToRegistry', () => {
  it('masks the password and passes it on stdin only', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:s3cret-pass').toString('base64'),
          proxyEndpoint: 'https://1.dkr.ecr.us-east-1.amazonaws.com',
          expiresAt: new Date(),
        },
      ],
    });
    const docker = new RecordingDocker();
    const log = new MemoryLog();
    const login = await loginToRegistry(new ECRClient({ region: 'us-east-1' }), docker, log);
    expect(login).toEqual({ registry: '1.dkr.ecr.us-east-1.amazonaws.com', username: 'AWS' });
    expect(docker.calls).toEqual([
      {
        args: ['login', '--username', 'AWS', '--password-stdin', '1.dkr.ecr.us-east-1.amazonaws.com'],
        input: 's3cret-pass',
      },
    ]);
    expect(log.secrets).toContain('s3cret-pass');
    expect(log.text()).not.toContain('s3cret-pass');
  });

  it('fails clearly when docker login fails', async () => {
    ecr.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: Buffer.from('AWS:p').toString('base64'),
          proxyEndpoint: 'http://127.0.0.1:5000',
        },
      ],
    });
    const docker = new RecordingDocker(() => ({
      exitCode: 1,
      stderr: 'Cannot connect to the Docker daemon',
    }));
    await expect(
      loginToRegistry(new ECRClient({ region: 'us-east-1' }), docker, new MemoryLog()),
    ).rejects.toThrow(/docker login to 127.0.0.1:5000 failed: Cannot connect to the Docker daemon/);
  });

  it.each([
    ['https://1.dkr.ecr.us-east-1.amazonaws.com', '1.dkr.ecr.us-east-1.amazonaws.com'],
    ['http://127.0.0.1:5000/', '127.0.0.1:5000'],
  ])('registry host of %s', (endpoint, host) => {
    expect(registryHost(endpoint)).toBe(host);
  });
});

describe('buildAndPushImage', () => {
  const build: Config['build'] = {
    platforms: [],
    cacheFrom: [],
    cacheTo: [],
    provenance: false,
    push: true,
    tags: [],
    shaTag: 'full',
  };
  const spec = { context: '/ws', buildArgs: [], repository: 'app' };
  const repo = { name: 'app', uri: '127.0.0.1:5000/app', immutable: false };
  const ctx = (docker: Docker, buildx = false) => ({
    ecr: new ECRClient({ region: 'us-east-1' }),
    docker,
    log: new MemoryLog(),
    buildx,
    tempDir: '/t',
    readFile: async () => JSON.stringify({ 'containerimage.digest': DIGEST }),
  });

  it('builds, pushes every tag and reads the digest (classic builder)', async () => {
    const docker = new RecordingDocker((args) =>
      args[0] === 'push' ? { stdout: `x: digest: ${DIGEST} size: 1` } : {},
    );
    const built = await buildAndPushImage(ctx(docker), spec, repo, ['abc', 'latest'], build);
    expect(built).toEqual({
      repositoryUri: repo.uri,
      imageUri: '127.0.0.1:5000/app:abc',
      digest: DIGEST,
      tags: ['abc', 'latest'],
      reused: false,
    });
    expect(docker.calls.map((c) => c.args[0] + ' ' + c.args.at(-1))).toEqual([
      'build /ws',
      'push 127.0.0.1:5000/app:abc',
      'push 127.0.0.1:5000/app:latest',
    ]);
  });

  it('builds and pushes in one buildx command and reads its metadata file', async () => {
    const docker = new RecordingDocker();
    const built = await buildAndPushImage(ctx(docker, true), spec, repo, ['abc'], build);
    expect(built.digest).toBe(DIGEST);
    expect(docker.calls).toHaveLength(1);
    expect(docker.calls[0]?.args).toContain('--push');
  });

  it('reports a failed build with its output', async () => {
    const docker = new RecordingDocker(() => ({
      exitCode: 1,
      stderr: 'Step 3/7 : RUN npm ci\nnpm ERR! missing lock file',
    }));
    await expect(buildAndPushImage(ctx(docker), spec, repo, ['abc'], build)).rejects.toThrow(
      /docker build failed:[\s\S]*missing lock file/,
    );
  });

  it('refuses several platforms without buildx', async () => {
    const err = await buildAndPushImage(ctx(new RecordingDocker()), spec, repo, ['abc'], {
      ...build,
      platforms: ['linux/amd64', 'linux/arm64'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).problems[0]?.where).toBe('platforms');
  });

  it('reuses the image of an immutable repository that already holds the commit tag', async () => {
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'app', imageIds: [{ imageTag: 'abc' }] })
      .resolves({ imageDetails: [{ imageDigest: DIGEST, imageTags: ['abc'] }] });
    const docker = new RecordingDocker();
    const c = ctx(docker);
    const built = await buildAndPushImage(c, spec, { ...repo, immutable: true }, ['abc'], build);
    expect(built).toMatchObject({ reused: true, digest: DIGEST, imageUri: '127.0.0.1:5000/app:abc' });
    expect(docker.calls).toEqual([]);
    expect(c.log.text()).toMatch(/already exists in the immutable repository/);
  });

  it('stops before building when an extra tag is taken in an immutable repository', async () => {
    const notFound = Object.assign(new Error('not found'), { name: 'ImageNotFoundException' });
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'app', imageIds: [{ imageTag: 'abc' }] })
      .rejects(notFound);
    ecr
      .on(DescribeImagesCommand, { repositoryName: 'app', imageIds: [{ imageTag: 'latest' }] })
      .resolves({ imageDetails: [{ imageDigest: DIGEST }] });
    const docker = new RecordingDocker();
    const err = await buildAndPushImage(
      ctx(docker),
      spec,
      { ...repo, immutable: true },
      ['abc', 'latest'],
      build,
    ).catch((e: unknown) => e);
    expect((err as UserError).problems[0]).toMatchObject({ where: 'tags' });
    expect((err as UserError).message).toMatch(/"latest" already exists in the immutable repository app/);
    expect(docker.calls).toEqual([]);
  });
});
