// The `--format` of Docker's listing commands (images, network ls, stats, …): "table" (the
// command's default columns), "table TEMPLATE" (Docker's header names above the rows), "json" (one
// object a line, as `{{json .}}`), or a Go template run once per row. Podman's --noheading drops
// the header row of a table.
import { compileTemplate, isTableFormat, renderTable } from "./template.ts";

export interface Listing {
  /** The user's --format, or undefined for the default table. */
  format: string | undefined;
  /** The command's default table, a `table …` template (Docker's defaultXTableFormat). */
  defaultTable: string;
  /** Column header by field name (Docker's SubHeaderContext). */
  headers: Record<string, string>;
  noHeading?: boolean;
}

export function renderListing(l: Listing, rows: readonly unknown[]): string {
  const format = l.format === undefined || l.format === "" || l.format === "table" ? l.defaultTable : l.format;
  if (format === "json") return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  if (isTableFormat(format)) {
    const text = renderTable(format, l.headers, [...rows]);
    return l.noHeading ? text.slice(text.indexOf("\n") + 1) : text;
  }
  const tpl = compileTemplate(format);
  return rows.map((r) => `${tpl(r)}\n`).join("");
}
