// Preloaded into the action by the benchmark (NODE_OPTIONS=--import): records the process's
// peak resident memory (KiB) in BENCH_MAXRSS_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_MAXRSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
