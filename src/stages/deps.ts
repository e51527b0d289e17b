/** What every run and stage is given: its clients and its side effects, as parameters. */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws.js';
import type { Failure } from '../deploy/failure.js';
import type { Clock } from '../clock.js';
import type { Docker } from '../docker.js';
import type { FileSystem } from '../fs.js';
import type { Log } from '../log.js';

export type { FileSystem } from '../fs.js';

export interface RunDeps {
  clients: AwsClients;
  docker: Docker;
  log: Log;
  clock: Clock;
  fs: FileSystem;
  setOutput(name: string, value: string): void;
  /** Hands facts to the post step (core.saveState): the registry to log out of, the deployment started, whether it settled. */
  saveState(name: 'registry' | 'deployment' | 'settled' | 'task' | 'task-settled', value: string): void;
  /** The run's cancellation (SIGINT/SIGTERM): checked between stages and inside every wait. */
  signal?: AbortSignal;
  /** Wraps one stage's output in a collapsible group of the runner's log (core.group). */
  group?<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Elastic Load Balancing, for routing previews (preview-listener-arn). */
  elbv2?: ElasticLoadBalancingV2Client;
}

/** @deprecated the old name; the same deps. */
export type PipelineDeps = RunDeps;

/** A deployment that ran and did not succeed: the report says why. */
export class DeploymentFailed extends Error {
  constructor(
    message: string,
    readonly diagnostics: string[],
    /** What failed and where production is now, when the strategy could tell. */
    readonly failure?: Failure,
  ) {
    super(message);
    this.name = 'DeploymentFailed';
  }
}
