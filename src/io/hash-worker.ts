// Worker thread of the SHA-384 page pool (src/io/parallel-hash.ts): hashes the pages a shared job table names.
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { isMainThread, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';

/** Words of the control Int32Array shared by the pool and its workers. */
export const CTRL = {
  /** Job generation: bumped (and notified) by the pool to start a job. */
  GEN: 0,
  /** Table entries of the current job. */
  COUNT: 1,
  /** Next table entry to claim (workers take CHUNK entries at a time). */
  NEXT: 2,
  /** Workers done with the current job; the last one notifies. */
  FINISHED: 3,
  /** Workers started (each adds 1 and notifies). */
  READY: 4,
  /** Set to 1 by a worker that failed to hash an entry: the pool then hashes the job itself. */
  ERROR: 5,
  WORDS: 8,
} as const;
/** Uint32 words per table entry: buffer id, byte offset, byte length. */
export const ENTRY_WORDS = 3;
/** Buffer id of the staging buffer (pages copied in by the pool). */
export const STAGING_ID = 0;
/** Entries a worker claims at once. */
const CHUNK = 16;

/** What the pool hands each worker. */
export interface HashWorkerInit {
  igvmkitHashWorker: true;
  ctrl: SharedArrayBuffer;
  table: SharedArrayBuffer;
  out: SharedArrayBuffer;
  staging: SharedArrayBuffer;
  /** Receives { id, buffer } (a SharedArrayBuffer that table entries may name) and { drop: id }, read synchronously. */
  port: MessagePort;
}

type BufferMessage = { id: number; buffer: SharedArrayBuffer } | { drop: number };

type OneShot = (alg: string, data: Uint8Array, enc: 'binary') => string;
const oneShot = (nodeCrypto as { hash?: OneShot }).hash;

function run(init: HashWorkerInit): void {
  const ctrl = new Int32Array(init.ctrl);
  const table = new Uint32Array(init.table);
  const out = new Uint8Array(init.out);
  const buffers = new Map<number, Uint8Array>([[STAGING_ID, new Uint8Array(init.staging)]]);

  const hashInto = (data: Uint8Array, at: number): void => {
    if (oneShot) {
      const s = oneShot('sha384', data, 'binary');
      for (let i = 0; i < 48; i++) out[at + i] = s.charCodeAt(i);
    } else out.set(createHash('sha384').update(data).digest(), at);
  };

  const job = (): void => {
    for (let m = receiveMessageOnPort(init.port); m !== undefined; m = receiveMessageOnPort(init.port)) {
      const msg = m.message as BufferMessage;
      if ('drop' in msg) buffers.delete(msg.drop);
      else buffers.set(msg.id, new Uint8Array(msg.buffer));
    }
    const count = Atomics.load(ctrl, CTRL.COUNT);
    for (let start = Atomics.add(ctrl, CTRL.NEXT, CHUNK); start < count; start = Atomics.add(ctrl, CTRL.NEXT, CHUNK)) {
      const end = Math.min(count, start + CHUNK);
      for (let j = start; j < end; j++) {
        const e = j * ENTRY_WORDS;
        const buf = buffers.get(table[e]!);
        const off = table[e + 1]!;
        if (buf === undefined) throw new Error(`hash worker: unknown buffer ${table[e]!}`);
        hashInto(buf.subarray(off, off + table[e + 2]!), j * 48);
      }
    }
  };

  // Read the generation before reporting ready: the pool may start the first job as soon as all workers are.
  let gen = Atomics.load(ctrl, CTRL.GEN);
  Atomics.add(ctrl, CTRL.READY, 1);
  Atomics.notify(ctrl, CTRL.READY);
  for (;;) {
    Atomics.wait(ctrl, CTRL.GEN, gen);
    const now = Atomics.load(ctrl, CTRL.GEN);
    if (now === gen) continue;
    gen = now;
    try {
      job();
    } catch {
      Atomics.store(ctrl, CTRL.ERROR, 1);
    }
    // The pool sets up the next job only after every worker finished this one, so none can miss a generation.
    if (Atomics.add(ctrl, CTRL.FINISHED, 1) + 1 >= Atomics.load(ctrl, CTRL.READY)) Atomics.notify(ctrl, CTRL.FINISHED);
  }
}

const init = workerData as Partial<HashWorkerInit> | null;
if (!isMainThread && init?.igvmkitHashWorker === true) run(init as HashWorkerInit);
