// `--format` of the listing verbs (volume ls, system df, history…), as Docker's formatter reads
// it: absent or "table" is the verb's default table, "json" one JSON object per line, "table …" a
// Go template with Docker's header row, anything else a Go template per row.
import { compileTemplate, isTableFormat, renderTable } from "./template.ts";

export function renderList(format: string | undefined, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  const f = format === undefined || format === "" || format === "table" ? defaultTable : format;
  if (f === "json") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  if (isTableFormat(f)) return renderTable(f, headers, rows);
  const tpl = compileTemplate(f);
  return rows.map((r) => `${tpl(r)}\n`).join("");
}

/** One object (version, info, an inspected volume): "json" is its JSON on one line. */
export function renderOne(format: string, value: object): string {
  if (format === "json") return `${JSON.stringify(value)}\n`;
  return `${compileTemplate(format)(value)}\n`;
}
