// JSON view of the full model: every header field, with file data shown as {file_offset, size} references (FORMAT.md §3–§8).
import { sourceOffset, type AnyHeader, type IgvmFile } from '../model.js';

export interface DataRef {
  file_offset: number | undefined;
  size: number;
}

function ref(file: IgvmFile, data: Uint8Array | undefined): DataRef | undefined {
  if (!data) return undefined;
  return { file_offset: sourceOffset(file.source, data), size: data.length };
}

function headerJson(file: IgvmFile, h: AnyHeader): Record<string, unknown> {
  const out: Record<string, unknown> = { ...h };
  const rec = file.source?.records.get(h);
  if (rec) out['record_offset'] = rec.offset;
  if ('data' in h) out['data'] = ref(file, h.data);
  if (h.type === 'VP_CONTEXT') {
    const c = h.context;
    out['context'] = c.kind === 'vbs'
      ? { kind: c.kind, vtl: c.vtl, data: ref(file, c.data), registers: c.registers }
      : { kind: c.kind, data: ref(file, c.data) };
  }
  return out;
}

/** The whole model as plain data (bigints and small byte arrays are rendered by the JSON writer). */
export function modelToJson(file: IgvmFile): Record<string, unknown> {
  return {
    revision: file.revision,
    platforms: file.platforms.map((h) => headerJson(file, h)),
    initializations: file.initializations.map((h) => headerJson(file, h)),
    directives: file.directives.map((h) => headerJson(file, h)),
  };
}
