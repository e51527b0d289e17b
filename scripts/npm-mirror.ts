/**
 * An npm tarball mirror on 127.0.0.1, so `npm ci` inside `docker build` never leaves the machine.
 *
 * `npm ci` with a lock file that has `resolved` URLs asks the registry for nothing but the
 * tarballs, and with `--registry=http://127.0.0.1:PORT/` it rewrites every
 * `https://registry.npmjs.org/<path>` of the lock to `http://127.0.0.1:PORT/<path>`, then checks
 * each download against the lock's `integrity`. So the mirror is a static file server over a
 * directory laid out like the registry's tarball paths (`express/-/express-5.1.0.tgz`,
 * `@types/node/-/node-20.1.0.tgz`), filled once at setup by `npm pack`.
 *
 *   npx tsx scripts/npm-mirror.ts fetch [--lock example-app/package-lock.json] [--dir .tmp/npm-tarballs]
 *   npx tsx scripts/npm-mirror.ts serve [--dir .tmp/npm-tarballs] [--port 4873]
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const defaultLockFile = join(repoRoot, 'example-app', 'package-lock.json');
export const defaultTarballDir = join(repoRoot, '.tmp', 'npm-tarballs');

/** The only registry whose URLs `npm ci` rewrites to the configured registry. */
const publicRegistry = 'https://registry.npmjs.org/';

/** One tarball a lock file names. */
export interface LockedTarball {
  name: string;
  version: string;
  /** The tarball's path on the registry, without the leading slash: `express/-/express-5.1.0.tgz`. */
  path: string;
  /** The lock's Subresource Integrity string, e.g. `sha512-…`. */
  integrity: string;
}

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  inBundle?: boolean;
}

/** Every registry tarball a package-lock.json (lockfileVersion 2 or 3) names, once each. */
export function lockedTarballs(lockText: string, lockFile: string): LockedTarball[] {
  const lock = JSON.parse(lockText) as { lockfileVersion?: number; packages?: Record<string, LockEntry> };
  if (!lock.packages) {
    throw new Error(
      `${lockFile}: has no "packages" (lockfileVersion ${lock.lockfileVersion ?? 'missing'}). ` +
        'Fix: regenerate it with npm 7 or later (`npm install --package-lock-only`).',
    );
  }
  const byPath = new Map<string, LockedTarball>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    // The root project, workspace links and packages shipped inside another tarball download nothing.
    if (key === '' || entry.link || entry.inBundle) continue;
    const where = `${lockFile}: packages["${key}"]`;
    if (!entry.resolved || !entry.integrity || !entry.version) {
      throw new Error(
        `${where} has no resolved URL, integrity or version, so npm ci would have to ask the registry. ` +
          'Fix: regenerate the lock with `npm install --omit-lockfile-registry-resolved=false`.',
      );
    }
    if (!entry.resolved.startsWith(publicRegistry)) {
      throw new Error(
        `${where}.resolved is ${entry.resolved}, not on ${publicRegistry}; npm ci fetches it from there ` +
          'whatever registry is configured. Fix: install the package from the public npm registry.',
      );
    }
    const path = entry.resolved.slice(publicRegistry.length);
    byPath.set(path, {
      name: entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length),
      version: entry.version,
      path,
      integrity: entry.integrity,
    });
  }
  return [...byPath.values()];
}

/** Whether the file's bytes match an SRI string; any one of its hashes that Node knows suffices. */
export async function matchesIntegrity(file: string, integrity: string): Promise<boolean> {
  const data = await readFile(file);
  return integrity.split(/\s+/).some((hash) => {
    const dash = hash.indexOf('-');
    const algorithm = hash.slice(0, dash);
    if (dash < 1 || !['sha512', 'sha384', 'sha256', 'sha1'].includes(algorithm)) return false;
    return createHash(algorithm).update(data).digest('base64') === hash.slice(dash + 1);
  });
}

/** The locked tarballs not yet in `tarballDir` with matching content. */
export async function missingTarballs(
  tarballs: LockedTarball[],
  tarballDir: string,
): Promise<LockedTarball[]> {
  const missing: LockedTarball[] = [];
  for (const tarball of tarballs) {
    const file = join(tarballDir, tarball.path);
    const present = await stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!present || !(await matchesIntegrity(file, tarball.integrity))) missing.push(tarball);
  }
  return missing;
}

const execFileAsync = promisify(execFile);
/** Specs per `npm pack` call: few processes, far from any argument-length limit. */
const packBatchSize = 50;

/**
 * Downloads, with the ordinary npm client, every tarball `lockFile` names that `tarballDir` lacks,
 * checks each against the lock's integrity, and files it under its registry path. Idempotent.
 */
export async function fetchTarballs(options: {
  lockFile: string;
  tarballDir: string;
}): Promise<{ fetched: number; present: number }> {
  const tarballs = lockedTarballs(await readFile(options.lockFile, 'utf8'), options.lockFile);
  const missing = await missingTarballs(tarballs, options.tarballDir);
  if (missing.length === 0) return { fetched: 0, present: tarballs.length };

  await mkdir(options.tarballDir, { recursive: true });
  const staging = await mkdtemp(join(options.tarballDir, '.staging-'));
  try {
    for (let i = 0; i < missing.length; i += packBatchSize) {
      const batch = missing.slice(i, i + packBatchSize);
      const { stdout } = await execFileAsync(
        'npm',
        [
          'pack',
          ...batch.map((t) => `${t.name}@${t.version}`),
          '--pack-destination',
          staging,
          '--ignore-scripts',
          '--json',
        ],
        { cwd: staging, maxBuffer: 64 * 1024 * 1024 },
      );
      const packed = JSON.parse(stdout) as { name: string; version: string; filename: string }[];
      for (const tarball of batch) {
        const entry = packed.find((p) => p.name === tarball.name && p.version === tarball.version);
        if (!entry) throw new Error(`npm pack did not report ${tarball.name}@${tarball.version}`);
        const file = join(staging, entry.filename);
        if (!(await matchesIntegrity(file, tarball.integrity))) {
          throw new Error(
            `${options.lockFile}: the tarball npm pack fetched for ${tarball.name}@${tarball.version} does not ` +
              `match the lock's integrity ${tarball.integrity}. Fix: check the npm registry configuration ` +
              '(`npm config get registry`), or regenerate the lock.',
          );
        }
        const target = join(options.tarballDir, tarball.path);
        await mkdir(dirname(target), { recursive: true });
        await rename(file, target);
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return { fetched: missing.length, present: tarballs.length - missing.length };
}

export interface NpmMirror {
  /** `http://127.0.0.1:<port>/`, for `--registry` or `NPM_CONFIG_REGISTRY`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Serves the files under `tarballDir` by their registry path on 127.0.0.1. `port` 0 (the default)
 * takes a free port. `onMiss` hears every request the mirror cannot answer, the first thing to
 * look at when an `npm ci` against it fails.
 */
export async function startNpmMirror(options: {
  tarballDir: string;
  port?: number;
  onMiss?: (path: string) => void;
}): Promise<NpmMirror> {
  const root = resolve(options.tarballDir);
  const server = createServer((request, response) => {
    const miss = (status: number) => {
      options.onMiss?.(`${request.method} ${request.url} -> ${status}`);
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: status === 404 ? 'Not found' : 'Method not allowed' }));
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return miss(405);
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      return miss(404);
    }
    const file = resolve(root, `.${path}`);
    // Only tarballs inside the directory: no `..` escapes, no directory listings.
    if (!file.endsWith('.tgz') || !file.startsWith(root + sep)) {
      return miss(404);
    }
    stat(file).then(
      (s) => {
        if (!s.isFile()) return miss(404);
        response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': s.size });
        if (request.method === 'HEAD') return response.end();
        createReadStream(file).pipe(response);
      },
      () => miss(404),
    );
  });
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolveStop, rejectStop) => {
        server.close((error) => (error ? rejectStop(error) : resolveStop()));
        server.closeAllConnections();
      }),
  };
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      lock: { type: 'string', default: defaultLockFile },
      dir: { type: 'string', default: defaultTarballDir },
      port: { type: 'string', default: '4873' },
    },
  });
  const command = positionals[0];
  if (command === 'fetch') {
    const { fetched, present } = await fetchTarballs({ lockFile: values.lock, tarballDir: values.dir });
    console.log(`npm-mirror: ${fetched} tarballs fetched, ${present} already present, in ${values.dir}`);
  } else if (command === 'serve') {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`--port ${values.port} is not a TCP port. Fix: pass a number from 0 to 65535.`);
    }
    const mirror = await startNpmMirror({
      tarballDir: values.dir,
      port,
      onMiss: (line) => console.error(`npm-mirror: ${line}`),
    });
    console.log(`npm-mirror: serving ${values.dir} at ${mirror.url}`);
    const stop = () => void mirror.stop().then(() => process.exit(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } else {
    throw new Error(
      'usage: npm-mirror.ts fetch [--lock <package-lock.json>] [--dir <dir>] | serve [--dir <dir>] [--port <port>]',
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`npm-mirror: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
