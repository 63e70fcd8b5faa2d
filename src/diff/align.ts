// Alignment of two header lists on a per-header key (Myers O(ND) diff, unique-key anchors as fallback) for `igvm diff` (FORMAT.md §6: directive order).

/** One step of an alignment: a pair of headers with equal keys, or a header only in A (removed) or only in B (added). */
export type AlignOp = { op: 'same'; a: number; b: number } | { op: 'removed'; a: number } | { op: 'added'; b: number };

export interface AlignOptions {
  /** Largest edit distance searched with Myers before falling back to unique-key anchors (default 2000). */
  maxEdits?: number;
}

/**
 * Aligns `a` and `b` (lists of keys) as a shortest edit script: equal keys are paired in order, the rest is removed
 * (only in A) or added (only in B). Within each run of edits, removals come before additions.
 */
export function alignKeys(a: readonly string[], b: readonly string[], opts: AlignOptions = {}): AlignOp[] {
  const ids = new Map<string, number>();
  const intern = (k: string): number => {
    let id = ids.get(k);
    if (id === undefined) ids.set(k, (id = ids.size));
    return id;
  };
  const A = Int32Array.from(a, intern);
  const B = Int32Array.from(b, intern);
  const out: AlignOp[] = [];
  alignRange(A, 0, A.length, B, 0, B.length, opts.maxEdits ?? 2000, 2, out);
  return normalize(out);
}

function alignRange(A: Int32Array, a0: number, a1: number, B: Int32Array, b0: number, b1: number, maxD: number, depth: number, out: AlignOp[]): void {
  // Common prefix and suffix.
  while (a0 < a1 && b0 < b1 && A[a0] === B[b0]) out.push({ op: 'same', a: a0++, b: b0++ });
  let e0 = a1;
  let e1 = b1;
  while (e0 > a0 && e1 > b0 && A[e0 - 1] === B[e1 - 1]) {
    e0--;
    e1--;
  }
  const tail: AlignOp[] = [];
  for (let i = e0, j = e1; i < a1; i++, j++) tail.push({ op: 'same', a: i, b: j });
  if (a0 === e0 || b0 === e1) {
    for (let i = a0; i < e0; i++) out.push({ op: 'removed', a: i });
    for (let j = b0; j < e1; j++) out.push({ op: 'added', b: j });
  } else {
    const ops = myers(A, a0, e0 - a0, B, b0, e1 - b0, maxD);
    if (ops) out.push(...ops);
    else anchored(A, a0, e0, B, b0, e1, maxD, depth, out);
  }
  out.push(...tail);
}

/** Myers' greedy shortest edit script of A[a0, a0+n) and B[b0, b0+m), or undefined when more than maxD edits are needed. */
function myers(A: Int32Array, a0: number, n: number, B: Int32Array, b0: number, m: number, maxD: number): AlignOp[] | undefined {
  const limit = Math.min(n + m, maxD);
  const off = limit + 1;
  const v = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    trace.push(v.slice(off - d, off + d + 1));
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && A[a0 + x] === B[b0 + y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return backtrack(trace, d, n, m, a0, b0);
    }
  }
  return undefined;
}

function backtrack(trace: Int32Array[], D: number, n: number, m: number, a0: number, b0: number): AlignOp[] {
  const rev: AlignOp[] = [];
  let x = n;
  let y = m;
  for (let d = D; d > 0; d--) {
    const vp = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vp[k - 1 + d]! < vp[k + 1 + d]!);
    const pk = down ? k + 1 : k - 1;
    const px = vp[pk + d]!;
    const py = px - pk;
    const sx = down ? px : px + 1;
    const sy = down ? py + 1 : py;
    while (x > sx && y > sy) rev.push({ op: 'same', a: a0 + --x, b: b0 + --y });
    rev.push(down ? { op: 'added', b: b0 + py } : { op: 'removed', a: a0 + px });
    x = px;
    y = py;
  }
  while (x > 0 && y > 0) rev.push({ op: 'same', a: a0 + --x, b: b0 + --y });
  return rev.reverse();
}

/** Patience-style fallback: pair the keys unique in both ranges (longest increasing run), align the gaps between them. */
function anchored(A: Int32Array, a0: number, a1: number, B: Int32Array, b0: number, b1: number, maxD: number, depth: number, out: AlignOp[]): void {
  const countA = new Map<number, number>();
  const countB = new Map<number, number>();
  const posB = new Map<number, number>();
  for (let i = a0; i < a1; i++) countA.set(A[i]!, (countA.get(A[i]!) ?? 0) + 1);
  for (let j = b0; j < b1; j++) {
    countB.set(B[j]!, (countB.get(B[j]!) ?? 0) + 1);
    posB.set(B[j]!, j);
  }
  const pairs: [number, number][] = [];
  for (let i = a0; i < a1; i++) {
    const k = A[i]!;
    if (countA.get(k) === 1 && countB.get(k) === 1) pairs.push([i, posB.get(k)!]);
  }
  const anchors = depth > 0 ? longestIncreasing(pairs) : [];
  if (anchors.length === 0) {
    for (let i = a0; i < a1; i++) out.push({ op: 'removed', a: i });
    for (let j = b0; j < b1; j++) out.push({ op: 'added', b: j });
    return;
  }
  let i = a0;
  let j = b0;
  for (const [ai, bj] of anchors) {
    alignRange(A, i, ai, B, j, bj, maxD, depth - 1, out);
    out.push({ op: 'same', a: ai, b: bj });
    i = ai + 1;
    j = bj + 1;
  }
  alignRange(A, i, a1, B, j, b1, maxD, depth - 1, out);
}

/** The longest subsequence of `pairs` (sorted by first) whose second members increase. */
function longestIncreasing(pairs: readonly [number, number][]): [number, number][] {
  const tails: number[] = [];
  const prev = new Int32Array(pairs.length).fill(-1);
  for (let p = 0; p < pairs.length; p++) {
    const y = pairs[p]![1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]!]![1] < y) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[p] = tails[lo - 1]!;
    tails[lo] = p;
  }
  const outIdx: number[] = [];
  for (let p = tails.length ? tails[tails.length - 1]! : -1; p >= 0; p = prev[p]!) outIdx.push(p);
  return outIdx.reverse().map((p) => pairs[p]!);
}

/** Removals before additions inside every run of edits (so that runs of removed and added pages stay together). */
function normalize(ops: AlignOp[]): AlignOp[] {
  const out: AlignOp[] = [];
  let removed: AlignOp[] = [];
  let added: AlignOp[] = [];
  const flush = (): void => {
    out.push(...removed, ...added);
    removed = [];
    added = [];
  };
  for (const o of ops) {
    if (o.op === 'same') {
      flush();
      out.push(o);
    } else if (o.op === 'removed') removed.push(o);
    else added.push(o);
  }
  flush();
  return out;
}
