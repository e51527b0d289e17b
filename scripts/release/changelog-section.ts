/**
 * Prints the CHANGELOG.md section of one version: the release notes.
 *
 *   npx tsx scripts/release/changelog-section.ts v1.2.3 [--file CHANGELOG.md] > notes.md
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { changelogSection, parseReleaseTag, runCli, tagFromVersionInput } from './lib.js';

runCli((args) => {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { file: { type: 'string', default: 'CHANGELOG.md' } },
  });
  if (positionals.length !== 1) throw new Error('Usage: changelog-section.ts vX.Y.Z [--file CHANGELOG.md]');
  const release = parseReleaseTag(tagFromVersionInput(positionals[0] as string));
  return changelogSection(readFileSync(values.file, 'utf8'), release.version);
});
