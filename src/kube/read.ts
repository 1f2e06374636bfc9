// The YAML file of play kube: a path or stdin, at most 10 MB either way.
import fs from "node:fs";
import { InvalidArgumentError } from "../errors.ts";
import { MAX_KUBE_BYTES, parseKubeYaml, type KubeDocument } from "./yaml.ts";

export function readKubeFile(file: string, stdin?: string): KubeDocument[] {
  if (file === "-") {
    if ((stdin ?? "").length > MAX_KUBE_BYTES) throw new InvalidArgumentError(`Cannot read "stdin": larger than ${MAX_KUBE_BYTES} bytes`);
    return parseKubeYaml(stdin ?? "", "stdin");
  }
  let size: number;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new InvalidArgumentError(`Cannot read "${file}": not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw err;
    throw new InvalidArgumentError(`Cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (size > MAX_KUBE_BYTES) throw new InvalidArgumentError(`Cannot read "${file}": larger than ${MAX_KUBE_BYTES} bytes`);
  return parseKubeYaml(fs.readFileSync(file, "utf8"), file);
}
