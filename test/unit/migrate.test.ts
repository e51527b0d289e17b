/** example-app/migrate.js, the release command a deployment runs as a one-off task: its lines and exit codes. */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';

function migrate(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['example-app/migrate.js', ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', APP_VERSION: 'v2', ...env },
  });
  return { code: r.status, stdout: r.stdout.trim().split('\n'), stderr: r.stderr.trim() };
}

describe('example-app/migrate.js', () => {
  it('applies its migrations, says so line by line, and exits 0', () => {
    expect(migrate([])).toEqual({
      code: 0,
      stdout: [
        'migrate: example-app v2: 2 migrations to apply',
        'migrate: applied 001_create_visits_table',
        'migrate: applied 002_add_version_to_visits',
        'migrate: done, the database is at 002_add_version_to_visits',
      ],
      stderr: '',
    });
  });

  it.each([
    ['--fail', [['--fail'], {}], 1],
    ['MIGRATE_FAIL=1', [[], { MIGRATE_FAIL: '1' }], 1],
    ['MIGRATE_EXIT_CODE=7', [['--fail'], { MIGRATE_EXIT_CODE: '7' }], 7],
  ] as const)('fails the last migration with %s', (_how, [args, env], code) => {
    const r = migrate([...args], { ...env });
    expect(r.code).toBe(code);
    expect(r.stdout).toEqual([
      'migrate: example-app v2: 2 migrations to apply',
      'migrate: applied 001_create_visits_table',
    ]);
    expect(r.stderr).toContain('migrate: 002_add_version_to_visits failed:');
  });

  it('refuses an exit code that is not one, naming the variable and the fix', () => {
    const r = migrate(['--fail'], { MIGRATE_EXIT_CODE: '0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('MIGRATE_EXIT_CODE=0 is not an exit code. Fix: set it to a number from 1 to 255.');
  });
});
