// The core library must run in browsers: no Node-only imports outside src/cli, src/io and src/examples.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './helpers.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('library modules import no node: built-ins and use no process/Buffer globals', () => {
  const allowed = ['src/cli/', 'src/io/', 'src/examples/'];
  const offenders: string[] = [];
  const files = sources(join(REPO_ROOT, 'src'));
  assert.ok(files.length > 20, 'found the source files');
  for (const f of files) {
    const rel = relative(REPO_ROOT, f);
    if (allowed.some((a) => rel.startsWith(a))) continue;
    const text = readFileSync(f, 'utf8');
    if (/from '(node:)?(fs|path|os|crypto|buffer|child_process|url|process)'/.test(text)) offenders.push(`${rel}: node import`);
    if (/\bprocess\.|\bBuffer\./.test(text)) offenders.push(`${rel}: Node global`);
    if (/from '\.\.?\/(\.\.\/)*(cli|io)\//.test(text)) offenders.push(`${rel}: imports a CLI/I-O module`);
  }
  assert.deepEqual(offenders, []);
});
