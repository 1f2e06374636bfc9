// Entry point of the tinydock binary. No top-level await: the binary is compiled to bytecode.
import { runCli } from "./cli/index.ts";

// The binary starts with JIT tier-up thresholds scaled up (Makefile, --compile-jit-policy): a
// command that is still running after its start (pull, build, logs -f, an attached run) gets the
// normal JIT back for its hot loops.
setTimeout(() => Bun.unsafe.setJITPolicy(1), 200).unref();

void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
