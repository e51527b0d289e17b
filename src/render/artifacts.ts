import { Problems, UserError } from '../errors.js';
import type { ImageAssignment } from './taskdef.js';

/** CodePipeline refuses an imagedefinitions.json larger than this. */
export const MAX_IMAGE_DEFINITIONS_BYTES = 100 * 1024;

/**
 * imagedefinitions.json as CodePipeline's ECS standard (rolling) deploy action reads it: an
 * array of {"name", "imageUri"}, one entry per container.
 */
export function renderImageDefinitions(images: ImageAssignment[]): string {
  const problems = new Problems();
  if (images.length === 0) {
    problems.add({
      where: 'containers',
      what: 'No container image was given, so imagedefinitions.json would be empty.',
      fix: 'Name at least one container and its image with `container-name` and `image`, or `containers`.',
    });
  }
  const seen = new Set<string>();
  for (const { containerName } of images) {
    if (seen.has(containerName)) {
      problems.add({
        where: 'containers',
        what: `Container ${JSON.stringify(containerName)} is listed twice; imagedefinitions.json names each container once.`,
        fix: 'List each container once in `containers`.',
      });
    }
    seen.add(containerName);
  }
  problems.throwIfAny();
  const content = render(images.map((i) => ({ name: i.containerName, imageUri: i.imageUri })));
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > MAX_IMAGE_DEFINITIONS_BYTES) {
    throw new UserError({
      where: 'containers',
      what: `imagedefinitions.json would be ${bytes} bytes; CodePipeline accepts at most 100 KB (${MAX_IMAGE_DEFINITIONS_BYTES} bytes).`,
      fix: 'Deploy fewer containers per task definition, or shorten the image URIs.',
    });
  }
  return content;
}

/** imageDetail.json as CodePipeline's CodeDeployToECS (blue/green) action reads it. */
export function renderImageDetail(imageUri: string): string {
  return render({ ImageURI: imageUri });
}

function render(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
