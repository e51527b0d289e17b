/**
 * The narrow logging surface the stages use. `main` passes one backed by the runner protocol (runner-log.ts);
 * tests pass a recorder. Stages never write to the runner themselves, so they stay
 * testable and their output is easy to assert.
 */
export interface Log {
  info(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  debug(message: string): void;
  /** Marks a value (a password, a token) so the runner masks it in all later output. */
  secret(value: string): void;
}

/** A Log that keeps every line, for tests and for building summaries. */
export class MemoryLog implements Log {
  readonly lines: string[] = [];
  readonly secrets: string[] = [];
  info(m: string): void {
    this.lines.push(m);
  }
  warning(m: string): void {
    this.lines.push(`warning: ${m}`);
  }
  notice(m: string): void {
    this.lines.push(`notice: ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  secret(v: string): void {
    this.secrets.push(v);
  }
  text(): string {
    return this.lines.join('\n');
  }
}
