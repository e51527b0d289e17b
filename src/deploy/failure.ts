/**
 * What a failed deployment means for the person reading the run, decided apart from the AWS
 * calls that found it out (pure). Every strategy's watch fills the same `Failure`; the stage
 * around it turns it into ONE annotation (the cause first, then where production is and how
 * the rollback ended), one log group and the summary's "What went wrong".
 */
import { shortTaskDefinition } from './history.js';

/** Why it failed, as far as the strategy can tell; each kind has its own sentence. */
export type FailureKind =
  'hook' | 'tasks' | 'circuit-breaker' | 'alarm' | 'timeout' | 'stopped' | 'replaced' | 'other';

/** How a rollback AWS made (CodeDeploy auto-rollback, the ECS circuit breaker, our own on timeout) ended. */
export interface RollbackOutcome {
  /** Who rolled back, for the sentence: 'the rollback deployment d-X', 'the circuit breaker's rollback'. */
  by: string;
  /** The rollback's own deployment id, when it has one. */
  id?: string;
  /** 'succeeded' once production is back; 'in-progress' when the wait ended first. */
  status: 'succeeded' | 'failed' | 'in-progress';
  /** The task definition the rollback returns to. */
  taskDefinitionArn?: string;
}

/** A stopped task of the failed deployment, for its container logs. */
export interface FailedTask {
  taskArn: string;
  taskDefinitionArn?: string;
  /** The containers that stopped (all of the task's when unknown). */
  containers: string[];
}

export interface Failure {
  kind: FailureKind;
  /** The cause in one sentence, without the production and rollback parts (those are added). */
  cause: string;
  /** The task definition this run deployed. */
  deployed?: string;
  /** The task definition production served before the deployment. */
  previous?: string;
  /** What production serves now, as read after the failure (and after the rollback ended). */
  production?: string;
  rollback?: RollbackOutcome;
  /** Stopped tasks of the deployment, newest last; container logs are read from these. */
  tasks: FailedTask[];
  /** What the service is to the reader: 'production' (default), 'the preview'. */
  subject?: string;
}

const short = (arn: string | undefined) => shortTaskDefinition(arn);

/** Production's state in words: "production still serves app:11", "production serves app:12". */
export function productionPhrase(
  f: Pick<Failure, 'production' | 'previous' | 'deployed' | 'subject'>,
): string | undefined {
  if (f.production === undefined) return undefined;
  const who = f.subject ?? 'production';
  if (f.previous !== undefined && f.production === f.previous)
    return `${who} still serves ${short(f.production)}`;
  if (f.deployed !== undefined && f.production === f.deployed) {
    return `${who} serves ${short(f.production)}, the new revision`;
  }
  return `${who} serves ${short(f.production)}`;
}

export function rollbackPhrase(r: RollbackOutcome | undefined): string | undefined {
  if (r === undefined) return undefined;
  const to = r.taskDefinitionArn ? ` to ${short(r.taskDefinitionArn)}` : '';
  switch (r.status) {
    case 'succeeded':
      return `${r.by}${to} succeeded`;
    case 'failed':
      return `${r.by}${to} failed too: check the service in the console`;
    default:
      return `${r.by}${to} was still running when the wait ended`;
  }
}

/** The one annotation: the cause, where production is, how the rollback ended. */
export function failureSentence(f: Failure): string {
  const parts = [f.cause.replace(/[.\s]+$/, ''), productionPhrase(f), rollbackPhrase(f.rollback)];
  return `${parts.filter((p) => p !== undefined && p !== '').join('; ')}.`;
}

/** The summary's headline: the state production is in now. */
export function productionHeadline(
  ok: boolean,
  f: Failure | undefined,
  deployed?: string,
): string | undefined {
  if (ok) return deployed ? `Production serves ${short(deployed)}.` : undefined;
  if (f === undefined) return undefined;
  if (f.rollback?.status === 'in-progress') {
    return `${capital(f.subject ?? 'production')} is being rolled back${f.rollback.taskDefinitionArn ? ` to ${short(f.rollback.taskDefinitionArn)}` : ''}; the rollback had not ended when the wait did.`;
  }
  const phrase = productionPhrase(f);
  if (phrase === undefined)
    return `${capital(f.subject ?? 'production')} state unknown: check the service in the console.`;
  const back = f.rollback?.status === 'succeeded' ? ' (rolled back)' : '';
  return `${capital(phrase)}${back}.`;
}

const capital = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/**
 * Service events that only report routine progress; a failure's detail leaves them out so
 * the events that explain it are seen.
 */
const ROUTINE_EVENTS: RegExp[] = [
  /has started \d+ tasks?/i,
  /has stopped \d+ running tasks?/i,
  /(registered|deregistered) \d+ targets?/i,
  /has reached a steady state/i,
  /has started an? \w+ service deployment/i,
  /has begun draining connections/i,
  /deployment (has )?completed\.?$/i,
  /updated computedDesiredCount/i,
];

export function isRoutineEvent(message: string): boolean {
  return ROUTINE_EVENTS.some((p) => p.test(message));
}

/** The hook's Lambda function, read from the deployed AppSpec (YAML or JSON). */
export function hookFunction(appSpec: string | undefined, event: string): string | undefined {
  if (appSpec === undefined) return undefined;
  const m = new RegExp(`["']?${event}["']?\\s*:\\s*["']?([A-Za-z0-9_:.\\-/]+)`).exec(appSpec);
  return m?.[1];
}

/** The hook's own words, without CodeDeploy's preamble that repeats the event name. */
export function hookMessage(message: string | undefined, fn: string | undefined): string {
  const text = (message ?? '').replace(
    /^The deployment failed because a specified lifecycle event hook failed:\s*/i,
    '',
  );
  const withoutName = fn ? text.replace(new RegExp(`^\\S+ \\(${escapeRe(fn)}\\)\\.?\\s*`), '') : text;
  return withoutName.trim() || 'no message';
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The cause of a failed lifecycle hook: "The AfterAllowTestTraffic hook fn failed: …". */
export function hookCause(event: string, fn: string | undefined, message: string | undefined): string {
  return `The ${event} hook${fn ? ` ${fn}` : ''} failed: ${hookMessage(message, fn)}`;
}

/** The cause when the new tasks stopped: the most common stop reason, named once. */
export function tasksCause(deployed: string | undefined, reason: string, count: number): string {
  const what = deployed ? `of ${short(deployed)} ` : '';
  return `${count === 1 ? 'A new task' : `${count} new tasks`} ${what}stopped: ${reason}`;
}
