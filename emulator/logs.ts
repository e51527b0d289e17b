/**
 * Amazon CloudWatch Logs: log groups, log streams and their events, as the `awslogs` log driver
 * writes them for ECS tasks (`<awslogs-stream-prefix>/<container name>/<task id>` in
 * `awslogs-group`) and as GetLogEvents, FilterLogEvents and DescribeLogStreams read them back.
 * Timestamps are epoch milliseconds (numbers), as CloudWatch Logs sends them, on the emulated clock.
 */
import type { ContainerDefinition, TaskDefinition } from '@aws-sdk/client-ecs';
import type { FilteredLogEvent, LogGroup, LogStream, OutputLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import { decodeNextToken, encodeNextToken } from './context.js';
import type { EmulatorContext, Operation, ServiceEmulator } from './context.js';
import { AwsError, isRecord, optionalNumber, optionalString, optionalStringList } from './errors.js';

// ---------------------------------------------------------------- state

export interface LogsState {
  /** By log group name, in creation order. */
  groups: Map<string, LogGroupRecord>;
}

export interface LogGroupRecord {
  logGroupName: string;
  creationTime: number;
  streams: Map<string, LogStreamRecord>;
  tags: Record<string, string>;
}

export interface LogStreamRecord {
  logGroupName: string;
  logStreamName: string;
  creationTime: number;
  /** Sorted by (timestamp, seq): the order CloudWatch Logs returns them in. */
  events: LogEventRecord[];
  lastIngestionTime?: number;
}

export interface LogEventRecord {
  timestamp: number;
  message: string;
  ingestionTime: number;
  /** Ingestion order across the whole store: breaks ties between equal timestamps. */
  seq: number;
}

/** One line a container printed: its message and when (emulated epoch ms). */
export interface LogLine {
  timestamp: number;
  message: string;
}

// ---------------------------------------------------------------- awslogs streams

/** Where the `awslogs` driver writes a container's output: ECS's group and stream names. */
export function awslogsTarget(
  container: ContainerDefinition | undefined,
  taskId: string,
): { logGroupName: string; logStreamName: string } | undefined {
  const config = container?.logConfiguration;
  if (config?.logDriver !== 'awslogs') return undefined;
  const group = config.options?.['awslogs-group'];
  if (!group) return undefined;
  const prefix = config.options?.['awslogs-stream-prefix'];
  // Without a prefix ECS (Fargate requires one) names the stream after the container id; the task id stands in.
  const stream = prefix ? `${prefix}/${container?.name}/${taskId}` : taskId;
  return { logGroupName: group, logStreamName: stream };
}

export function containerDefinition(td: TaskDefinition, name: string): ContainerDefinition | undefined {
  return td.containerDefinitions?.find((c) => c.name === name);
}

// ---------------------------------------------------------------- tokens

/** 56 digits, like AWS's: 20 for the timestamp, 36 for the sequence. */
function key(timestamp: number, seq: number): string {
  return `${String(timestamp).padStart(20, '0')}${String(seq).padStart(36, '0')}`;
}

interface Cursor {
  direction: 'f' | 'b';
  timestamp: number;
  seq: number;
}

function encodeCursor(c: Cursor): string {
  return `${c.direction}/${key(c.timestamp, c.seq)}`;
}

function decodeCursor(token: string): Cursor | undefined {
  const m = /^([fb])\/(\d{20})(\d{36})$/.exec(token);
  if (!m) return undefined;
  return { direction: m[1] as 'f' | 'b', timestamp: Number(m[2]), seq: Number(m[3]) };
}

function compare(e: { timestamp: number; seq: number }, c: { timestamp: number; seq: number }): number {
  return e.timestamp - c.timestamp || e.seq - c.seq;
}

// ---------------------------------------------------------------- the service

const GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const STREAM_NAME = /^[^:*]{1,512}$/;
const MAX_EVENTS = 10_000;
/** PutLogEvents rejects events older than 14 days or more than 2 hours ahead. */
const TOO_OLD_MS = 14 * 24 * 3600 * 1000;
const TOO_NEW_MS = 2 * 3600 * 1000;

const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message);
const notFound = (message: string) => new AwsError('ResourceNotFoundException', message);

function validation(member: string, value: unknown, constraint: string): AwsError {
  return invalidParameter(
    `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A number member within [min, max], or the default. */
function boundedNumber(
  input: Record<string, unknown>,
  member: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const value = optionalNumber(input, member, 'InvalidParameterException');
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min)
    throw validation(member, value, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validation(member, value, `Member must have value less than or equal to ${max}`);
  return value;
}

export class LogsEmulator implements ServiceEmulator {
  readonly service = 'logs' as const;
  readonly targetPrefix = 'Logs_20140328';
  readonly signingNames = ['logs'] as const;
  readonly operations: Readonly<Record<string, Operation>>;
  private seq = 0;

  constructor(
    private readonly ctx: EmulatorContext,
    readonly state: LogsState,
  ) {
    this.operations = {
      CreateLogGroup: (i) => this.createLogGroup(i),
      CreateLogStream: (i) => this.createLogStream(i),
      DescribeLogGroups: (i) => this.describeLogGroups(i),
      DescribeLogStreams: (i) => this.describeLogStreams(i),
      PutLogEvents: (i) => this.putLogEvents(i),
      GetLogEvents: (i) => this.getLogEvents(i),
      FilterLogEvents: (i) => this.filterLogEvents(i),
    };
  }

  private now(): number {
    return this.ctx.scheduler.now();
  }

  groupArn(name: string): string {
    return `arn:aws:logs:${this.ctx.region}:${this.ctx.accountId}:log-group:${name}`;
  }

  // ------------------------------------------------------------------ writing (the awslogs driver)

  /** The stream, created (with its group) when missing, as the awslogs driver with awslogs-create-group does. */
  ensureStream(logGroupName: string, logStreamName: string): LogStreamRecord {
    let group = this.state.groups.get(logGroupName);
    if (!group) {
      group = { logGroupName, creationTime: this.now(), streams: new Map(), tags: {} };
      this.state.groups.set(logGroupName, group);
    }
    let stream = group.streams.get(logStreamName);
    if (!stream) {
      stream = { logGroupName, logStreamName, creationTime: this.now(), events: [] };
      group.streams.set(logStreamName, stream);
    }
    return stream;
  }

  /** Stores lines at the current emulated time as their ingestion time. */
  append(logGroupName: string, logStreamName: string, lines: readonly LogLine[]): void {
    const stream = this.ensureStream(logGroupName, logStreamName);
    const ingestionTime = this.now();
    for (const line of lines) {
      const event: LogEventRecord = {
        timestamp: Math.floor(line.timestamp),
        message: line.message,
        ingestionTime,
        seq: ++this.seq,
      };
      let at = stream.events.length;
      while (at > 0 && compare(stream.events[at - 1] as LogEventRecord, event) > 0) at -= 1;
      stream.events.splice(at, 0, event);
    }
    if (lines.length > 0) stream.lastIngestionTime = ingestionTime;
  }

  // ------------------------------------------------------------------ lookups

  /** `logGroupName` or `logGroupIdentifier` (a name or an ARN), exactly one of them. */
  private groupOf(input: Record<string, unknown>): LogGroupRecord {
    const name = optionalString(input, 'logGroupName', 'InvalidParameterException');
    const identifier = optionalString(input, 'logGroupIdentifier', 'InvalidParameterException');
    if (name !== undefined && identifier !== undefined) {
      throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    const ref = name ?? identifier;
    if (ref === undefined) {
      throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.');
    }
    const groupName = ref.startsWith('arn:')
      ? (/^arn:aws[\w-]*:logs:[^:]+:\d{12}:log-group:([^:]+)(?::\*)?$/.exec(ref)?.[1] ?? '')
      : ref;
    if (!GROUP_NAME.test(groupName)) {
      throw validation(
        name !== undefined ? 'logGroupName' : 'logGroupIdentifier',
        ref,
        'Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+',
      );
    }
    const group = this.state.groups.get(groupName);
    if (!group) throw notFound('The specified log group does not exist.');
    return group;
  }

  private streamName(input: Record<string, unknown>): string {
    const name = optionalString(input, 'logStreamName', 'InvalidParameterException');
    if (name === undefined) throw validation('logStreamName', null, 'Member must not be null');
    if (!STREAM_NAME.test(name)) {
      throw validation('logStreamName', name, 'Member must satisfy regular expression pattern: [^:*]*');
    }
    return name;
  }

  private streamOf(input: Record<string, unknown>): LogStreamRecord {
    const group = this.groupOf(input);
    const stream = group.streams.get(this.streamName(input));
    if (!stream) throw notFound('The specified log stream does not exist.');
    return stream;
  }

  // ------------------------------------------------------------------ groups and streams

  private createLogGroup(input: Record<string, unknown>): Record<string, never> {
    const name = optionalString(input, 'logGroupName', 'InvalidParameterException');
    if (name === undefined) throw validation('logGroupName', null, 'Member must not be null');
    if (!GROUP_NAME.test(name)) {
      throw validation(
        'logGroupName',
        name,
        'Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+',
      );
    }
    if (this.state.groups.has(name)) {
      throw new AwsError('ResourceAlreadyExistsException', 'The specified log group already exists');
    }
    const tags = isRecord(input.tags) ? (structuredClone(input.tags) as Record<string, string>) : {};
    this.state.groups.set(name, { logGroupName: name, creationTime: this.now(), streams: new Map(), tags });
    return {};
  }

  private createLogStream(input: Record<string, unknown>): Record<string, never> {
    const group = this.groupOf(input);
    const name = this.streamName(input);
    if (group.streams.has(name)) {
      throw new AwsError('ResourceAlreadyExistsException', 'The specified log stream already exists');
    }
    group.streams.set(name, {
      logGroupName: group.logGroupName,
      logStreamName: name,
      creationTime: this.now(),
      events: [],
    });
    return {};
  }

  private describeLogGroups(input: Record<string, unknown>): { logGroups: LogGroup[]; nextToken?: string } {
    const prefix = optionalString(input, 'logGroupNamePrefix', 'InvalidParameterException');
    const limit = boundedNumber(input, 'limit', 1, 50, 50);
    const groups = [...this.state.groups.values()]
      .filter((g) => prefix === undefined || g.logGroupName.startsWith(prefix))
      .sort((a, b) => (a.logGroupName < b.logGroupName ? -1 : a.logGroupName > b.logGroupName ? 1 : 0));
    const { items, nextToken } = this.page(groups, input, limit);
    return {
      logGroups: items.map((g) => ({
        logGroupName: g.logGroupName,
        creationTime: g.creationTime,
        metricFilterCount: 0,
        arn: `${this.groupArn(g.logGroupName)}:*`,
        logGroupArn: this.groupArn(g.logGroupName),
        storedBytes: 0,
        logGroupClass: 'STANDARD',
      })),
      nextToken,
    };
  }

  private describeLogStreams(input: Record<string, unknown>): {
    logStreams: LogStream[];
    nextToken?: string;
  } {
    const group = this.groupOf(input);
    const prefix = optionalString(input, 'logStreamNamePrefix', 'InvalidParameterException');
    const orderBy = optionalString(input, 'orderBy', 'InvalidParameterException') ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
      throw validation(
        'orderBy',
        orderBy,
        'Member must satisfy enum value set: [LogStreamName, LastEventTime]',
      );
    }
    if (orderBy === 'LastEventTime' && prefix !== undefined) {
      throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
    }
    const limit = boundedNumber(input, 'limit', 1, 50, 50);
    const last = (s: LogStreamRecord) => s.events.at(-1)?.timestamp ?? s.creationTime;
    const streams = [...group.streams.values()]
      .filter((s) => prefix === undefined || s.logStreamName.startsWith(prefix))
      .sort((a, b) =>
        orderBy === 'LastEventTime'
          ? last(a) - last(b)
          : a.logStreamName < b.logStreamName
            ? -1
            : a.logStreamName > b.logStreamName
              ? 1
              : 0,
      );
    if (input.descending === true) streams.reverse();
    const { items, nextToken } = this.page(streams, input, limit);
    return {
      logStreams: items.map((s) => ({
        logStreamName: s.logStreamName,
        creationTime: s.creationTime,
        firstEventTimestamp: s.events[0]?.timestamp,
        lastEventTimestamp: s.events.at(-1)?.timestamp,
        lastIngestionTime: s.lastIngestionTime,
        arn: `${this.groupArn(group.logGroupName)}:log-stream:${s.logStreamName}`,
        storedBytes: 0,
      })),
      nextToken,
    };
  }

  private page<T>(items: T[], input: Record<string, unknown>, limit: number) {
    const offset = decodeNextToken(input.nextToken);
    if (offset === undefined) throw invalidParameter('The specified nextToken is invalid.');
    const next = offset + limit;
    return {
      items: items.slice(offset, next),
      nextToken: next < items.length ? encodeNextToken(next) : undefined,
    };
  }

  // ------------------------------------------------------------------ events

  private putLogEvents(input: Record<string, unknown>): {
    nextSequenceToken: string;
    rejectedLogEventsInfo?: Record<string, number>;
  } {
    const stream = this.streamOf(input);
    const raw = input.logEvents;
    if (!Array.isArray(raw) || raw.length === 0) {
      throw validation(
        'logEvents',
        raw === undefined ? null : '[]',
        'Member must have length greater than or equal to 1',
      );
    }
    if (raw.length > MAX_EVENTS) {
      throw validation(
        'logEvents',
        `${raw.length} events`,
        `Member must have length less than or equal to ${MAX_EVENTS}`,
      );
    }
    const events = raw.map((e, i): LogLine => {
      if (
        !isRecord(e) ||
        typeof e.timestamp !== 'number' ||
        typeof e.message !== 'string' ||
        e.message === ''
      ) {
        throw invalidParameter(`logEvents[${i}] must have a numeric timestamp and a non-empty message.`);
      }
      return { timestamp: e.timestamp, message: e.message };
    });
    for (let i = 1; i < events.length; i++) {
      if ((events[i] as LogLine).timestamp < (events[i - 1] as LogLine).timestamp) {
        throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
      }
    }
    // Out-of-range events are skipped and reported by index, as CloudWatch Logs does.
    const now = this.now();
    const tooOld = events.findLastIndex((e) => e.timestamp < now - TOO_OLD_MS);
    const tooNew = events.findIndex((e) => e.timestamp > now + TOO_NEW_MS);
    const accepted = events.filter((e, i) => i > tooOld && (tooNew < 0 || i < tooNew));
    this.append(stream.logGroupName, stream.logStreamName, accepted);
    const rejected: Record<string, number> = {};
    if (tooOld >= 0) rejected.tooOldLogEventEndIndex = tooOld + 1;
    if (tooNew >= 0) rejected.tooNewLogEventStartIndex = tooNew;
    return {
      nextSequenceToken: key(now, this.seq),
      ...(Object.keys(rejected).length > 0 ? { rejectedLogEventsInfo: rejected } : {}),
    };
  }

  /** Events within [startTime, endTime), in stream order. */
  private inRange(events: LogEventRecord[], input: Record<string, unknown>): LogEventRecord[] {
    const start = optionalNumber(input, 'startTime', 'InvalidParameterException');
    const end = optionalNumber(input, 'endTime', 'InvalidParameterException');
    if (start !== undefined && start < 0)
      throw validation('startTime', start, 'Member must have value greater than or equal to 0');
    if (end !== undefined && end < 0)
      throw validation('endTime', end, 'Member must have value greater than or equal to 0');
    return events.filter(
      (e) => (start === undefined || e.timestamp >= start) && (end === undefined || e.timestamp < end),
    );
  }

  /**
   * A page of one stream. Without a token: the newest `limit` events (the oldest with
   * startFromHead). A forward token reads on after the page it came from, a backward token before
   * it; at either end the same token comes back, so a caller polling with nextForwardToken sees
   * new events as they arrive and otherwise its own token again.
   */
  private getLogEvents(input: Record<string, unknown>): {
    events: OutputLogEvent[];
    nextForwardToken: string;
    nextBackwardToken: string;
  } {
    const stream = this.streamOf(input);
    const limit = boundedNumber(input, 'limit', 1, MAX_EVENTS, MAX_EVENTS);
    const token = optionalString(input, 'nextToken', 'InvalidParameterException');
    const cursor = token === undefined ? undefined : decodeCursor(token);
    if (token !== undefined && !cursor) throw invalidParameter('The specified nextToken is invalid.');
    const events = this.inRange(stream.events, input);
    let page: LogEventRecord[];
    if (!cursor) {
      page = input.startFromHead === true ? events.slice(0, limit) : events.slice(-limit);
    } else if (cursor.direction === 'f') {
      page = events.filter((e) => compare(e, cursor) > 0).slice(0, limit);
    } else {
      page = events.filter((e) => compare(e, cursor) < 0).slice(-limit);
    }
    const first = page[0];
    const last = page.at(-1);
    const origin = { timestamp: 0, seq: 0 };
    let forward: Cursor;
    let backward: Cursor;
    if (first && last) {
      forward = { direction: 'f', timestamp: last.timestamp, seq: last.seq };
      backward = { direction: 'b', timestamp: first.timestamp, seq: first.seq };
    } else if (cursor?.direction === 'f') {
      forward = cursor;
      backward = { direction: 'b', timestamp: cursor.timestamp, seq: cursor.seq + 1 };
    } else if (cursor?.direction === 'b') {
      backward = cursor;
      forward = { direction: 'f', timestamp: cursor.timestamp, seq: Math.max(0, cursor.seq - 1) };
    } else {
      forward = { direction: 'f', ...origin };
      backward = { direction: 'b', ...origin };
    }
    return {
      events: page.map((e) => ({
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
      })),
      nextForwardToken: encodeCursor(forward),
      nextBackwardToken: encodeCursor(backward),
    };
  }

  /** Events of several streams, oldest first, optionally matching a filter pattern. */
  private filterLogEvents(input: Record<string, unknown>): {
    events: FilteredLogEvent[];
    searchedLogStreams: { logStreamName: string; searchedCompletely: boolean }[];
    nextToken?: string;
  } {
    const group = this.groupOf(input);
    const names = optionalStringList(input, 'logStreamNames', 'InvalidParameterException');
    const prefix = optionalString(input, 'logStreamNamePrefix', 'InvalidParameterException');
    if (names !== undefined && prefix !== undefined) {
      throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    }
    if (names !== undefined && (names.length < 1 || names.length > 100)) {
      throw validation(
        'logStreamNames',
        `${names.length} names`,
        'Member must have length between 1 and 100',
      );
    }
    const limit = boundedNumber(input, 'limit', 1, MAX_EVENTS, MAX_EVENTS);
    const matches = filterPattern(optionalString(input, 'filterPattern', 'InvalidParameterException') ?? '');
    const streams = [...group.streams.values()].filter(
      (s) =>
        (names === undefined || names.includes(s.logStreamName)) &&
        (prefix === undefined || s.logStreamName.startsWith(prefix)),
    );
    const all = streams
      .flatMap((s) => this.inRange(s.events, input).map((e) => ({ stream: s.logStreamName, e })))
      .filter(({ e }) => matches(e.message))
      .sort((a, b) => compare(a.e, b.e));
    const { items, nextToken } = this.page(all, input, limit);
    return {
      events: items.map(({ stream, e }) => ({
        logStreamName: stream,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: key(e.timestamp, e.seq),
      })),
      searchedLogStreams: streams.map((s) => ({ logStreamName: s.logStreamName, searchedCompletely: true })),
      nextToken,
    };
  }
}

/**
 * CloudWatch Logs' filter pattern for unstructured events: terms that must all appear
 * (case-sensitive), `"quoted phrases"`, `-term` that must not appear, and `?term ?term` of which
 * one must appear. JSON and space-delimited patterns (`{ … }`, `[ … ]`) are not emulated.
 */
export function filterPattern(pattern: string): (message: string) => boolean {
  const trimmed = pattern.trim();
  if (trimmed === '') return () => true;
  if (/^[{[]/.test(trimmed)) {
    throw invalidParameter('JSON and space-delimited filter patterns are not supported by this endpoint.');
  }
  const terms = [...trimmed.matchAll(/([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)].map((m) => ({
    op: m[1] as '' | '?' | '-',
    text: (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'),
  }));
  const required = terms.filter((t) => t.op === '').map((t) => t.text);
  const excluded = terms.filter((t) => t.op === '-').map((t) => t.text);
  const anyOf = terms.filter((t) => t.op === '?').map((t) => t.text);
  return (message) =>
    required.every((t) => message.includes(t)) &&
    !excluded.some((t) => message.includes(t)) &&
    (anyOf.length === 0 || anyOf.some((t) => message.includes(t)));
}
