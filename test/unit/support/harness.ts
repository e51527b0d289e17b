/**
 * PipelineDeps for runs on mocked AWS clients (aws-sdk-client-mock intercepts every client of
 * a class, so plain clients are enough): a recording Docker, an in-memory file system, and
 * the outputs, saved state and report a run produces.
 */
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import type { Clock } from '../../../src/clock.js';
import type { Docker } from '../../../src/docker.js';
import { MemoryLog } from '../../../src/log.js';
import type { PipelineDeps } from '../../../src/stages/deps.js';
import { type RunReport, StageTimer } from '../../../src/report.js';

const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };
const region = 'us-east-1';

export interface Harness {
  deps: PipelineDeps;
  log: MemoryLog;
  outputs: Record<string, string>;
  state: Record<string, string>;
  written: Record<string, string>;
  dockerCalls: string[][];
  timer: StageTimer;
  report: RunReport;
}

export function pipelineHarness(opts: {
  files?: Record<string, string>;
  clock: Clock;
  log?: MemoryLog;
  /** The digest `docker push` reports. */
  digest?: string;
  elbv2?: boolean;
  report?: Partial<RunReport>;
}): Harness {
  const files = opts.files ?? {};
  const written: Record<string, string> = {};
  const outputs: Record<string, string> = {};
  const state: Record<string, string> = {};
  const dockerCalls: string[][] = [];
  const digest = opts.digest ?? `sha256:${'c'.repeat(64)}`;
  const docker: Docker = {
    run: async (args) => {
      dockerCalls.push(args);
      // No buildx: the classic builder, then one push per tag.
      if (args[0] === 'buildx') return { exitCode: 1, stdout: '', stderr: 'not a docker command' };
      if (args[0] === 'push')
        return { exitCode: 0, stdout: `${args[1]}: digest: ${digest} size: 1`, stderr: '' };
      return { exitCode: 0, stdout: '', stderr: '' };
    },
  };
  const log = opts.log ?? new MemoryLog();
  const deps: PipelineDeps = {
    clients: {
      ecs: new ECSClient({ region, credentials }),
      ecr: new ECRClient({ region, credentials }),
      codedeploy: new CodeDeployClient({ region, credentials }),
      sts: new STSClient({ region, credentials }),
      iam: new IAMClient({ region, credentials }),
    },
    ...(opts.elbv2 && { elbv2: new ElasticLoadBalancingV2Client({ region, credentials }) }),
    docker,
    log,
    clock: opts.clock,
    fs: {
      realpath: async (f: string) => f,
      readFile: async (f) => {
        if (f in files) return files[f] as string;
        if (f in written) return written[f] as string;
        throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      },
      writeFile: async (f, d) => {
        written[f] = d;
      },
      mkdir: async () => undefined,
    },
    setOutput: (n, v) => {
      outputs[n] = v;
    },
    saveState: (n, v) => {
      state[n] = v;
    },
  };
  const timer = new StageTimer(() => 0);
  const report: RunReport = {
    ok: false,
    region,
    cluster: 'demo',
    images: [],
    diagnostics: [],
    stages: timer.stages,
    ...opts.report,
  };
  return { deps, log, outputs, state, written, dockerCalls, timer, report };
}
