// igvmgen's measurement file (json.dump, indent 2, ensure_ascii) and the Python repr it prints (IGVMGEN.md §11).

const SVN_KEY = 'x-ms-sevsnpvm-guestsvn';
const LD_KEY = 'x-ms-sevsnpvm-launchmeasurement';

/** Python json.dumps string encoding with ensure_ascii: everything outside printable ASCII as \uXXXX. */
function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i] ?? '';
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** The measurement JSON: two keys, indent 2, no trailing newline. */
export function measurementJson(svn: string, launchDigestHex: string): string {
  return `{\n  ${pyJsonString(SVN_KEY)}: ${pyJsonString(svn)},\n  ${pyJsonString(LD_KEY)}: ${pyJsonString(launchDigestHex)}\n}`;
}

/** Characters Python's str.isprintable() rejects: categories Cc, Cf, Cs, Co, Cn, Zl, Zp, and Zs other than space. */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;

/** Python repr() of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (NON_PRINTABLE.test(ch)) {
      if (cp < 0x100) out += '\\x' + cp.toString(16).padStart(2, '0');
      else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
      else out += '\\U' + cp.toString(16).padStart(8, '0');
    } else out += ch;
  }
  return out + quote;
}

/** What the original prints after writing the measurement file: the Python repr of the dict, plus a newline. */
export function measurementRepr(svn: string, launchDigestHex: string): string {
  return `{${pyRepr(SVN_KEY)}: ${pyRepr(svn)}, ${pyRepr(LD_KEY)}: ${pyRepr(launchDigestHex)}}\n`;
}
