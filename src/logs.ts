/**
 * Reading a container's CloudWatch Logs: where ECS writes them (the `awslogs` driver's group
 * and stream) and the lines since the last read. Self-contained (no other module of ours),
 * so the one-off task stage and the failure diagnostics share it.
 */
import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';

/** The `logConfiguration` of a container definition, as ECS answers it. */
export interface ContainerLogConfig {
  logDriver?: string;
  options?: Record<string, string>;
}

export interface LogStreamRef {
  group: string;
  stream: string;
  region?: string;
}

/** The task id: the last part of a task ARN (`arn:…:task/<cluster>/<id>`), or the id itself. */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/**
 * The stream ECS writes a container's output to with the awslogs driver:
 * `<awslogs-stream-prefix>/<container>/<task id>`, and without a prefix the task id. Undefined
 * for any other driver or without a group (nothing to read).
 */
export function awslogsStream(
  container: { name?: string; logConfiguration?: ContainerLogConfig },
  taskArn: string,
): LogStreamRef | undefined {
  const config = container.logConfiguration;
  const group = config?.options?.['awslogs-group'];
  if (config?.logDriver !== 'awslogs' || group === undefined || group === '') return undefined;
  const prefix = config.options?.['awslogs-stream-prefix'];
  const id = taskIdOf(taskArn);
  const stream = prefix ? `${prefix}/${container.name ?? ''}/${id}` : id;
  return { group, stream, region: config.options?.['awslogs-region'] };
}

/**
 * Follows one stream: each `read()` returns the events that arrived since the previous one
 * (every page, by nextForwardToken, until the token comes back unchanged). A stream that does
 * not exist yet (the container has not started) reads as empty.
 */
export class LogFollower {
  private token?: string;

  constructor(
    private readonly client: CloudWatchLogsClient,
    readonly ref: LogStreamRef,
    private readonly maxPages = 20,
  ) {}

  async read(): Promise<OutputLogEvent[]> {
    const events: OutputLogEvent[] = [];
    for (let page = 0; page < this.maxPages; page++) {
      let out;
      try {
        out = await this.client.send(
          new GetLogEventsCommand({
            logGroupName: this.ref.group,
            logStreamName: this.ref.stream,
            startFromHead: true,
            nextToken: this.token,
          }),
        );
      } catch (e) {
        if ((e as { name?: string }).name === 'ResourceNotFoundException') return events;
        throw e;
      }
      events.push(...(out.events ?? []));
      const next = out.nextForwardToken;
      const same = next === undefined || next === this.token;
      if (next !== undefined) this.token = next;
      if (same || (out.events ?? []).length === 0) break;
    }
    return events;
  }
}

/** The newest `limit` lines of a stream (one GetLogEvents call), oldest first; [] when it does not exist. */
export async function lastLogLines(
  client: CloudWatchLogsClient,
  ref: LogStreamRef,
  limit = 20,
): Promise<string[]> {
  try {
    const out = await client.send(
      new GetLogEventsCommand({ logGroupName: ref.group, logStreamName: ref.stream, limit }),
    );
    return (out.events ?? []).map((e) => e.message ?? '');
  } catch (e) {
    if ((e as { name?: string }).name === 'ResourceNotFoundException') return [];
    throw e;
  }
}
