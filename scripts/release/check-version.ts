/**
 * Checks that a release tag matches package.json and package-lock.json, and prints the release as
 * `name=value` lines for $GITHUB_OUTPUT (tag, version, major-tag, tag-exists).
 *
 *   npx tsx scripts/release/check-version.ts v1.2.3 [--commit SHA]
 *
 * The version may be given without the `v` (a manual dispatch's input). With --commit, an existing
 * tag must name that commit; tag-exists says whether the release still has to create the tag.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkVersion, runCli, tagAt, tagFromVersionInput } from './lib.js';

runCli((args) => {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { commit: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error('Usage: check-version.ts vX.Y.Z [--commit SHA]');
  const tag = tagFromVersionInput(positionals[0] as string);
  const release = checkVersion(
    tag,
    readFileSync('package.json', 'utf8'),
    readFileSync('package-lock.json', 'utf8'),
  );
  const exists = values.commit === undefined ? undefined : tagAt(process.cwd(), release.tag, values.commit);
  return [
    `tag=${release.tag}`,
    `version=${release.version}`,
    `major-tag=${release.majorTag}`,
    ...(exists === undefined ? [] : [`tag-exists=${exists}`]),
  ].join('\n');
});
