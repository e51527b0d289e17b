/**
 * Image: docker build and push. The argument lists are produced by pure functions (tested
 * case by case); `buildAndPushImage` runs them through the Docker parameter.
 */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { type Docker, tail } from './docker.js';
import { findImage, type Repository } from './ecr.js';
import { UserError } from './errors.js';
import type { Log } from './log.js';
import type { BuildSpec, Config } from './config.js';

/** The build inputs shared by every image (platforms, cache, network, provenance, push), for one image. */
export interface BuildOptions extends Omit<Config['build'], 'tags' | 'shaTag'> {
  spec: BuildSpec;
  repositoryUri: string;
  tags: string[];
}

export interface BuiltImage {
  repositoryUri: string;
  /** repository:tag, the form the task definition gets. */
  imageUri: string;
  /** sha256:… of the pushed manifest; undefined when not pushed. */
  digest?: string;
  tags: string[];
  reused: boolean;
}

/** `docker buildx build … --push`: one command builds, tags and pushes every tag. */
export function buildxArgs(o: BuildOptions, metadataFile: string): string[] {
  const args = ['buildx', 'build'];
  if (o.spec.file) args.push('--file', o.spec.file);
  if (o.spec.target) args.push('--target', o.spec.target);
  for (const a of o.spec.buildArgs) args.push('--build-arg', a);
  if (o.platforms.length > 0) args.push('--platform', o.platforms.join(','));
  for (const c of o.cacheFrom) args.push('--cache-from', c);
  for (const c of o.cacheTo) args.push('--cache-to', c);
  if (o.network) args.push('--network', o.network);
  args.push(`--provenance=${o.provenance}`);
  for (const t of o.tags) args.push('--tag', `${o.repositoryUri}:${t}`);
  args.push('--metadata-file', metadataFile);
  args.push(o.push ? '--push' : '--load');
  args.push(o.spec.context);
  return args;
}

/** The classic builder: `docker build`, then one `docker push` per tag. */
export function legacyBuildArgs(o: BuildOptions): string[] {
  const args = ['build'];
  if (o.spec.file) args.push('--file', o.spec.file);
  if (o.spec.target) args.push('--target', o.spec.target);
  for (const a of o.spec.buildArgs) args.push('--build-arg', a);
  if (o.platforms.length === 1) args.push('--platform', o.platforms[0] as string);
  for (const c of o.cacheFrom) args.push('--cache-from', c.replace(/^type=registry,ref=/, ''));
  if (o.network) args.push('--network', o.network);
  for (const t of o.tags) args.push('--tag', `${o.repositoryUri}:${t}`);
  args.push(o.spec.context);
  return args;
}

/** `<tag>: digest: sha256:… size: N` is the line docker push ends with. */
export function digestFromPushOutput(output: string): string | undefined {
  return /digest: (sha256:[a-f0-9]{64})/.exec(output)?.[1];
}

export async function hasBuildx(docker: Docker): Promise<boolean> {
  const r = await docker.run(['buildx', 'version'], { silent: true });
  return r.exitCode === 0;
}

/**
 * What needs buildx, refused before the login and before any repository is created: a refusal
 * halfway through the images would leave a new, empty repository behind.
 */
export function checkBuildxNeeds(build: Config['build'], buildx: boolean): void {
  if (buildx || build.platforms.length <= 1) return;
  throw new UserError({
    where: 'platforms',
    what: `Building for several platforms (${build.platforms.join(', ')}) needs docker buildx, and it is not installed.`,
    fix: 'Add docker/setup-buildx-action before this step, or build for one platform.',
  });
}

export interface ImageContext {
  ecr: ECRClient;
  docker: Docker;
  log: Log;
  buildx: boolean;
  tempDir: string;
  readFile(path: string): Promise<string>;
}

/**
 * Builds and pushes one container's image. In an IMMUTABLE repository a tag cannot move:
 * when the commit's tag already exists (a re-run of the same commit) that image is reused
 * rather than rebuilt, and when only an extra tag exists the run stops before building,
 * since the new image would have another digest.
 */
export async function buildAndPushImage(
  ctx: ImageContext,
  spec: BuildSpec,
  repo: Repository,
  tags: string[],
  build: Config['build'],
): Promise<BuiltImage> {
  const [primary] = tags;
  if (primary === undefined) throw new Error('buildAndPushImage needs at least one tag.');
  if (repo.immutable) {
    const existing = await findImage(ctx.ecr, repo.name, primary);
    if (existing?.imageDigest) {
      ctx.log.notice(
        `${repo.uri}:${primary} already exists in the immutable repository (digest ${existing.imageDigest}): this commit was built before, so that image is reused and nothing is rebuilt or pushed.`,
      );
      return {
        repositoryUri: repo.uri,
        imageUri: `${repo.uri}:${primary}`,
        digest: existing.imageDigest,
        tags: existing.imageTags ?? [primary],
        reused: true,
      };
    }
    for (const tag of tags.slice(1)) {
      const taken = await findImage(ctx.ecr, repo.name, tag);
      if (taken?.imageDigest) {
        throw new UserError({
          where: 'tags',
          what: `The tag "${tag}" already exists in the immutable repository ${repo.name} (digest ${taken.imageDigest}), and the new image would have another digest.`,
          fix: `Remove "${tag}" from tags (moving tags like latest need a MUTABLE repository), or make the repository's tags mutable.`,
        });
      }
    }
  }

  const options: BuildOptions = { ...build, spec, repositoryUri: repo.uri, tags };
  const imageUri = `${repo.uri}:${primary}`;
  if (ctx.buildx) {
    const metadataFile = `${ctx.tempDir}/build-metadata-${spec.repository.replace(/\//g, '_')}.json`;
    ctx.log.info(`Building ${imageUri} with buildx…`);
    const r = await ctx.docker.run(buildxArgs(options, metadataFile));
    if (r.exitCode !== 0) throw buildFailed(spec, r.stderr || r.stdout);
    let digest: string | undefined;
    try {
      const meta = JSON.parse(await ctx.readFile(metadataFile)) as Record<string, unknown>;
      digest = typeof meta['containerimage.digest'] === 'string' ? meta['containerimage.digest'] : undefined;
    } catch {
      digest = undefined;
    }
    return { repositoryUri: repo.uri, imageUri, digest, tags, reused: false };
  }

  checkBuildxNeeds(build, false);
  if (build.cacheTo.length > 0) {
    ctx.log.warning('cache-to needs docker buildx, which is not installed: the build cache is not exported.');
  }
  ctx.log.info(`Building ${imageUri} with docker build…`);
  const r = await ctx.docker.run(legacyBuildArgs(options));
  if (r.exitCode !== 0) throw buildFailed(spec, r.stderr || r.stdout);
  if (!build.push) return { repositoryUri: repo.uri, imageUri, tags, reused: false };

  let digest: string | undefined;
  for (const tag of tags) {
    ctx.log.info(`Pushing ${repo.uri}:${tag}…`);
    const p = await ctx.docker.run(['push', `${repo.uri}:${tag}`]);
    if (p.exitCode !== 0) throw pushFailed(repo, tag, p.stderr || p.stdout);
    digest ??= digestFromPushOutput(p.stdout + p.stderr);
  }
  return { repositoryUri: repo.uri, imageUri, digest, tags, reused: false };
}

function buildFailed(spec: BuildSpec, output: string): UserError {
  return new UserError({
    where: spec.file ? `file (${spec.file})` : 'context',
    what: `docker build failed:\n${tail(output)}`,
    fix: 'Fix the Dockerfile or the build context; the output above shows the failing step.',
  });
}

function pushFailed(repo: Repository, tag: string, output: string): UserError {
  const text = tail(output, 8);
  const immutable = /immutable|already exists/i.test(text);
  return new UserError({
    where: 'ecr-repository',
    what: `docker push of ${repo.uri}:${tag} failed:\n${text}`,
    fix: immutable
      ? `The tag "${tag}" exists already and the repository's tags are immutable: push a new tag, or make tags mutable.`
      : 'Check that the role may push to this repository (ecr:InitiateLayerUpload, UploadLayerPart, CompleteLayerUpload, PutImage, BatchCheckLayerAvailability).',
  });
}
