/**
 * A client for the Docker Registry HTTP API v2 of the real registry (docker-registry /
 * distribution) that the emulated ECR fronts. Loopback only, with basic auth.
 */
import { request } from 'node:http';

export interface RegistryConfig {
  /** `127.0.0.1:5000` or `localhost:5000`. */
  host: string;
  username: string;
  password: string;
}

/** Every manifest type a pushed image can have, so the registry never converts one. */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RegistryResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  /** Config media type (the artifact type ECR reports), for image manifests. */
  artifactMediaType?: string;
  /** Compressed size of config and layers; for an index, of every platform image it lists. */
  sizeInBytes: number;
}

export class RegistryError extends Error {}

export class RegistryClient {
  private readonly hostname = '127.0.0.1';
  private readonly port: number;
  private readonly authorization: string;

  constructor(readonly config: RegistryConfig) {
    const m = /^(127\.0\.0\.1|localhost)(?::(\d+))?$/.exec(config.host);
    if (!m) {
      throw new RangeError(
        `registry host '${config.host}' is not on this machine: the emulator talks to 127.0.0.1 only (use 127.0.0.1:PORT or localhost:PORT)`,
      );
    }
    this.port = m[2] ? Number(m[2]) : 80;
    this.authorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  }

  send(method: string, path: string, accept = MANIFEST_TYPES): Promise<RegistryResponse> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          hostname: this.hostname,
          port: this.port,
          method,
          path,
          headers: { Authorization: this.authorization, Accept: accept, Host: this.config.host },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          new RegistryError(`registry ${this.config.host} did not answer ${method} ${path} in 10 s`),
        ),
      );
      req.on('error', (e) =>
        reject(
          e instanceof RegistryError ? e : new RegistryError(`registry ${this.config.host}: ${e.message}`),
        ),
      );
      req.end();
    });
  }

  private check(res: RegistryResponse, what: string): void {
    if (res.status === 401) {
      throw new RegistryError(
        `registry ${this.config.host} refused the emulator's credentials (401) on ${what}`,
      );
    }
    if (res.status >= 400) {
      throw new RegistryError(
        `registry ${this.config.host} answered ${res.status} on ${what}: ${res.body.toString('utf8').slice(0, 300)}`,
      );
    }
  }

  /** Tags of a repository; none when the repository has never been pushed to. */
  async tags(repository: string): Promise<string[]> {
    const res = await this.send('GET', `/v2/${repository}/tags/list?n=10000`, 'application/json');
    if (res.status === 404) return [];
    this.check(res, `tags of ${repository}`);
    const parsed = JSON.parse(res.body.toString('utf8')) as { tags?: string[] | null };
    return parsed.tags ?? [];
  }

  /** A manifest by tag or digest, or undefined when it does not exist. */
  async manifest(repository: string, reference: string): Promise<ManifestInfo | undefined> {
    const res = await this.send('GET', `/v2/${repository}/manifests/${reference}`);
    if (res.status === 404) return undefined;
    this.check(res, `manifest ${repository}:${reference}`);
    const digest = String(res.headers['docker-content-digest'] ?? '');
    const doc = JSON.parse(res.body.toString('utf8')) as {
      mediaType?: string;
      config?: { size?: number; mediaType?: string };
      layers?: { size?: number }[];
      manifests?: { digest: string }[];
    };
    const mediaType = doc.mediaType ?? String(res.headers['content-type'] ?? '');
    if (doc.manifests) {
      let sizeInBytes = 0;
      for (const child of doc.manifests)
        sizeInBytes += (await this.manifest(repository, child.digest))?.sizeInBytes ?? 0;
      return { digest, mediaType, sizeInBytes };
    }
    const sizeInBytes =
      (doc.config?.size ?? 0) + (doc.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0);
    return { digest, mediaType, artifactMediaType: doc.config?.mediaType, sizeInBytes };
  }

  /** Deletes a manifest by digest (the registry must run with deletes enabled). */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const res = await this.send('DELETE', `/v2/${repository}/manifests/${digest}`);
    this.check(res, `DELETE manifest ${repository}@${digest}`);
  }
}
