// The platform a measurement is for: the first SUPPORTED_PLATFORM of a type, or an error listing what the file declares (FORMAT.md §4).
import { IgvmError } from '../errors.js';
import { platformTypeName } from '../spec/constants.js';
import type { IgvmFile, SupportedPlatform } from '../model.js';

/** The first platform header of `type`; IgvmError `code` ("the file declares no X platform (it declares …), so `consequence`") when none. */
export function firstPlatformOfType(file: IgvmFile, type: number, code: string, consequence: string): SupportedPlatform {
  const p = file.platforms.find((h) => h.platform_type === type);
  if (p !== undefined) return p;
  const declared = file.platforms.map((h) => `${platformTypeName(h.platform_type)} (mask 0x${h.compatibility_mask.toString(16)})`);
  throw new IgvmError(code, `the file declares no ${platformTypeName(type)} platform (it declares ${declared.length ? declared.join(', ') : 'no platform'}), so ${consequence}`);
}
