/**
 * Points the major tag (v1) at a release tag's commit, and pushes it with --push REMOTE.
 *
 *   npx tsx scripts/release/move-major-tag.ts v1.2.3 [--push origin]
 *
 * Refused when a newer release of that major exists (see moveMajorTag).
 */
import { parseArgs } from 'node:util';
import { moveMajorTag, runCli } from './lib.js';

runCli((args) => {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { push: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error('Usage: move-major-tag.ts vX.Y.Z [--push REMOTE]');
  const moved = moveMajorTag(process.cwd(), positionals[0] as string, values.push);
  const from = moved.previous === undefined ? 'new' : `was ${moved.previous}`;
  const pushed = values.push === undefined ? 'not pushed' : `pushed to ${values.push}`;
  return `${moved.majorTag} -> ${moved.commit} (${from}; ${pushed})`;
});
