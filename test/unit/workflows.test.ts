import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

/**
 * The GitHub workflows in .github/workflows: every use of this action passes only inputs that
 * action.yml declares, and deploy.yml has what OIDC credentials and one-at-a-time deployments need,
 * consistent with the CloudFormation template it deploys to.
 */

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  'runs-on'?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string> | string;
  'timeout-minutes'?: number;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean } | string;
  jobs: Record<string, Job>;
}

const WORKFLOWS = '.github/workflows';
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
const workflows = new Map(
  files.map((f) => [f, parse(readFileSync(join(WORKFLOWS, f), 'utf8')) as Workflow] as const),
);
const action = parse(readFileSync('action.yml', 'utf8')) as {
  inputs: Record<string, { required?: boolean }>;
};
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
    Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((step) => ({ file, job, step }))),
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
  const found = job.steps.filter((s) => s.uses === './');
  expect(found).toHaveLength(1);
  return found[0] as Step;
}

describe('GitHub workflows', () => {
  it('are ci.yml, deploy.yml and preview.yml', () => {
    expect(files.sort()).toEqual(['ci.yml', 'deploy.yml', 'preview.yml']);
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

  it('pin every other action to a version', () => {
    for (const { file, step } of steps()) {
      if (step.uses === undefined || step.uses === './') continue;
      expect([file, step.uses]).toEqual([file, expect.stringMatching(/^[\w.-]+\/[\w./-]+@v?\d[\w.]*$/)]);
    }
  });

  it('give an OIDC token (id-token: write) to every job that assumes an AWS role, and to no other', () => {
    for (const [file, w] of workflows) {
      for (const [name, job] of Object.entries(w.jobs)) {
        const assumesRole = job.steps.some((s) =>
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
    const job = Object.values(ci.jobs)[0] as Job;

    it('runs on pushes and pull requests with read-only contents', () => {
      expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
      expect(ci.permissions).toEqual({ contents: 'read' });
      expect(Object.keys(ci.jobs)).toHaveLength(1);
    });

    it('checks out, sets up Node 20 with the npm cache, and runs .ci/run as root', () => {
      expect(job.steps.map((s) => s.uses ?? 'run')).toEqual([
        expect.stringMatching(/^actions\/checkout@/),
        expect.stringMatching(/^actions\/setup-node@/),
        'run',
      ]);
      expect(job.steps[1]?.with).toEqual({ 'node-version': 20, cache: 'npm' });
      expect(job.steps[2]?.run).toMatch(/^sudo .*\bbash \.ci\/run$/);
      expect(existsSync('.ci/run')).toBe(true);
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
      expect(job.environment).toBe('production');
    });

    it('assumes the role from the variables for an hour, within the role’s maximum and beyond the job’s timeout', () => {
      const credentials = job.steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
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
      expect(job.steps.indexOf(credentials as Step)).toBeLessThan(job.steps.indexOf(step));
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
      const checkout = job.steps.find((s) => s.uses?.startsWith('actions/checkout@'));
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
