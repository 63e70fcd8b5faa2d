// Node worker_threads pool for batched page SHA-384 (HashProvider.sha384Pages), synchronous via SharedArrayBuffer + Atomics.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { setHashProvider, type HashProvider } from '../crypto/hash.js';
import { CTRL, ENTRY_WORDS, STAGING_ID, type HashWorkerInit } from './hash-worker.js';
import { NODE_HASH, nodeSha384 } from './node-hash.js';

/** Batches smaller than this are hashed in the calling thread: waking the workers would cost more than it saves. */
export const INLINE_BELOW = 512;
/** Table entries per job (a longer batch is split into several jobs). */
const TABLE_ENTRIES = 8192;
/** Staging buffer for pages not in a SharedArrayBuffer (copied in by the pool), 16 MiB. */
const STAGING_BYTES = 16 << 20;
/** SharedArrayBuffers the workers keep a reference to at most (the oldest is dropped first). */
const MAX_SHARED = 16;
/** How long to wait for the workers to start, and for a job without any progress, before giving up on them. */
const START_TIMEOUT_MS = 5_000;
const STALL_TIMEOUT_MS = 30_000;
const U32 = 2 ** 32;

/** A batch handed to the pool: its pages, the digests found so far, and the page index of each entry of its job. */
interface Batch {
  pages: readonly Uint8Array[];
  digests: Uint8Array[];
  next: number;
  /** Page index per table entry of the running job; undefined when no job of this batch runs. */
  entries: number[] | undefined;
}

function sharedBuffer(p: Uint8Array): SharedArrayBuffer | undefined {
  return typeof SharedArrayBuffer !== 'undefined' && p.buffer instanceof SharedArrayBuffer ? p.buffer : undefined;
}

/** process.execArgv without --input-type, which a worker (loaded from a file) refuses to start with (`node --input-type=module -e`). */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--input-type') i++;
    else if (!a.startsWith('--input-type=')) out.push(a);
  }
  return out;
}

/** A fixed set of hash workers sharing a control word array, a job table, a digest area and a staging buffer. */
class HashPool {
  private workers: Worker[] | undefined;
  private ports: MessagePort[] = [];
  private broken = false;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(CTRL.WORDS * 4));
  private readonly table = new Uint32Array(new SharedArrayBuffer(TABLE_ENTRIES * ENTRY_WORDS * 4));
  private readonly out = new Uint8Array(new SharedArrayBuffer(TABLE_ENTRIES * 48));
  private staging: Uint8Array | undefined;
  /** SharedArrayBuffers made known to the workers, oldest first, with their ids. */
  private readonly shared = new Map<SharedArrayBuffer, number>();
  private nextId = STAGING_ID + 1;
  private running: Batch | undefined;

  constructor(readonly size: number) {}

  /** 'idle' before the first big batch, 'running' once the workers started, 'unavailable' when they cannot be used. */
  get state(): 'idle' | 'running' | 'unavailable' {
    return this.broken ? 'unavailable' : this.workers === undefined ? 'idle' : 'running';
  }

  /** Start hashing `pages`; the returned function waits for the digests. */
  start(pages: readonly Uint8Array[]): () => Uint8Array[] {
    this.finishRunning();
    if (pages.length < INLINE_BELOW || !this.ensureWorkers()) {
      const digests = pages.map(nodeSha384);
      return () => digests;
    }
    const batch: Batch = { pages, digests: new Array<Uint8Array>(pages.length), next: 0, entries: undefined };
    this.running = batch;
    this.dispatch(batch);
    return () => {
      if (this.running === batch) this.finishRunning();
      return batch.digests;
    };
  }

  /** Wait for the running batch: its current job, then each remaining job in turn. */
  private finishRunning(): void {
    const batch = this.running;
    if (batch === undefined) return;
    try {
      for (;;) {
        if (batch.entries !== undefined) this.collect(batch);
        if (batch.next >= batch.pages.length) break;
        this.dispatch(batch);
      }
    } finally {
      this.running = undefined;
    }
  }

  /** Fill the table from `batch.next` (in place for SharedArrayBuffer pages, else via staging) and start the workers. */
  private dispatch(batch: Batch): void {
    const { pages, digests } = batch;
    const table = this.table;
    const entries: number[] = [];
    const used = new Set<number>([STAGING_ID]);
    let staged = 0;
    let i = batch.next;
    for (; i < pages.length && entries.length < TABLE_ENTRIES; i++) {
      const p = pages[i]!;
      const sab = sharedBuffer(p);
      let id: number | undefined;
      let offset: number;
      if (sab !== undefined && p.byteOffset + p.length < U32) {
        id = this.bufferId(sab, used);
        if (id === undefined) break; // this job already names MAX_SHARED buffers: the next job takes it
        used.add(id);
        offset = p.byteOffset;
      } else if (p.length <= STAGING_BYTES) {
        if (staged + p.length > STAGING_BYTES) break; // the next job takes it
        this.staging ??= new Uint8Array(new SharedArrayBuffer(STAGING_BYTES));
        this.staging.set(p, staged);
        id = STAGING_ID;
        offset = staged;
        staged += p.length;
      } else {
        digests[i] = nodeSha384(p); // bigger than the staging buffer: hash it here
        continue;
      }
      const e = entries.length * ENTRY_WORDS;
      table[e] = id;
      table[e + 1] = offset;
      table[e + 2] = p.length;
      entries.push(i);
    }
    batch.next = i;
    if (entries.length === 0) return;
    batch.entries = entries;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.COUNT, entries.length);
    Atomics.store(ctrl, CTRL.NEXT, 0);
    Atomics.store(ctrl, CTRL.FINISHED, 0);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);
  }

  /** Wait until every worker finished the current job and take its digests. */
  private collect(batch: Batch): void {
    const entries = batch.entries!;
    batch.entries = undefined;
    const ctrl = this.ctrl;
    const n = this.workers!.length;
    let stalled = 0;
    let progress = Atomics.load(ctrl, CTRL.NEXT);
    for (let f = Atomics.load(ctrl, CTRL.FINISHED); f < n && !this.broken; f = Atomics.load(ctrl, CTRL.FINISHED)) {
      if (Atomics.wait(ctrl, CTRL.FINISHED, f, 1000) !== 'timed-out') continue;
      const now = Atomics.load(ctrl, CTRL.NEXT);
      stalled = now === progress ? stalled + 1000 : 0;
      progress = now;
      if (stalled >= STALL_TIMEOUT_MS) {
        this.abandon();
        break;
      }
    }
    if (Atomics.exchange(ctrl, CTRL.ERROR, 0) !== 0) this.abandon();
    const failed = this.broken; // then this job is hashed here, and every later batch too
    const out = this.out;
    for (let j = 0; j < entries.length; j++) {
      const i = entries[j]!;
      batch.digests[i] = failed ? nodeSha384(batch.pages[i]!) : out.slice(j * 48, j * 48 + 48);
    }
  }

  /**
   * The id under which the workers know `sab`, posting it to them first if needed (and dropping the oldest buffer not
   * named by the job being built, `used`); undefined when every known buffer is in use.
   */
  private bufferId(sab: SharedArrayBuffer, used: ReadonlySet<number>): number | undefined {
    const known = this.shared.get(sab);
    if (known !== undefined) return known;
    if (this.shared.size >= MAX_SHARED) {
      let victim: SharedArrayBuffer | undefined;
      for (const [b, id] of this.shared) {
        if (used.has(id)) continue;
        victim = b;
        break;
      }
      if (victim === undefined) return undefined;
      const id = this.shared.get(victim)!;
      this.shared.delete(victim);
      for (const port of this.ports) port.postMessage({ drop: id });
    }
    const id = this.nextId++;
    this.shared.set(sab, id);
    // postMessage queues synchronously; a worker reads its port (receiveMessageOnPort) when it wakes for the job.
    for (const port of this.ports) port.postMessage({ id, buffer: sab });
    return id;
  }

  /** Start the workers on first use and wait for them; false when they cannot run (then batches are hashed here). */
  private ensureWorkers(): boolean {
    if (this.workers !== undefined) return !this.broken;
    if (this.broken) return false;
    const script = new URL('./hash-worker.js', import.meta.url);
    if (script.protocol !== 'file:' || !existsSync(fileURLToPath(script))) {
      this.broken = true;
      return false;
    }
    this.staging ??= new Uint8Array(new SharedArrayBuffer(STAGING_BYTES));
    const workers: Worker[] = [];
    this.workers = workers;
    try {
      for (let k = 0; k < this.size; k++) {
        const { port1, port2 } = new MessageChannel();
        const init: HashWorkerInit = {
          igvmkitHashWorker: true,
          ctrl: this.ctrl.buffer as SharedArrayBuffer,
          table: this.table.buffer as SharedArrayBuffer,
          out: this.out.buffer as SharedArrayBuffer,
          staging: this.staging.buffer as SharedArrayBuffer,
          port: port2,
        };
        const w = new Worker(script, { workerData: init, transferList: [port2], execArgv: workerExecArgv() });
        w.on('error', () => this.abandon());
        w.on('exit', () => this.abandon());
        w.unref();
        port1.unref();
        workers.push(w);
        this.ports.push(port1);
      }
    } catch {
      this.abandon();
      return false;
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let r = Atomics.load(this.ctrl, CTRL.READY); r < workers.length; r = Atomics.load(this.ctrl, CTRL.READY)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        this.abandon();
        return false;
      }
      Atomics.wait(this.ctrl, CTRL.READY, r, left);
    }
    return true;
  }

  /** Give up on the workers: later batches are hashed in the calling thread. */
  private abandon(): void {
    if (this.broken) return;
    this.broken = true;
    for (const w of this.workers ?? []) void w.terminate().catch(() => undefined);
    for (const p of this.ports) p.close();
  }
}

/** The node:crypto provider plus `sha384Pages` on a worker pool. */
export interface ParallelHashProvider extends HashProvider {
  /** Worker threads of the pool (started on the first batch of at least INLINE_BELOW pages). */
  readonly workers: number;
  /** 'idle' until the first batch of at least INLINE_BELOW pages starts the workers; 'unavailable' if they could not. */
  readonly state: 'idle' | 'running' | 'unavailable';
  sha384Pages(pages: readonly Uint8Array[]): Uint8Array[];
  startSha384Pages(pages: readonly Uint8Array[]): () => Uint8Array[];
}

/** One pool per worker count, shared by every provider made for that count. */
const pools = new Map<number, HashPool>();

/** The node:crypto provider with page batches hashed by `workers` threads (default os.availableParallelism()). */
export function parallelNodeHash(opts: { workers?: number } = {}): ParallelHashProvider {
  const n = opts.workers ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new RangeError(`the hash worker count must be an integer from 1 to 256, got ${n}`);
  let p = pools.get(n);
  if (p === undefined) pools.set(n, (p = new HashPool(n)));
  return {
    ...NODE_HASH,
    name: `node:crypto, ${n} hash worker${n === 1 ? '' : 's'}`,
    workers: n,
    get state() {
      return p.state;
    },
    sha384Pages: (pages) => p.start(pages)(),
    startSha384Pages: (pages) => p.start(pages),
  };
}

/** Make the library hash with node:crypto, page batches on a worker pool (see parallelNodeHash). */
export function installParallelNodeHash(opts: { workers?: number } = {}): ParallelHashProvider {
  const provider = parallelNodeHash(opts);
  setHashProvider(provider);
  return provider;
}
