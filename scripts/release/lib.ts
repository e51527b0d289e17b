/**
 * The release's decisions, apart from the workflow that runs them (.github/workflows/release.yml):
 * which version a tag names and whether package.json agrees, the CHANGELOG.md section that becomes
 * the release notes, and where the major tag (v1) may move. The pure parts take text and return
 * values; the git part takes the repository's directory, so a test can run it on a throw-away
 * repository with a fake tag.
 */
import { execFileSync } from 'node:child_process';

/** A release version, vMAJOR.MINOR.PATCH; pre-releases are not released by this workflow. */
export interface ReleaseVersion {
  /** The git tag, `v1.2.3`. */
  tag: string;
  /** The version without the `v`, as package.json has it: `1.2.3`. */
  version: string;
  major: number;
  minor: number;
  patch: number;
  /** The moving tag of the major version, `v1`. */
  majorTag: string;
}

const RELEASE_TAG = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;

/** The release a tag names; `source` says where the tag came from, for the error. */
export function parseReleaseTag(tag: string, source = 'the tag'): ReleaseVersion {
  const match = RELEASE_TAG.exec(tag);
  if (!match) {
    throw new Error(
      `${source} is ${JSON.stringify(tag)}, not a release tag: it must be vMAJOR.MINOR.PATCH ` +
        '(for example v1.2.3, no leading zeros, no pre-release suffix). Fix: push a tag of that form.',
    );
  }
  const [major, minor, patch] = match.slice(1, 4).map(Number) as [number, number, number];
  return { tag, version: tag.slice(1), major, minor, patch, majorTag: `v${major}` };
}

/** The tag a manual dispatch asks for: `1.2.3` or `v1.2.3`, spaces around it ignored. */
export function tagFromVersionInput(input: string): string {
  const trimmed = input.trim();
  return trimmed.startsWith('v') ? trimmed : `v${trimmed}`;
}

/** Negative, zero or positive as `a` is older than, the same as or newer than `b`. */
export function compareVersions(a: ReleaseVersion, b: ReleaseVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * The tag's release, once package.json and package-lock.json name the same version; otherwise an
 * error naming the file, both versions and the fix.
 */
export function checkVersion(tag: string, packageJson: string, packageLock?: string): ReleaseVersion {
  const release = parseReleaseTag(tag);
  const declared = (JSON.parse(packageJson) as { version?: unknown }).version;
  if (declared !== release.version) {
    throw new Error(
      `package.json "version" is ${JSON.stringify(declared)} but the tag ${tag} releases ` +
        `${release.version}. Fix: set "version": "${release.version}" in package.json (npm version ` +
        `${release.version} --no-git-tag-version), commit, and tag that commit.`,
    );
  }
  if (packageLock !== undefined) {
    const lock = JSON.parse(packageLock) as {
      version?: unknown;
      packages?: Record<string, { version?: unknown }>;
    };
    for (const [field, value] of [
      ['"version"', lock.version],
      ['"packages"[""].version', lock.packages?.['']?.version],
    ] as const) {
      if (value !== release.version) {
        throw new Error(
          `package-lock.json ${field} is ${JSON.stringify(value)} but package.json and the tag say ` +
            `${release.version}. Fix: run npm install --package-lock-only and commit package-lock.json.`,
        );
      }
    }
  }
  return release;
}

const SECTION = /^## \[([^\]]+)\](.*)$/;
const DATED = /^ - \d{4}-\d{2}-\d{2}$/;

/**
 * The body of `## [VERSION] - YYYY-MM-DD` in a Keep a Changelog file: the lines up to the next
 * `## ` heading or the link references at the end, trimmed. An error when the section is missing,
 * undated or empty: a release without notes is a mistake, caught before anything is published.
 */
export function changelogSection(changelog: string, version: string): string {
  const lines = changelog.split(/\r?\n/);
  const start = lines.findIndex((line) => SECTION.exec(line)?.[1] === version);
  if (start === -1) {
    throw new Error(
      `CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section. Fix: rename "## [Unreleased]" ` +
        `to "## [${version}] - <today>", add a new empty "## [Unreleased]" above it, and commit.`,
    );
  }
  const heading = SECTION.exec(lines[start] as string)?.[2] ?? '';
  if (!DATED.test(heading)) {
    throw new Error(
      `CHANGELOG.md's "## [${version}]" heading has no date. Fix: write it as "## [${version}] - YYYY-MM-DD".`,
    );
  }
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => line.startsWith('## ') || /^\[[^\]]+\]: /.test(line));
  const body = (end === -1 ? rest : rest.slice(0, end)).join('\n').trim();
  if (body === '') {
    throw new Error(
      `CHANGELOG.md's "## [${version}]" section is empty. Fix: list what changed under ### Added, ` +
        '### Changed, ### Fixed or ### Removed.',
    );
  }
  return body;
}

/** git in one repository, with its output; a failure throws with git's own message. */
export function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** The commit a ref names, or undefined when there is no such ref. */
function commitOf(cwd: string, ref: string): string | undefined {
  try {
    return git(cwd, ['rev-parse', '--verify', '--quiet', `refs/tags/${ref}^{commit}`]);
  } catch {
    return undefined;
  }
}

/**
 * Whether the release tag exists already, and if so that it names `commit`, the commit this run
 * checked and would release: a manual dispatch from another commit must not release a tag that
 * names different code.
 */
export function tagAt(cwd: string, tag: string, commit: string): boolean {
  const tagged = commitOf(cwd, tag);
  if (tagged === undefined) return false;
  const wanted = git(cwd, ['rev-parse', '--verify', `${commit}^{commit}`]);
  if (tagged !== wanted) {
    throw new Error(
      `The tag ${tag} exists and names ${tagged}, not ${wanted}, the commit this run checked. Fix: ` +
        `run the release from ${tag} itself, or release a new version from this commit.`,
    );
  }
  return true;
}

/** Run a command-line script: its result on stdout, or its error's message on stderr and exit 1. */
export function runCli(run: (args: string[]) => string): void {
  try {
    const output = run(process.argv.slice(2));
    if (output !== '') process.stdout.write(`${output}\n`);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

/** What moveMajorTag did, for the log. */
export interface MajorTagMove {
  majorTag: string;
  commit: string;
  /** The commit the major tag named before, when it existed. */
  previous?: string;
}

/**
 * Point the major tag (v1) at the release tag's commit, and push it to `remote` when given. Refused
 * when a newer release of the same major exists: re-running an old release must not take users of
 * `@v1` back to it. The major tag is a plain tag with no release of its own, so it stays movable
 * when the repository has immutable releases (only a release's own tag is locked).
 */
export function moveMajorTag(cwd: string, tag: string, remote?: string): MajorTagMove {
  const release = parseReleaseTag(tag);
  const commit = commitOf(cwd, tag);
  if (commit === undefined) {
    throw new Error(
      `There is no tag ${tag} in ${cwd}. Fix: fetch the tags (git fetch --tags) or push ${tag} first.`,
    );
  }
  const newer = git(cwd, ['tag', '--list', `${release.majorTag}.*`])
    .split('\n')
    .filter((name) => RELEASE_TAG.test(name))
    .map((name) => parseReleaseTag(name))
    .filter((other) => compareVersions(other, release) > 0)
    .sort(compareVersions)
    .pop();
  if (newer !== undefined) {
    throw new Error(
      `${newer.tag} is newer than ${tag}, so ${release.majorTag} stays where it is. Fix: release a ` +
        `version after ${newer.tag} instead of re-running ${tag}.`,
    );
  }
  const previous = commitOf(cwd, release.majorTag);
  git(cwd, ['tag', '--force', release.majorTag, commit]);
  if (remote !== undefined) {
    git(cwd, ['push', '--force', remote, `refs/tags/${release.majorTag}:refs/tags/${release.majorTag}`]);
  }
  return { majorTag: release.majorTag, commit, ...(previous === undefined ? {} : { previous }) };
}
