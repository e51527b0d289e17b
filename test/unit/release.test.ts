import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import {
  changelogSection,
  checkVersion,
  compareVersions,
  moveMajorTag,
  parseReleaseTag,
  tagAt,
  tagFromVersionInput,
} from '../../scripts/release/lib.js';

/**
 * The release scripts that .github/workflows/release.yml runs: the pure checks table by table,
 * then the command-line scripts as the workflow runs them, in a throw-away git repository with
 * fake release tags and a bare repository standing in for GitHub.
 */

const root = resolve('.');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

describe('parseReleaseTag', () => {
  it.each([
    ['v0.1.0', { version: '0.1.0', major: 0, minor: 1, patch: 0, majorTag: 'v0' }],
    ['v1.2.3', { version: '1.2.3', major: 1, minor: 2, patch: 3, majorTag: 'v1' }],
    ['v10.0.12', { version: '10.0.12', major: 10, minor: 0, patch: 12, majorTag: 'v10' }],
  ])('%s is a release', (tag, expected) => {
    expect(parseReleaseTag(tag)).toEqual({ tag, ...expected });
  });

  it.each(['1.2.3', 'v1.2', 'v1', 'v01.2.3', 'v1.2.3-rc.1', 'v1.2.3+build', 'v1.2.3 ', 'release-1.2.3', ''])(
    '%j is refused, naming the form a tag must have',
    (tag) => {
      expect(() => parseReleaseTag(tag)).toThrow(/not a release tag: it must be vMAJOR\.MINOR\.PATCH/);
    },
  );

  it('takes a dispatch input with or without the v', () => {
    expect(tagFromVersionInput(' 1.2.3 ')).toBe('v1.2.3');
    expect(tagFromVersionInput('v1.2.3')).toBe('v1.2.3');
  });

  it('orders versions by major, minor, then patch', () => {
    const sorted = ['v1.10.0', 'v1.2.10', 'v2.0.0', 'v1.2.9', 'v0.9.9']
      .map((t) => parseReleaseTag(t))
      .sort(compareVersions)
      .map((r) => r.tag);
    expect(sorted).toEqual(['v0.9.9', 'v1.2.9', 'v1.2.10', 'v1.10.0', 'v2.0.0']);
  });
});

describe('checkVersion', () => {
  const pkg = (version: unknown) => JSON.stringify({ name: 'x', version });
  const lock = (top: unknown, inner: unknown) =>
    JSON.stringify({ version: top, packages: { '': { version: inner } } });

  it('passes when the tag, package.json and package-lock.json agree', () => {
    expect(checkVersion('v1.2.3', pkg('1.2.3'), lock('1.2.3', '1.2.3')).majorTag).toBe('v1');
  });

  it.each([
    [
      'package.json',
      pkg('1.2.4'),
      lock('1.2.3', '1.2.3'),
      /package\.json "version" is "1\.2\.4" but the tag v1\.2\.3/,
    ],
    ['package.json without a version', pkg(undefined), undefined, /package\.json "version" is undefined/],
    ['the lock file', pkg('1.2.3'), lock('1.2.2', '1.2.3'), /package-lock\.json "version" is "1\.2\.2"/],
    [
      'the lock file root package',
      pkg('1.2.3'),
      lock('1.2.3', '1.0.0'),
      /package-lock\.json "packages"\[""\]\.version is "1\.0\.0"/,
    ],
  ])('refuses a mismatch in %s, naming the fix', (_what, packageJson, packageLock, message) => {
    expect(() => checkVersion('v1.2.3', packageJson, packageLock)).toThrow(message);
    expect(() => checkVersion('v1.2.3', packageJson, packageLock)).toThrow(/Fix: /);
  });

  it('matches this repository: package.json and its lock name the same version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(
      checkVersion(
        `v${version}`,
        readFileSync('package.json', 'utf8'),
        readFileSync('package-lock.json', 'utf8'),
      ).version,
    ).toBe(version);
  });
});

describe('changelogSection', () => {
  const changelog = [
    '# Changelog',
    '',
    '## [Unreleased]',
    '',
    '### Added',
    '- not yet',
    '',
    '## [1.1.0] - 2026-03-04',
    '',
    '### Fixed',
    '- the [thing](https://example.com)',
    '',
    '## [1.0.0] - 2026-01-02',
    '',
    '### Added',
    '- everything',
    '',
    '## [0.9.0]',
    '',
    '- undated',
    '',
    '## [0.8.0] - 2025-01-01',
    '',
    '[Unreleased]: https://example.com/compare/v1.1.0...HEAD',
    '[1.1.0]: https://example.com/releases/tag/v1.1.0',
  ].join('\n');

  it('is the body of the dated heading, up to the next heading', () => {
    expect(changelogSection(changelog, '1.1.0')).toBe('### Fixed\n- the [thing](https://example.com)');
    expect(changelogSection(changelog, '1.0.0')).toBe('### Added\n- everything');
  });

  it.each([
    ['missing', '2.0.0', /no "## \[2\.0\.0\] - YYYY-MM-DD" section\. Fix: rename "## \[Unreleased\]"/],
    ['undated', '0.9.0', /"## \[0\.9\.0\]" heading has no date/],
    ['empty (up to the link references)', '0.8.0', /"## \[0\.8\.0\]" section is empty/],
    ['Unreleased, which is no version', 'Unreleased', /heading has no date/],
  ])('refuses a section that is %s', (_what, version, message) => {
    expect(() => changelogSection(changelog, version)).toThrow(message);
  });

  it('reads CRLF files', () => {
    expect(changelogSection(changelog.replace(/\n/g, '\r\n'), '1.0.0')).toBe('### Added\n- everything');
  });

  it("finds this repository's CHANGELOG.md section for package.json's version", () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const notes = changelogSection(readFileSync('CHANGELOG.md', 'utf8'), version);
    expect(notes).toMatch(/^### (Added|Changed|Deprecated|Removed|Fixed|Security)$/m);
    expect(notes).not.toMatch(/^## /m);
  });
});

describe('the release scripts in a git repository with fake tags', () => {
  let dir: string;
  let repo: string;
  let remote: string;
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
  const remoteTag = (name: string) =>
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `refs/tags/${name}^{commit}`], {
      cwd: remote,
      env,
      encoding: 'utf8',
    }).trim();
  /** A commit that sets package.json's version and the CHANGELOG section, its sha. */
  const release = (version: string, notes = `- change in ${version}`) => {
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'fake', version }, null, 2));
    writeFileSync(
      join(repo, 'package-lock.json'),
      JSON.stringify({
        name: 'fake',
        version,
        lockfileVersion: 3,
        packages: { '': { name: 'fake', version } },
      }),
    );
    const previous = (() => {
      try {
        return readFileSync(join(repo, 'CHANGELOG.md'), 'utf8').replace(
          /^# Changelog\n\n## \[Unreleased\]\n\n/,
          '',
        );
      } catch {
        return '';
      }
    })();
    writeFileSync(
      join(repo, 'CHANGELOG.md'),
      `# Changelog\n\n## [Unreleased]\n\n## [${version}] - 2026-01-01\n\n### Changed\n${notes}\n\n${previous}`,
    );
    git('add', '-A');
    git('commit', '-qm', `release ${version}`);
    return git('rev-parse', 'HEAD');
  };
  const script = (name: string, ...args: string[]) =>
    spawnSync(tsx, [join(root, 'scripts', 'release', `${name}.ts`), ...args], {
      cwd: repo,
      env,
      encoding: 'utf8',
    });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-test-'));
    repo = join(dir, 'repo');
    remote = join(dir, 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', remote], { env });
    execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
    git('remote', 'add', 'origin', remote);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('releases v1.0.0: the version checks, the notes are its section, v1 is created and pushed', () => {
    const sha = release('1.0.0');
    git('tag', 'v1.0.0');
    git('push', '-q', 'origin', 'main', 'v1.0.0');

    const check = script('check-version', 'v1.0.0', '--commit', sha);
    expect([check.status, check.stderr]).toEqual([0, '']);
    expect(check.stdout).toBe('tag=v1.0.0\nversion=1.0.0\nmajor-tag=v1\ntag-exists=true\n');

    const notes = script('changelog-section', 'v1.0.0');
    expect([notes.status, notes.stdout]).toEqual([0, '### Changed\n- change in 1.0.0\n']);

    const moved = script('move-major-tag', 'v1.0.0', '--push', 'origin');
    expect([moved.status, moved.stderr]).toEqual([0, '']);
    expect(moved.stdout).toBe(`v1 -> ${sha} (new; pushed to origin)\n`);
    expect(remoteTag('v1')).toBe(sha);
  });

  it('refuses a tag that package.json does not match, with the fix, and prints nothing for $GITHUB_OUTPUT', () => {
    const sha = git('rev-parse', 'HEAD');
    git('tag', 'v1.0.1');
    const check = script('check-version', 'v1.0.1', '--commit', sha);
    expect(check.status).toBe(1);
    expect(check.stdout).toBe('');
    expect(check.stderr).toMatch(
      /^package\.json "version" is "1\.0\.0" but the tag v1\.0\.1 releases 1\.0\.1\. Fix: /,
    );
    git('tag', '-d', 'v1.0.1');
  });

  it('a dispatch: the tag does not exist yet (tag-exists=false); the changelog lacks a version it is asked for', () => {
    const sha = release('1.1.0');
    const check = script('check-version', '1.1.0', '--commit', sha);
    expect([check.status, check.stdout]).toEqual([
      0,
      'tag=v1.1.0\nversion=1.1.0\nmajor-tag=v1\ntag-exists=false\n',
    ]);
    const notes = script('changelog-section', '9.9.9');
    expect(notes.status).toBe(1);
    expect(notes.stderr).toMatch(/CHANGELOG\.md has no "## \[9\.9\.9\] - YYYY-MM-DD" section/);
  });

  it('a dispatch from another commit than the existing tag names is refused', () => {
    const head = git('rev-parse', 'HEAD');
    expect(() => tagAt(repo, 'v1.0.0', head)).toThrow(
      /The tag v1\.0\.0 exists and names [0-9a-f]{40}, not [0-9a-f]{40}/,
    );
    expect(tagAt(repo, 'v1.1.0', head)).toBe(false);
  });

  it('v1.1.0 moves v1 forward; the remote follows', () => {
    const sha = git('rev-parse', 'HEAD');
    const before = remoteTag('v1');
    git('tag', 'v1.1.0');
    const moved = script('move-major-tag', 'v1.1.0', '--push', 'origin');
    expect([moved.status, moved.stdout]).toEqual([0, `v1 -> ${sha} (was ${before}; pushed to origin)\n`]);
    expect(remoteTag('v1')).toBe(sha);
  });

  it('re-running the older v1.0.0 is refused: v1 stays on v1.1.0, locally and on the remote', () => {
    const v110 = git('rev-parse', 'v1.1.0^{commit}');
    const moved = script('move-major-tag', 'v1.0.0', '--push', 'origin');
    expect(moved.status).toBe(1);
    expect(moved.stderr).toMatch(/^v1\.1\.0 is newer than v1\.0\.0, so v1 stays where it is\. Fix: /);
    expect(git('rev-parse', 'v1^{commit}')).toBe(v110);
    expect(remoteTag('v1')).toBe(v110);
  });

  it('v2.0.0 creates v2 and leaves v1 on the last 1.x release; re-running it changes nothing', () => {
    const v110 = git('rev-parse', 'v1.1.0^{commit}');
    const sha = release('2.0.0');
    git('tag', 'v2.0.0');
    expect(moveMajorTag(repo, 'v2.0.0', 'origin')).toEqual({ majorTag: 'v2', commit: sha });
    expect(moveMajorTag(repo, 'v2.0.0', 'origin')).toEqual({ majorTag: 'v2', commit: sha, previous: sha });
    expect(remoteTag('v2')).toBe(sha);
    expect(remoteTag('v1')).toBe(v110);
  });

  it('a tag that was never made, or is no release tag, is refused before anything moves', () => {
    expect(() => moveMajorTag(repo, 'v3.0.0')).toThrow(/There is no tag v3\.0\.0 .* Fix: fetch the tags/);
    expect(() => moveMajorTag(repo, 'v2')).toThrow(/not a release tag/);
    const bad = script('move-major-tag');
    expect([bad.status, bad.stderr]).toEqual([1, 'Usage: move-major-tag.ts vX.Y.Z [--push REMOTE]\n']);
  });
});

/**
 * release.yml's check job as the runner runs it: each `run:` step of the workflow file, by bash
 * with -eo pipefail, in a throw-away repository that has the release scripts and a bare "origin",
 * with the step's env: filled in from the event. Only the npm ci and dist build steps are left to CI.
 */
describe("release.yml's check job, step by step", () => {
  interface RunStep {
    name?: string;
    run?: string;
    env?: Record<string, string>;
  }
  const workflow = parse(readFileSync('.github/workflows/release.yml', 'utf8')) as {
    jobs: { check: { steps: RunStep[] } };
  };
  const stepNamed = (name: string): RunStep => {
    const found = workflow.jobs.check.steps.find((s) => s.name === name);
    if (!found?.run) throw new Error(`release.yml's check job has no run step named ${name}`);
    return found;
  };
  let dir: string;
  let repo: string;
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.invalid',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.invalid',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env, encoding: 'utf8' }).trim();
  const commit = (version: string) => {
    writeFileSync(join(repo, 'package.json'), JSON.stringify({ name: 'fake', version }));
    writeFileSync(
      join(repo, 'package-lock.json'),
      JSON.stringify({ version, packages: { '': { version } } }),
    );
    writeFileSync(
      join(repo, 'CHANGELOG.md'),
      `# Changelog\n\n## [Unreleased]\n\n## [${version}] - 2026-01-01\n\n### Fixed\n- ${version}: it works\n`,
    );
    git('add', '-A');
    git('commit', '-qm', version);
    return git('rev-parse', 'HEAD');
  };

  /** Runs the job's steps in order, as the runner does, until one fails; its outputs, parsed. */
  const runJob = (event: { version: string; sha: string }) => {
    const output = join(dir, `output-${event.version}-${event.sha.slice(0, 7)}`);
    writeFileSync(output, '');
    const outputs = () => {
      const text = readFileSync(output, 'utf8');
      const values: Record<string, string> = {};
      const heredoc = /^(\w[\w-]*)<<(\S+)\n([\s\S]*?)\n\2$/gm;
      for (const [, key, , value] of text.matchAll(heredoc)) values[key as string] = value as string;
      for (const [, key, value] of text.replace(heredoc, '').matchAll(/^([\w-]+)=(.*)$/gm))
        values[key as string] = value as string;
      return values;
    };
    // The expressions the steps' env: use, and what GitHub fills in for this event.
    const expressions = (): Record<string, string> => ({
      '${{ inputs.version || github.ref_name }}': event.version,
      '${{ github.event.repository.default_branch }}': 'main',
      '${{ steps.version.outputs.tag }}': outputs().tag ?? '',
      '${{ steps.version.outputs.tag-exists }}': outputs()['tag-exists'] ?? '',
    });
    const names = [
      'The tag matches package.json',
      'The commit is on the default branch',
      'Release notes from CHANGELOG.md',
      'The major tag may move to this release',
    ];
    for (const name of names) {
      const step = stepNamed(name);
      const stepEnv = Object.fromEntries(
        Object.entries(step.env ?? {}).map(([key, value]) => {
          const filled = expressions()[value];
          if (filled === undefined) throw new Error(`${name}: the test does not know ${value}`);
          return [key, filled];
        }),
      );
      const result = spawnSync(
        'bash',
        ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run as string],
        {
          cwd: repo,
          env: { ...env, ...stepEnv, GITHUB_SHA: event.sha, GITHUB_OUTPUT: output, RUNNER_TEMP: dir },
          encoding: 'utf8',
        },
      );
      if (result.status !== 0)
        return { failed: name, stdout: result.stdout, stderr: result.stderr, outputs: outputs() };
    }
    return { failed: undefined, outputs: outputs() };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'release-workflow-'));
    repo = join(dir, 'repo');
    execFileSync('git', ['init', '-q', '--bare', join(dir, 'origin.git')], { env });
    execFileSync('git', ['init', '-q', '-b', 'main', repo], { env });
    git('remote', 'add', 'origin', join(dir, 'origin.git'));
    execFileSync('mkdir', ['-p', join(repo, 'scripts', 'release')]);
    for (const file of ['lib.ts', 'check-version.ts', 'changelog-section.ts', 'move-major-tag.ts'])
      writeFileSync(
        join(repo, 'scripts', 'release', file),
        readFileSync(join(root, 'scripts', 'release', file)),
      );
    execFileSync('ln', ['-s', join(root, 'node_modules'), join(repo, 'node_modules')]);
    writeFileSync(join(repo, '.gitignore'), 'node_modules\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a pushed tag v1.0.0 on main: outputs the release and its notes, and v1 may move to it', () => {
    const sha = commit('1.0.0');
    git('tag', 'v1.0.0');
    git('push', '-q', 'origin', 'main', 'v1.0.0');
    git('fetch', '-q', 'origin');
    const job = runJob({ version: 'v1.0.0', sha });
    expect(job).toEqual({
      failed: undefined,
      outputs: {
        tag: 'v1.0.0',
        version: '1.0.0',
        'major-tag': 'v1',
        'tag-exists': 'true',
        notes: '### Fixed\n- 1.0.0: it works',
      },
    });
    expect(git('rev-parse', 'v1^{commit}')).toBe(sha);
  });

  it('a dispatch of 1.1.0 on main: the tag is still to be made (tag-exists=false); v1 may move', () => {
    const sha = commit('1.1.0');
    git('push', '-q', 'origin', 'main');
    git('fetch', '-q', 'origin');
    const job = runJob({ version: '1.1.0', sha });
    expect(job.failed).toBeUndefined();
    expect(job.outputs).toMatchObject({
      tag: 'v1.1.0',
      'tag-exists': 'false',
      notes: '### Fixed\n- 1.1.0: it works',
    });
    expect(git('rev-parse', 'v1^{commit}')).toBe(sha);
  });

  it('a tag on a commit that is not on main stops at the branch check, naming the fix', () => {
    git('checkout', '-q', '-b', 'side');
    const sha = commit('1.2.0');
    git('tag', 'v1.2.0');
    const job = runJob({ version: 'v1.2.0', sha });
    expect(job.failed).toBe('The commit is on the default branch');
    expect(job.stdout).toMatch(/^::error::[0-9a-f]{40} is not on main\. Fix: release a commit of main/);
    git('checkout', '-q', 'main');
    git('tag', '-d', 'v1.2.0');
  });

  it('a tag package.json does not match stops at the first step, with no outputs', () => {
    const sha = git('rev-parse', 'HEAD');
    const job = runJob({ version: 'v1.3.0', sha });
    expect(job.failed).toBe('The tag matches package.json');
    expect(job.stderr).toMatch(/package\.json "version" is "1\.1\.0" but the tag v1\.3\.0 releases 1\.3\.0/);
    expect(job.outputs).toEqual({});
  });

  it('re-running the older v1.0.0 stops at the major tag, which stays on v1.1.0', () => {
    const v110 = git('rev-parse', 'v1.1.0^{commit}');
    git('checkout', '-q', 'v1.0.0');
    const job = runJob({ version: 'v1.0.0', sha: git('rev-parse', 'HEAD') });
    expect(job.failed).toBe('The major tag may move to this release');
    expect(job.stderr).toMatch(/v1\.1\.0 is newer than v1\.0\.0, so v1 stays where it is/);
    expect(git('rev-parse', 'v1^{commit}')).toBe(v110);
    git('checkout', '-q', 'main');
  });
});
