// Baseline for the igvmgen bench: node start-up, read a file and SHA-384 it (what any tool must at least do).
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: hash-once FILE');
process.stdout.write(createHash('sha384').update(readFileSync(file)).digest('hex') + '\n');
