// Go's text/template as `docker inspect -f` and `docker ps --format` use it, with Docker's
// functions (json, join, split, lower, upper, title, truncate, pad) and its `table` directive.
// The lexer, parser, executor and functions live in ./template/; this is the entry point.
// As Docker's CLI does, a typed `\t` or `\n` in a format is a tab or a newline. A template that
// does not parse or fails to execute throws a one-line ParseError carrying Go's message.
import { ParseError } from "../errors.ts";
import { execute, TemplateExecError, type ExecOptions } from "./template/exec.ts";
import { FUNCS, HEADER_FUNCS } from "./template/funcs.ts";
import { TemplateSyntaxError } from "./template/lex.ts";
import { parseTemplate, type Tree } from "./template/parse.ts";
import { tabwrite } from "./template/table.ts";
import { goString as printValue, type Value } from "./template/value.ts";

export { tabwrite, DOCKER_TABS } from "./template/table.ts";

/** A template's failure: Go's text after the format it names, on one line. */
export class TemplateError extends ParseError {
  /** What the template wrote before an execution error. */
  readonly partial: string;
  constructor(message: string, partial = "") {
    super(message.replace(/[\r\n\t]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : "\\r")));
    this.partial = partial;
  }
}

/** Go's fmt %v of a value as text/template prints it. */
export function goString(v: unknown): string {
  return printValue(v);
}

export interface Template {
  (data: unknown): string;
}

export interface TemplateOptions {
  /** Go's missingkey=error: a missing map key fails instead of printing <no value>. */
  missingKeyError?: boolean;
}

const shown = (format: string) => format.replace(/[\r\n\t]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : "\\r"));
const hasFunc = (name: string) => Object.hasOwn(FUNCS, name);

// Compiled templates by format: `ps` renders one per row; a process sees few distinct formats.
const cache = new Map<string, Tree>();
const CACHE_LIMIT = 64;

function parse(format: string, text: string): Tree {
  const hit = cache.get(text);
  if (hit) return hit;
  let tree: Tree;
  try {
    tree = parseTemplate(text, hasFunc);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new TemplateError(`Cannot parse template "${shown(format)}": template: :${e.line}: ${e.reason}`);
    if (e instanceof RangeError) throw new TemplateError(`Cannot parse template "${shown(format)}": template: :1: max expression depth exceeded`);
    throw e;
  }
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, tree);
  return tree;
}

function run(format: string, tree: Tree, text: string, data: Value, opts: ExecOptions): string {
  try {
    return execute(tree, text, data, opts);
  } catch (e) {
    if (e instanceof TemplateExecError) throw new TemplateError(`Cannot execute template "${shown(format)}": ${e.message}`, e.partial);
    if (e instanceof RangeError) throw new TemplateError(`Cannot execute template "${shown(format)}": template: :1:0: executing "" at <>: ${e.message}`);
    throw e;
  }
}

/** Docker's reading of a typed format: `\t` and `\n` as a tab and a newline. */
const dockerText = (format: string) => format.replace(/\\t/g, "\t").replace(/\\n/g, "\n");

/** Compiles once (parse errors throw here); the result renders one object. */
export function compileTemplate(format: string, options: TemplateOptions = {}): Template {
  const text = dockerText(format);
  const tree = parse(format, text);
  const opts: ExecOptions = { missingKeyError: options.missingKeyError === true };
  return (data) => run(format, tree, text, data, opts);
}

/** A `table ...` format: Docker's formatter treats any format starting with "table" so. */
export const isTableFormat = (format: string): boolean => format.startsWith("table");

/**
 * Renders `table <template>` as Docker's formatter does: the header row is the template run over
 * `headers` (column name by field, e.g. {ID: "CONTAINER ID"}) with Docker's header functions, and
 * an error there only cuts the header short; then a row per item; all aligned by tabwrite.
 */
export function renderTable(format: string, headers: Record<string, string>, rows: unknown[]): string {
  const body = format.replace(/^table/, "").replace(/^ +| +$/g, "");
  const text = dockerText(body);
  const tree = parse(format, text);
  let header: string;
  try {
    header = execute(tree, text, headers, { funcs: HEADER_FUNCS });
  } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
    header = e.partial;
  }
  const lines = rows.map((r) => `${run(format, tree, text, r, {})}\n`).join("");
  return tabwrite(`${header}\n${lines}`);
}
