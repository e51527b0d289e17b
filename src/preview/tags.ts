/** Every image tag of pull request `n`'s preview starts with this. */
export function previewTagPrefix(pullRequest: number): string {
  return `pr-${pullRequest}-`;
}
