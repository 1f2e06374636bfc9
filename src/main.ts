// Entry point of the tinydock binary. No top-level await: the binary is compiled to bytecode.
import { runCli } from "./cli/index.ts";

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
