// Public parsing entry points (FORMAT.md §9): strict parse (the crate's verdict) and lenient read.
import type { IgvmFile } from '../model.js';
import { readIgvm } from './parse.js';

/** Parse an IGVM file as the microsoft/igvm crate does; throws IgvmError on the first error. */
export function parseIgvm(bytes: Uint8Array): IgvmFile {
  const { file } = readIgvm(bytes, true);
  if (!file) throw new Error('unreachable: strict read returned no file without an error');
  return file;
}

export { readIgvm };
