/**
 * The GitHub runner's side of the protocol, the few parts the action uses: workflow commands
 * on stdout (`::name key=value::message`), the GITHUB_OUTPUT / GITHUB_STATE / step summary
 * files, and STATE_<name> in the post step. Written here rather than imported from
 * @actions/core because that package also loads an HTTP client (for OIDC tokens, which this
 * action never asks for), and loading it was a fifth of the action's start-up time and
 * memory. Same names and signatures as @actions/core, so callers read the same.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';

export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
}

/** A command's message: % and line breaks are escaped, so one command is one line. */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value: as a message, and also the `:` and `,` that delimit properties. */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One workflow command line; properties without a value are left out. */
export function commandLine(name: string, properties: Record<string, unknown>, message: string): string {
  const props = Object.entries(properties)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',');
  return `::${name}${props ? ` ${props}` : ''}::${escapeData(message)}`;
}

function issue(name: string, message = '', properties: Record<string, unknown> = {}): void {
  process.stdout.write(commandLine(name, properties, message) + EOL);
}

function annotation(p: AnnotationProperties): Record<string, unknown> {
  return {
    title: p.title,
    file: p.file,
    line: p.startLine,
    endLine: p.endLine,
    col: p.startColumn,
    endColumn: p.endColumn,
  };
}

export function info(message: string): void {
  process.stdout.write(message + EOL);
}
export function debug(message: string): void {
  issue('debug', message);
}
export function notice(message: string, properties: AnnotationProperties = {}): void {
  issue('notice', message, annotation(properties));
}
export function warning(message: string, properties: AnnotationProperties = {}): void {
  issue('warning', message, annotation(properties));
}
export function error(message: string, properties: AnnotationProperties = {}): void {
  issue('error', message, annotation(properties));
}
export function setSecret(secret: string): void {
  issue('add-mask', secret);
}
export function isDebug(): boolean {
  return process.env.RUNNER_DEBUG === '1';
}
export function setFailed(message: string): void {
  process.exitCode = 1;
  error(message);
}

export async function group<T>(name: string, fn: () => Promise<T>): Promise<T> {
  issue('group', name);
  try {
    return await fn();
  } finally {
    issue('endgroup');
  }
}

/**
 * `name<<delimiter` … `delimiter` in the runner's file; the delimiter is random, so no value
 * can end the entry early (and one that contains it is refused).
 */
export function keyValueEntry(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`The value of ${name} contains the runner's delimiter; it was not written.`);
  }
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}`;
}

function fileCommand(
  variable: 'GITHUB_OUTPUT' | 'GITHUB_STATE',
  command: string,
  name: string,
  value: string,
): void {
  const file = process.env[variable];
  if (file) appendFileSync(file, keyValueEntry(name, value) + EOL, 'utf8');
  // Outside a runner (or an old one): the command form.
  else issue(command, value, { name });
}

export function setOutput(name: string, value: string): void {
  fileCommand('GITHUB_OUTPUT', 'set-output', name, value);
}
export function saveState(name: string, value: string): void {
  fileCommand('GITHUB_STATE', 'save-state', name, value);
}
export function getState(name: string): string {
  return process.env[`STATE_${name}`] ?? '';
}

/** The job summary: markdown appended to the step's summary file. */
export const summary = {
  addRaw(text: string) {
    return {
      async write(): Promise<void> {
        const file = process.env.GITHUB_STEP_SUMMARY;
        if (!file) throw new Error('GITHUB_STEP_SUMMARY is not set, so there is no job summary to write.');
        appendFileSync(file, text, 'utf8');
      },
    };
  },
};
