/**
 * Amazon ECR's control plane in front of a real registry: repositories live here, images live
 * in the registry (pushed there with docker), and DescribeImages / BatchDeleteImage read and
 * change the registry through its HTTP API.
 */
import type {
  AuthorizationData,
  ImageDetail,
  ImageFailure,
  ImageIdentifier,
  Repository,
  Tag,
} from '@aws-sdk/client-ecr';
import { decodeNextToken, encodeNextToken } from './context.js';
import type { EmulatorContext, Operation, ServiceEmulator } from './context.js';
import { AwsError, isRecord, optionalNumber, optionalString, optionalStringList } from './errors.js';
import { RegistryError, type ManifestInfo, type RegistryClient } from './registry.js';
import type { EcrState, RepositoryRecord } from './state.js';

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TOKEN_LIFETIME_MS = 12 * 60 * 60 * 1000;

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);

function imageIdText(id: ImageIdentifier): string {
  return `{imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'}`;
}

export class EcrEmulator implements ServiceEmulator {
  readonly service = 'ecr' as const;
  readonly targetPrefix = 'AmazonEC2ContainerRegistry_V20150921';
  readonly signingNames = ['ecr', 'api.ecr'] as const;
  readonly operations: Readonly<Record<string, Operation>>;

  constructor(
    private readonly ctx: EmulatorContext,
    readonly state: EcrState,
    private readonly registry: RegistryClient | undefined,
  ) {
    this.operations = {
      GetAuthorizationToken: () => this.getAuthorizationToken(),
      CreateRepository: (i) => this.createRepository(i),
      DescribeRepositories: (i) => this.describeRepositories(i),
      DescribeImages: (i) => this.describeImages(i),
      BatchDeleteImage: (i) => this.batchDeleteImage(i),
      PutImageTagMutability: (i) => this.putImageTagMutability(i),
      TagResource: (i) => this.tagResource(i),
      UntagResource: (i) => this.untagResource(i),
      ListTagsForResource: (i) => ({ tags: structuredClone(this.repositoryByArn(i).tags) }),
    };
  }

  private now(): Date {
    return new Date(this.ctx.scheduler.now());
  }

  private get registryId(): string {
    return this.ctx.accountId;
  }

  private notFound(name: string, registryId = this.registryId): AwsError {
    return new AwsError(
      'RepositoryNotFoundException',
      `The repository with name '${name}' does not exist in the registry with id '${registryId}'`,
    );
  }

  private requireRepository(input: Record<string, unknown>): RepositoryRecord {
    const name = optionalString(input, 'repositoryName', 'InvalidParameterException');
    if (!name) throw invalidParameter('repositoryName is required.');
    const registryId = optionalString(input, 'registryId', 'InvalidParameterException') ?? this.registryId;
    const record = registryId === this.registryId ? this.state.repositories.get(name) : undefined;
    if (!record) throw this.notFound(name, registryId);
    return record;
  }

  private getAuthorizationToken(): { authorizationData: AuthorizationData[] } {
    const expiresAt = new Date(this.ctx.scheduler.now() + TOKEN_LIFETIME_MS);
    if (this.registry) {
      const { host, username, password } = this.registry.config;
      return {
        authorizationData: [
          {
            authorizationToken: Buffer.from(`${username}:${password}`).toString('base64'),
            expiresAt,
            proxyEndpoint: `http://${host}`,
          },
        ],
      };
    }
    return {
      authorizationData: [
        {
          authorizationToken: Buffer.from(`AWS:${this.ctx.ids.hex(64)}`).toString('base64'),
          expiresAt,
          proxyEndpoint: `https://${this.registryHost()}`,
        },
      ],
    };
  }

  private registryHost(): string {
    return this.registry?.config.host ?? `${this.registryId}.dkr.ecr.${this.ctx.region}.amazonaws.com`;
  }

  createRepository(input: Record<string, unknown>): { repository: Repository } {
    const name = optionalString(input, 'repositoryName', 'InvalidParameterException');
    if (!name) throw invalidParameter('repositoryName is required.');
    if (name.length < 2 || name.length > 256 || !REPOSITORY_NAME.test(name)) {
      throw invalidParameter(
        `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''`,
      );
    }
    if (this.state.repositories.has(name)) {
      throw new AwsError(
        'RepositoryAlreadyExistsException',
        `The repository with name '${name}' already exists in the registry with id '${this.registryId}'`,
      );
    }
    const mutability = optionalString(input, 'imageTagMutability', 'InvalidParameterException') ?? 'MUTABLE';
    if (mutability !== 'MUTABLE' && mutability !== 'IMMUTABLE') {
      throw invalidParameter(
        `Invalid parameter at 'imageTagMutability': '${mutability}' is not MUTABLE or IMMUTABLE.`,
      );
    }
    const repository: Repository = {
      repositoryArn: `arn:aws:ecr:${this.ctx.region}:${this.registryId}:repository/${name}`,
      registryId: this.registryId,
      repositoryName: name,
      repositoryUri: `${this.registryHost()}/${name}`,
      createdAt: this.now(),
      imageTagMutability: mutability,
      imageScanningConfiguration: isRecord(input.imageScanningConfiguration)
        ? { scanOnPush: input.imageScanningConfiguration.scanOnPush === true }
        : { scanOnPush: false },
      encryptionConfiguration: isRecord(input.encryptionConfiguration)
        ? {
            encryptionType: input.encryptionConfiguration.encryptionType === 'KMS' ? 'KMS' : 'AES256',
            kmsKey: optionalString(input.encryptionConfiguration, 'kmsKey', 'InvalidParameterException'),
          }
        : { encryptionType: 'AES256' },
    };
    this.state.repositories.set(name, { repository, tags: this.tagList(input.tags), firstSeen: new Map() });
    return { repository: structuredClone(repository) };
  }

  private tagList(value: unknown): Tag[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || value.some((t) => !isRecord(t) || typeof t.Key !== 'string')) {
      throw new AwsError('InvalidTagParameterException', 'Tags must be a list of {Key, Value} objects.');
    }
    return (value as Tag[]).map((t) => ({ Key: t.Key, Value: t.Value ?? '' }));
  }

  private describeRepositories(input: Record<string, unknown>): {
    repositories: Repository[];
    nextToken?: string;
  } {
    const names = optionalStringList(input, 'repositoryNames', 'InvalidParameterException');
    const registryId = optionalString(input, 'registryId', 'InvalidParameterException') ?? this.registryId;
    let repositories: Repository[];
    if (names) {
      repositories = names.map((name) => {
        const record = registryId === this.registryId ? this.state.repositories.get(name) : undefined;
        if (!record) throw this.notFound(name, registryId);
        return record.repository;
      });
    } else {
      repositories =
        registryId === this.registryId ? [...this.state.repositories.values()].map((r) => r.repository) : [];
    }
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw invalidParameter('Invalid parameter at nextToken.');
    const max = optionalNumber(input, 'maxResults', 'InvalidParameterException') ?? 100;
    const page = repositories.slice(offset, offset + max);
    return {
      repositories: structuredClone(page),
      ...(offset + max < repositories.length ? { nextToken: encodeNextToken(offset + max) } : {}),
    };
  }

  private putImageTagMutability(input: Record<string, unknown>) {
    const record = this.requireRepository(input);
    const mutability = optionalString(input, 'imageTagMutability', 'InvalidParameterException');
    if (mutability !== 'MUTABLE' && mutability !== 'IMMUTABLE') {
      throw invalidParameter(
        `Invalid parameter at 'imageTagMutability': '${String(mutability)}' is not MUTABLE or IMMUTABLE.`,
      );
    }
    record.repository.imageTagMutability = mutability;
    return {
      registryId: this.registryId,
      repositoryName: record.repository.repositoryName,
      imageTagMutability: mutability,
    };
  }

  private repositoryByArn(input: Record<string, unknown>): RepositoryRecord {
    const arn = optionalString(input, 'resourceArn', 'InvalidParameterException');
    const m = arn ? /^arn:aws[\w-]*:ecr:([^:]+):(\d{12}):repository\/(.+)$/.exec(arn) : null;
    if (!m)
      throw invalidParameter(`Invalid parameter at 'resourceArn': '${String(arn)}' is not a repository ARN.`);
    const record =
      m[1] === this.ctx.region && m[2] === this.registryId
        ? this.state.repositories.get(m[3] as string)
        : undefined;
    if (!record) throw this.notFound(m[3] as string, m[2]);
    return record;
  }

  private tagResource(input: Record<string, unknown>): Record<string, never> {
    const record = this.repositoryByArn(input);
    const byKey = new Map(record.tags.map((t) => [t.Key, t]));
    for (const t of this.tagList(input.tags)) byKey.set(t.Key, t);
    record.tags = [...byKey.values()];
    return {};
  }

  private untagResource(input: Record<string, unknown>): Record<string, never> {
    const record = this.repositoryByArn(input);
    const keys = optionalStringList(input, 'tagKeys', 'InvalidParameterException') ?? [];
    record.tags = record.tags.filter((t) => !keys.includes(t.Key as string));
    return {};
  }

  // ------------------------------------------------------------------ images, from the registry

  private imageIds(value: unknown): ImageIdentifier[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (!Array.isArray(value) || value.some((id) => !isRecord(id)))
      throw invalidParameter('imageIds must be a list of objects.');
    return value as ImageIdentifier[];
  }

  /** Runs registry I/O, turning its failures into the error ECR would give for an internal fault. */
  private async fromRegistry<T>(work: (registry: RegistryClient) => Promise<T>): Promise<T | undefined> {
    if (!this.registry) return undefined;
    try {
      return await work(this.registry);
    } catch (e) {
      if (e instanceof RegistryError)
        throw new AwsError('ServerException', `The emulator's registry failed: ${e.message}`, 500);
      throw e;
    }
  }

  /** Every tagged image of a repository, tags grouped by digest. */
  private async taggedImages(
    registry: RegistryClient,
    name: string,
  ): Promise<Map<string, { manifest: ManifestInfo; tags: string[] }>> {
    const images = new Map<string, { manifest: ManifestInfo; tags: string[] }>();
    for (const tag of (await registry.tags(name)).sort()) {
      const manifest = await registry.manifest(name, tag);
      if (!manifest) continue;
      const entry = images.get(manifest.digest) ?? { manifest, tags: [] };
      entry.tags.push(tag);
      images.set(manifest.digest, entry);
    }
    return images;
  }

  private detail(record: RepositoryRecord, manifest: ManifestInfo, tags: string[]): ImageDetail {
    let pushedAt = record.firstSeen.get(manifest.digest);
    if (!pushedAt) {
      pushedAt = this.now();
      record.firstSeen.set(manifest.digest, pushedAt);
    }
    return {
      registryId: this.registryId,
      repositoryName: record.repository.repositoryName,
      imageDigest: manifest.digest,
      ...(tags.length > 0 ? { imageTags: tags } : {}),
      imageSizeInBytes: manifest.sizeInBytes,
      imagePushedAt: pushedAt,
      imageManifestMediaType: manifest.mediaType,
      artifactMediaType: manifest.artifactMediaType,
    };
  }

  private async describeImages(
    input: Record<string, unknown>,
  ): Promise<{ imageDetails: ImageDetail[]; nextToken?: string }> {
    const record = this.requireRepository(input);
    const name = record.repository.repositoryName as string;
    const ids = this.imageIds(input.imageIds);
    const filter = isRecord(input.filter) ? input.filter.tagStatus : undefined;
    const details =
      (await this.fromRegistry(async (registry) => {
        const images = await this.taggedImages(registry, name);
        if (!ids) {
          if (filter === 'UNTAGGED') return [];
          return [...images.values()].map((i) => this.detail(record, i.manifest, i.tags));
        }
        const out = new Map<string, ImageDetail>();
        for (const id of ids) {
          if (!id.imageDigest && !id.imageTag)
            throw invalidParameter('Each imageId needs an imageDigest or an imageTag.');
          const manifest = await registry.manifest(name, (id.imageDigest ?? id.imageTag) as string);
          if (
            !manifest ||
            (id.imageDigest && id.imageTag && !images.get(manifest.digest)?.tags.includes(id.imageTag))
          ) {
            throw this.imageNotFound(id, name);
          }
          out.set(manifest.digest, this.detail(record, manifest, images.get(manifest.digest)?.tags ?? []));
        }
        return [...out.values()];
      })) ?? [];
    if (!this.registry && ids && ids[0]) throw this.imageNotFound(ids[0], name);
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw invalidParameter('Invalid parameter at nextToken.');
    const max = optionalNumber(input, 'maxResults', 'InvalidParameterException') ?? 100;
    return {
      imageDetails: details.slice(offset, offset + max),
      ...(offset + max < details.length ? { nextToken: encodeNextToken(offset + max) } : {}),
    };
  }

  private imageNotFound(id: ImageIdentifier, repository: string): AwsError {
    return new AwsError(
      'ImageNotFoundException',
      `The image with imageId ${imageIdText(id)} does not exist within the repository with name '${repository}' in the registry with id '${this.registryId}'`,
    );
  }

  private async batchDeleteImage(
    input: Record<string, unknown>,
  ): Promise<{ imageIds: ImageIdentifier[]; failures: ImageFailure[] }> {
    const record = this.requireRepository(input);
    const name = record.repository.repositoryName as string;
    const ids = this.imageIds(input.imageIds);
    if (!ids || ids.length === 0) throw invalidParameter('imageIds is required.');
    if (ids.length > 100) throw invalidParameter('You can delete at most 100 images per request.');
    const deleted: ImageIdentifier[] = [];
    const failures: ImageFailure[] = [];
    const notFound = (imageId: ImageIdentifier) =>
      failures.push({ imageId, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' });
    await this.fromRegistry(async (registry) => {
      for (const id of ids) {
        if (!id.imageDigest && !id.imageTag) {
          failures.push({
            imageId: id,
            failureCode: 'MissingDigestAndTag',
            failureReason: 'Invalid request parameters: both tag and digest cannot be null',
          });
          continue;
        }
        const images = await this.taggedImages(registry, name);
        const manifest = await registry.manifest(name, (id.imageDigest ?? id.imageTag) as string);
        if (!manifest) {
          notFound(id);
          continue;
        }
        const tags = images.get(manifest.digest)?.tags ?? [];
        if (id.imageDigest && id.imageTag && !tags.includes(id.imageTag)) {
          failures.push({
            imageId: id,
            failureCode: 'ImageTagDoesNotMatchDigest',
            failureReason: 'Invalid request parameters: image tag does not match digest',
          });
          continue;
        }
        if (id.imageTag && !id.imageDigest && tags.length > 1) {
          // ECR removes only this tag; distribution 3 can delete a tag by name, older registries cannot.
          const res = await registry.send('DELETE', `/v2/${name}/manifests/${id.imageTag}`);
          if (res.status >= 400) {
            throw new AwsError(
              'ServerException',
              `The emulator's registry cannot delete the single tag '${id.imageTag}' of an image with other tags (answered ${res.status}); it needs distribution 3 or later.`,
              500,
            );
          }
          deleted.push({ imageDigest: manifest.digest, imageTag: id.imageTag });
          continue;
        }
        await registry.deleteManifest(name, manifest.digest);
        record.firstSeen.delete(manifest.digest);
        deleted.push({ imageDigest: manifest.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) });
      }
    });
    if (!this.registry) ids.forEach(notFound);
    return { imageIds: deleted, failures };
  }
}
