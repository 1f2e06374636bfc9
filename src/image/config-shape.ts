// The types of an image config's fields, checked once where the config enters (pull, load,
// import), so that nothing later meets an Env that is a string or a history entry that is null.
// Docker decodes the config into typed Go structs and refuses such a config in the same way (its
// StrSlice would also take a lone string for Cmd or Entrypoint; the readers of stored configs here
// take lists only, so that rare form is refused too). Pure.
import { DataLossError } from "../errors.ts";

/** A test of a field's value and what the field should be, for the message. */
type Check = [(v: unknown) => boolean, string];

const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);
const isStr = (v: unknown) => typeof v === "string";
const str: Check = [isStr, "a string"];
const num: Check = [(v) => typeof v === "number" && Number.isFinite(v), "a number"];
const bool: Check = [(v) => typeof v === "boolean", "true or false"];
const strList: Check = [(v) => Array.isArray(v) && v.every(isStr), "a list of strings"];
const mapOf = (each: (v: unknown) => boolean, what: string): Check => [(v) => obj(v) && Object.values(v).every((x) => x === null || each(x)), what];
const emptyObjects = mapOf(obj, "an object of objects");

/** Fields of `config` (ContainerConfig) as Docker's Go types hold them; null means unset in Go. */
const CONTAINER: Record<string, Check> = {
  User: str,
  Env: strList,
  Entrypoint: strList,
  Cmd: strList,
  Shell: strList,
  OnBuild: strList,
  WorkingDir: str,
  StopSignal: str,
  StopTimeout: num,
  ArgsEscaped: bool,
  Labels: mapOf(isStr, "an object of strings"),
  ExposedPorts: emptyObjects,
  Volumes: emptyObjects,
  Healthcheck: [(v) => obj(v) && fields(v, HEALTHCHECK) === null, "a health check"],
};
const HEALTHCHECK: Record<string, Check> = { Test: strList, Interval: num, Timeout: num, StartPeriod: num, StartInterval: num, Retries: num };
const TOP: Record<string, Check> = { created: str, author: str, variant: str, "os.version": str, docker_version: str };
const HISTORY: Record<string, Check> = { created: str, created_by: str, author: str, comment: str, empty_layer: bool };

function corrupt(what: string, reason: string): never {
  throw new DataLossError(`Cannot use ${what}: ${reason}`);
}

/** "Env is not a list of strings" for the first field of `o` neither null nor of its type. */
function fields(o: Record<string, unknown>, table: Record<string, Check>): string | null {
  for (const [key, [check, want]] of Object.entries(table)) {
    const v = o[key];
    if (v !== undefined && v !== null && !check(v)) return `${key} is not ${want}`;
  }
  return null;
}

/** Throws DataLossError naming the first field of `c` (a parsed config object) of the wrong type. */
export function checkConfigShape(c: Record<string, unknown>, what: string): void {
  const top = fields(c, TOP);
  if (top) corrupt(what, top);
  if (c.config !== undefined && c.config !== null) {
    if (!obj(c.config)) corrupt(what, "config is not an object");
    const bad = fields(c.config, CONTAINER);
    if (bad) corrupt(what, `config.${bad}`);
  }
  if (c.history !== undefined && c.history !== null) {
    if (!Array.isArray(c.history)) corrupt(what, "history is not a list");
    for (const [i, h] of c.history.entries()) {
      if (!obj(h)) corrupt(what, `history[${i}] is not an object`);
      const bad = fields(h, HISTORY);
      if (bad) corrupt(what, `history[${i}].${bad}`);
    }
  }
}
