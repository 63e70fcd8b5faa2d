// One-shot child process for the benchmark: read an IGVM file, run validateIgvm = parse + validate (or, with --dump, the igvmgen
// dump), print a one-line summary. Exit 0 when the file is valid (or dumped), 1 when it has errors, 2 on usage errors.
// Timed by bench/run.ts as a whole process (node start-up included), so it does not depend on any CLI's output format.
import { readFileSync } from 'node:fs';
import { validateIgvm } from '../src/validate/index.js';

const args = process.argv.slice(2);
const dump = args.includes('--dump');
const file = args.find((a) => !a.startsWith('--'));
if (file === undefined) {
  process.stderr.write('usage: node dist/bench/validate-once.js FILE [--dump]\n');
  process.exit(2);
}

const buffer = readFileSync(file);
// a view, not a copy (the baseline process does not copy either)
const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
if (dump) {
  const modulePath = '../src/igvmgen/dump.js';
  const { dumpIgvmgen } = (await import(modulePath)) as { dumpIgvmgen: (b: Uint8Array) => string };
  const text = dumpIgvmgen(bytes);
  process.stdout.write(`dumped ${bytes.length} bytes: ${text.length} characters\n`);
} else {
  // validateIgvm parses the file (the crate's rules) and then runs the spec rules: parse + validate in one pass.
  const result = validateIgvm(bytes);
  const model = result.file;
  const headers = model ? model.platforms.length + model.initializations.length + model.directives.length : 0;
  process.stdout.write(`${file}: ${headers} headers, ${result.errors} errors, ${result.warnings} warnings\n`);
  process.exitCode = result.valid ? 0 : 1;
}
