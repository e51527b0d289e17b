/**
 * The Log the runner reads, for the main and the post step alike: the one place log lines
 * reach the runner (src/runner.ts). Every line goes through inertLines, so no text from an input, a file
 * or an AWS answer can ever be read by the runner as a workflow command.
 */
import * as core from './runner.js';
import type { Log } from './log.js';
import { inertLines } from './safe-text.js';

export const runnerLog: Log = {
  info: (m) => core.info(inertLines(m)),
  warning: (m) => core.warning(inertLines(m)),
  notice: (m) => core.notice(inertLines(m)),
  debug: (m) => core.debug(inertLines(m)),
  secret: (v) => core.setSecret(v),
};
