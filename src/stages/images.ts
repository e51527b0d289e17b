/**
 * Login and build: every image to build is built (and, unless this is a dry run, pushed);
 * existing images are taken as they are. The images' outputs are set here.
 */
import { secretLookingBuildArgs } from '../build-args.js';
import { type Config, imageTags } from '../config.js';
import { createRepository, loginToRegistry } from '../ecr.js';
import { buildAndPushImage, checkBuildxNeeds, hasBuildx } from '../image.js';
import type { Plan } from '../plan.js';
import type { RunReport } from '../report.js';
import type { ImageAssignment } from '../render/taskdef.js';
import type { RunDeps } from './deps.js';
import type { Stages } from './stage.js';

/** The images' outputs: the first image's URI and digest, and every container's image. */
export function setImageOutputs(deps: RunDeps, report: RunReport, images: ImageAssignment[]): void {
  const first = report.images[0];
  if (first) {
    deps.setOutput('image-uri', first.imageUri);
    if (first.digest) {
      deps.setOutput('image-digest', first.digest);
      deps.setOutput('image-uri-digest', `${first.imageUri.replace(/:[^:/]+$/, '')}@${first.digest}`);
    }
  }
  deps.setOutput(
    'images',
    JSON.stringify(Object.fromEntries(images.map((i) => [i.containerName, i.imageUri]))),
  );
}

/**
 * Builds (and, unless this is a dry run, pushes) every image to build; existing images are
 * taken as they are. A dry run neither logs in nor creates a repository nor pushes.
 */
export async function produceImages(
  config: Config,
  plan: Plan,
  deps: RunDeps,
  timer: Stages,
  report: RunReport,
): Promise<ImageAssignment[]> {
  const { clients, log } = deps;
  const images: ImageAssignment[] = [];
  const tags = imageTags(config);
  const building = config.containers.some((c) => c.build !== undefined);
  let buildx = false;
  for (const c of config.containers) {
    const where = `build-args${c.name !== undefined ? ` (container ${c.name})` : ''}`;
    for (const w of secretLookingBuildArgs(c.build?.buildArgs ?? [], where)) log.warning(w);
  }
  if (building) {
    buildx = await hasBuildx(deps.docker);
    checkBuildxNeeds(config.build, buildx);
    if (!config.dryRun) {
      const login = await timer.run(
        'ECR login',
        () => loginToRegistry(clients.ecr, deps.docker, log),
        (l) => l.registry,
      );
      deps.saveState('registry', login.registry);
    }
  }
  for (const [i, c] of config.containers.entries()) {
    const name = plan.containerNames[i] as string;
    if (c.build === undefined) {
      images.push({ containerName: name, imageUri: c.image as string });
      report.images.push({ container: name, imageUri: c.image as string });
      continue;
    }
    const spec = c.build;
    const built = await timer.run(
      `Build ${name}`,
      async () => {
        let repo = plan.repositories.get(spec.repository);
        if (repo === undefined && config.dryRun) {
          // Tagged with the bare name: a dry run creates no repository.
          repo = { name: spec.repository, uri: spec.repository, immutable: false };
        } else if (repo === undefined) {
          repo = await createRepository(clients.ecr, spec.repository, log);
          plan.repositories.set(spec.repository, repo);
        }
        return buildAndPushImage(
          {
            ecr: clients.ecr,
            docker: deps.docker,
            log,
            buildx,
            tempDir: config.outputDir,
            readFile: deps.fs.readFile,
          },
          spec,
          repo,
          tags,
          config.dryRun ? { ...config.build, push: false } : config.build,
        );
      },
      (b) => (b.reused ? `reused ${b.imageUri}` : b.imageUri),
    );
    images.push({ containerName: name, imageUri: built.imageUri });
    report.images.push({
      container: name,
      imageUri: built.imageUri,
      digest: built.digest,
      reused: built.reused,
    });
  }
  return images;
}
