// --label-file FILE: one label a line (k=v, or k alone for an empty value), `#` comments and blank
// lines skipped, as Docker's opts.ParseEnvFile reads it (without the env lookup). Pure.
import { ParseError } from "../errors.ts";

export function parseLabelFile(text: string, file: string): string[] {
  const out: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "").replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("=")) throw new ParseError(`Cannot parse label file "${file}": line ${i + 1}: no label name before "="`);
    if (!new TextEncoder().encode(line).every((b) => b !== 0)) throw new ParseError(`Cannot parse label file "${file}": line ${i + 1}: contains a NUL byte`);
    out.push(line);
  }
  return out;
}
