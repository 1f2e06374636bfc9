// The checked reading of Kubernetes objects' fields: each value's type and range, the fields
// tinydock does not act on named in warnings, every refusal naming the file and the field's path.
import { InvalidArgumentError } from "../errors.ts";
import { RFC1123_LABEL } from "../network/service-rules.ts";

export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

export class Reader {
  constructor(
    readonly where: string,
    readonly warnings: string[],
    /** The document's text (KubeDocument.text). */
    readonly text = "",
  ) {}
  fail(path: string, why: string): never {
    // One line whatever the file holds: its names and keys' control characters shown escaped.
    const text = `${this.where}: ${path}: ${why}`.replace(/[\x00-\x1f\x7f]/g, (c) => JSON.stringify(c).slice(1, -1));
    throw new InvalidArgumentError(`Cannot play ${text}`);
  }
  /** The fields of `o` not in `known` are warned about (one line each). */
  known(o: Obj, path: string, known: string[]): void {
    for (const k of Object.keys(o)) if (!known.includes(k)) this.warnings.push(`${this.where}: ${path}${path ? "." : ""}${k}: unsupported field, ignored`);
  }
  obj(v: unknown, path: string, required = false): Obj | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, "required") : undefined;
    if (!isObj(v)) this.fail(path, "must be a mapping");
    return v;
  }
  list(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, "must be a list");
    return v;
  }
  str(v: unknown, path: string, required = false): string | undefined {
    if (v === undefined || v === null) return required ? this.fail(path, "required") : undefined;
    if (typeof v !== "string") this.fail(path, "must be a string");
    return v;
  }
  strs(v: unknown, path: string): string[] | undefined {
    if (v === undefined || v === null) return undefined;
    return this.list(v, path).map((x, i) => (typeof x === "string" ? x : typeof x === "number" ? String(x) : this.fail(`${path}[${i}]`, "must be a string")));
  }
  int(v: unknown, path: string, min: number, max: number): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) this.fail(path, `must be an integer from ${min} to ${max}`);
    return v;
  }
  /**
   * A file mode, 0 to 0777. kubectl reads YAML 1.1, where `0644` is octal; Bun reads YAML 1.2,
   * where it is 644: the document's text tells which was written, and Kubernetes' reading wins.
   */
  mode(v: unknown, path: string): number | undefined {
    const key = path.slice(path.lastIndexOf(".") + 1);
    if (typeof v === "number" && Number.isInteger(v) && /^[0-7]+$/.test(String(v)) && new RegExp(`(^|[\\s{,])${key}\\s*:\\s*0+${v}(?![0-9])`, "m").test(this.text)) {
      // In range as the API checks it: 04755 (setuid) is no more a mode here than 2541 is.
      return this.int(parseInt(String(v), 8), path, 0, 0o777);
    }
    return this.int(v, path, 0, 0o777);
  }
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") this.fail(path, "must be true or false");
    return v;
  }
  /** A quantity through its parser, its refusal named with the file and field. */
  quantity(parse: (v: unknown, what: string) => number, v: unknown, path: string): number {
    try {
      return parse(v, path);
    } catch (err) {
      return this.fail(path, (err as Error).message.replace(/^Cannot parse quantity \S+ /, "cannot parse quantity "));
    }
  }
  labels(v: unknown, path: string): Record<string, string> {
    const o = this.obj(v, path) ?? {};
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/.test(k)) this.fail(`${path}.${k}`, "not a valid label key");
      if (k.startsWith("io.tinydock.")) this.fail(`${path}.${k}`, "reserved for tinydock's own labels");
      out[k] = typeof x === "string" ? x : typeof x === "number" || typeof x === "boolean" ? String(x) : this.fail(`${path}.${k}`, "must be a string");
      // The API's rule for values: they end up in records, selectors and generated YAML.
      if (!/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/.test(out[k]!)) this.fail(`${path}.${k}`, "not a valid label value (at most 63 of [A-Za-z0-9._-], alphanumeric at both ends)");
    }
    return out;
  }
}

/** DNS-1123 names, as the API requires of pods, containers, services. */
export function checkName(r: Reader, name: string, path: string): string {
  if (!RFC1123_LABEL.test(name)) r.fail(path, `"${name}" is not a lowercase RFC 1123 name`);
  return name;
}

/** What the downward API (env fieldRef) may tell a container of its pod. */
export interface PodMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  /** spec.serviceAccountName (the API's "default" when absent). */
  serviceAccountName?: string;
}

/** The ConfigMaps and Secrets of the file, by name: what env and volumes may refer to. */
export interface Sources {
  configMaps: Map<string, Record<string, string>>;
  secrets: Map<string, Record<string, string>>;
  /** The bytes of volume files the pods read so far will write on the host. */
  fileBytes?: number;
  /** The mounts in the host's table they will make. */
  hostMounts?: number;
}
