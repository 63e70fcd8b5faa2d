// Running the built `igvm` CLI as a child process for the CLI tests: exit status and both streams.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';

export const IGVM_CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `igvm ARGS…` with IGVMKIT_DEBUG unset (no stack traces), up to 256 MiB of output. */
export function runIgvm(args: readonly string[]): Run {
  const r = spawnSync(process.execPath, [IGVM_CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, IGVMKIT_DEBUG: '' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit status and the start of both streams, for assertion messages. */
export const runInfo = (r: Run): string => `exit ${r.status}\n--- stdout\n${r.stdout.slice(0, 3000)}\n--- stderr\n${r.stderr}`;
