// The one error class for malformed IGVM input (FORMAT.md §9: every parse error has a code, an offset and a field path).

export interface IgvmErrorDetails {
  /** Absolute file offset the problem is at, when known. */
  offset?: number;
  /** Field path, e.g. "directives[3].gpa" or "fixed_header.checksum". */
  path?: string;
  /** Name of the equivalent microsoft/igvm crate error, e.g. "InvalidBinaryDirectiveHeader(UnalignedAddress)". */
  crate?: string;
  /** File name, added by I/O layers. */
  file?: string;
}

export class IgvmError extends Error {
  readonly code: string;
  readonly offset: number | undefined;
  readonly path: string | undefined;
  readonly crate: string | undefined;
  file: string | undefined;

  constructor(code: string, message: string, details: IgvmErrorDetails = {}) {
    super(message);
    this.name = 'IgvmError';
    this.code = code;
    this.offset = details.offset;
    this.path = details.path;
    this.crate = details.crate;
    this.file = details.file;
  }

  /** One line for people: "file: offset 0x18 (path): message [code]". */
  describe(): string {
    const where: string[] = [];
    if (this.file !== undefined) where.push(this.file);
    if (this.offset !== undefined) where.push(`offset 0x${this.offset.toString(16)}`);
    if (this.path !== undefined) where.push(this.path);
    return `${where.length ? where.join(': ') + ': ' : ''}${this.message} [${this.code}]`;
  }
}

/** Runs `fn`; an IgvmError it throws that names no file yet is given `file` (the input being read), then rethrown. */
export function namingFile<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof IgvmError && e.file === undefined) e.file = file;
    throw e;
  }
}
