// The release command of example-app: what a deployment runs as a one-off ECS task (RunTask, with
// `command: ["node", "migrate.js"]` as the container override) before the new version takes traffic.
// The app keeps no database, so the migrations only say what they would do; what matters to the
// deployment is the contract every release command has: lines on stdout/stderr (CloudWatch Logs
// through the awslogs driver) and the exit code (0 lets the deployment go on, anything else stops it).
//
// To see a failed migration stop a deployment: `node migrate.js --fail`, or MIGRATE_FAIL=1 in the
// container's environment. MIGRATE_EXIT_CODE picks the exit code of that failure (default 1).
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const version = process.env.APP_VERSION || packageJson.version;
const migrations = ['001_create_visits_table', '002_add_version_to_visits'];
const fail = process.argv.includes('--fail') || process.env.MIGRATE_FAIL === '1';
const exitCode = Number(process.env.MIGRATE_EXIT_CODE || 1);
if (fail && (!Number.isInteger(exitCode) || exitCode < 1 || exitCode > 255)) {
  console.error(
    `MIGRATE_EXIT_CODE=${process.env.MIGRATE_EXIT_CODE} is not an exit code. Fix: set it to a number from 1 to 255.`,
  );
  process.exit(2);
}

console.log(`migrate: example-app ${version}: ${migrations.length} migrations to apply`);
for (const [index, name] of migrations.entries()) {
  if (fail && index === migrations.length - 1) {
    console.error(`migrate: ${name} failed: column "version" of relation "visits" already exists`);
    console.error(
      `migrate: stopped after ${index} of ${migrations.length} migrations; nothing after ${name} ran`,
    );
    process.exit(exitCode);
  }
  console.log(`migrate: applied ${name}`);
}
console.log('migrate: done, the database is at 002_add_version_to_visits');
