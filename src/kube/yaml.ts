// Kubernetes YAML files: multi-document (`---`), parsed with Bun's YAML parser one document at a
// time so that an error names the file and line. Refused before parsing: files over 10 MB; after:
// documents whose aliases expand past a node budget (the "billion laughs" shape).
import { ParseError } from "../errors.ts";

export const MAX_KUBE_BYTES = 10 * 1024 * 1024;
/** Nodes a document may expand to (aliases counted each time they are used). */
export const MAX_KUBE_NODES = 100_000;

export interface KubeDocument {
  /** The document's first line in the file (1-based). */
  line: number;
  value: unknown;
  /** Its text: how a value was written, where YAML 1.1 (kubectl's) reads it otherwise than Bun. */
  text?: string;
}

/** The documents of one file, empty ones (comments only, a trailing `---`) left out. */
export function parseKubeYaml(text: string, file: string): KubeDocument[] {
  if (text.length > MAX_KUBE_BYTES) throw new ParseError(`Cannot parse "${file}": larger than ${MAX_KUBE_BYTES} bytes`);
  const lines = text.split("\n");
  const docs: { start: number; body: string[] }[] = [{ start: 1, body: [] }];
  lines.forEach((l, i) => {
    if (/^---(\s.*)?$/.test(l)) docs.push({ start: i + 2, body: [] });
    else if (/^\.\.\.\s*$/.test(l)) return;
    else docs.at(-1)!.body.push(l);
  });
  const out: KubeDocument[] = [];
  for (const d of docs) {
    const body = d.body.join("\n");
    if (!body.split("\n").some((l) => l.trim() !== "" && !l.trim().startsWith("#"))) continue;
    let value: unknown;
    try {
      value = Bun.YAML.parse(body);
    } catch (err) {
      const e = err as { message?: string };
      const at = d.start + failingLine(d.body);
      throw new ParseError(`Cannot parse "${file}:${at}": ${(e.message ?? String(err)).replace(/^YAML Parse error: /, "").split("\n")[0]}`);
    }
    if (countNodes(value, MAX_KUBE_NODES) > MAX_KUBE_NODES) {
      throw new ParseError(`Cannot parse "${file}:${d.start}": the document expands to more than ${MAX_KUBE_NODES} nodes (aliases?)`);
    }
    if (value === null || value === undefined) continue;
    out.push({ line: d.start, value, text: body });
  }
  return out;
}

/**
 * Bun's parser names no line: the first line whose prefix of the document no longer parses (a
 * scan, for documents of up to 2000 lines; else the document's first line).
 */
function failingLine(body: string[]): number {
  if (body.length > 2000) return 0;
  for (let k = 1; k <= body.length; k++) {
    try {
      Bun.YAML.parse(body.slice(0, k).join("\n"));
    } catch {
      return k - 1;
    }
  }
  return 0;
}

/** Nodes as a walk sees them (a shared alias counted at each use), stopping past `budget`. */
function countNodes(v: unknown, budget: number): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length && n <= budget) {
    const x = stack.pop();
    n++;
    if (Array.isArray(x)) for (const y of x) stack.push(y);
    else if (x !== null && typeof x === "object") for (const y of Object.values(x)) stack.push(y);
  }
  return n;
}
