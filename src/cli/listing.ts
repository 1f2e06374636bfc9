// `--format` of the listing verbs (volume ls, system df, history…), as Docker's formatter reads
// it: absent or "table" is the verb's default table, "json" one JSON object per line, "table …" a
// Go template with Docker's header row, anything else a Go template per row.
import type * as TemplateModule from "./template.ts";

// Loaded on first use: `info --format '{{.ServerVersion}}'` prints without the template engine.
const template = () => require("./template.ts") as typeof TemplateModule;

export function renderList(format: string | undefined, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  const f = format === undefined || format === "" || format === "table" ? defaultTable : format;
  if (f === "json") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  const { compileTemplate, isTableFormat, renderTable } = template();
  if (isTableFormat(f)) return renderTable(f, headers, rows);
  const tpl = compileTemplate(f);
  return rows.map((r) => `${tpl(r)}\n`).join("");
}

/** One object (version, info, an inspected volume): "json" is its JSON on one line. */
export function renderOne(format: string, value: object): string {
  if (format === "json") return `${JSON.stringify(value)}\n`;
  // `{{.Field}}` of a string, a safe integer or a boolean prints as Go's %v would, engine or not.
  const field = /^\{\{ *\.([A-Za-z_][A-Za-z0-9_]*) *\}\}$/.exec(format)?.[1];
  if (field !== undefined && Object.hasOwn(value, field)) {
    const v = (value as Record<string, unknown>)[field];
    if (typeof v === "string" || typeof v === "boolean" || Number.isSafeInteger(v)) return `${String(v)}\n`;
  }
  return `${template().compileTemplate(format)(value)}\n`;
}
