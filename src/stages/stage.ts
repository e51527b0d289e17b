/**
 * One stage of a run: the cancellation check before it starts (a wait inside it takes the
 * signal itself), its output in one log group, and its
 * timing for the summary. Every run goes through here, so the rule lives once.
 */
import { throwIfCancelled } from '../cancel.js';
import type { StageTimer } from '../report.js';
import type { RunDeps } from './deps.js';

export class Stages {
  constructor(
    readonly timer: StageTimer,
    private readonly deps: Pick<RunDeps, 'signal' | 'group'>,
  ) {}

  async run<T>(name: string, fn: () => Promise<T>, detail?: (value: T) => string | undefined): Promise<T> {
    throwIfCancelled(this.deps.signal);
    const grouped = this.deps.group ? () => this.deps.group!(name, fn) : fn;
    return this.timer.run(name, grouped, detail);
  }

  skip(name: string, why: string): void {
    this.timer.skip(name, why);
  }

  /** The check between two steps inside one stage (e.g. between two images). */
  check(): void {
    throwIfCancelled(this.deps.signal);
  }
}
