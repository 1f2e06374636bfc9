// The `--format` of Docker's listing commands (images, network ls, stats, …): "table" (the
// command's default columns), "table TEMPLATE" (Docker's header names above the rows), "json" (one
// object a line, as `{{json .}}`), or a Go template run once per row. Podman's --noheading drops
// the header row of a table.
import type * as TemplateModule from "./template.ts";
import { tabwrite } from "./template/table.ts";

// Loaded on first use: `info --format '{{.ServerVersion}}'` and plain tables print without the
// template engine.
const template = () => require("./template.ts") as typeof TemplateModule;

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
  const fields = simpleTableFields(format);
  // Plain text fields with headers: the cells go straight into the tabwriter, without the template
  // engine, whose first run in a fresh process costs more than the listing itself.
  if (fields && fields.every((f) => typeof l.headers[f] === "string") && rows.every((r) => fields.every((f) => typeof (r as Record<string, unknown>)[f] === "string"))) {
    const lines = rows.map((r) => fields.map((f) => (r as Record<string, string>)[f]).join("\t"));
    const header = fields.map((f) => l.headers[f]).join("\t");
    return tabwrite((l.noHeading ? lines : [header, ...lines]).map((x) => `${x}\n`).join(""));
  }
  const { compileTemplate, isTableFormat, renderTable } = template();
  if (isTableFormat(format)) {
    if (!l.noHeading) return renderTable(format, l.headers, [...rows]);
    // Without the header row, the columns are as wide as the rows alone need (podman's).
    const tpl = compileTemplate(format.replace(/^table/, "").replace(/^ +| +$/g, ""));
    return tabwrite(rows.map((r) => `${tpl(r)}\n`).join(""));
  }
  const tpl = compileTemplate(format);
  return rows.map((r) => `${tpl(r)}\n`).join("");
}

/** renderListing with the listing's parts as arguments (volume ls, system df, history). */
export function renderList(format: string | undefined, rows: object[], headers: Record<string, string>, defaultTable: string): string {
  return renderListing({ format, defaultTable, headers }, rows);
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

/** "table {{.A}}\t{{.B}}" (typed \t or a tab) → [A, B]; undefined for anything richer. */
function simpleTableFields(format: string): string[] | undefined {
  const m = /^table\s+((?:\{\{\.[A-Za-z]\w*\}\}(?:\\t|\t))*\{\{\.[A-Za-z]\w*\}\})$/.exec(format);
  return m ? [...m[1]!.matchAll(/\{\{\.(\w+)\}\}/g)].map((x) => x[1]!) : undefined;
}

/** docker/cli inspect.Inspect: StatusError 64 when the format is not a template. */
export const TEMPLATE_PARSE_EXIT = 64;

/**
 * Prints what an `inspect` found: Docker's indented JSON array, or with --format the template once
 * per object (one failing object is an error of its own; the others still print). Returns the
 * exit code given `code` so far; a format that does not parse is 64, as Docker's.
 */
export function printInspected(io: { out: (t: string) => void; err: (t: string) => void }, format: string | undefined, objects: unknown[], code: number): number {
  if (format === undefined || format === "") {
    io.out(`${JSON.stringify(objects, null, 4)}\n`);
    return code;
  }
  let tpl: (data: unknown) => string;
  try {
    tpl = format === "json" ? (o) => JSON.stringify(o) : template().compileTemplate(format);
  } catch (err) {
    io.err(`Error: ${(err as Error).message}\n`);
    return TEMPLATE_PARSE_EXIT;
  }
  let text = "";
  const failed: string[] = [];
  for (const o of objects) {
    try {
      text += `${tpl(o)}\n`;
    } catch (err) {
      failed.push((err as Error).message);
      code = 1;
    }
  }
  io.out(text);
  for (const f of failed) io.err(`Error: ${f}\n`);
  return code;
}
