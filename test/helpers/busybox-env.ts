// A tinydock root of its own with the busybox image pulled from a private registry (startE2e, on
// the host's network), and static C helpers (test/helpers/*.c) built with musl-gcc for
// bind-mounting into containers: the setup the adversarial e2e files share.
import path from "node:path";
import { cliEnv, type CliEnv } from "./cli.ts";
import { startE2e } from "./e2e.ts";

export interface BusyboxEnv {
  env: CliEnv;
  dir: string;
  /** The CLI's environment (cliEnv). */
  vars: Record<string, string>;
  /** Builds test/helpers/<name>.c static into the env's directory; returns its path. */
  helper(name: string): string;
  close(): Promise<void>;
}

export async function busyboxEnv(prefix: string): Promise<BusyboxEnv> {
  const e = await startE2e({ prefix, netns: false });
  return {
    env: e.env,
    dir: e.dir,
    vars: cliEnv(e.env),
    helper(name) {
      const out = path.join(e.dir, name);
      const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", out, path.resolve(import.meta.dir, `${name}.c`)], { stderr: "pipe" });
      if (cc.exitCode !== 0) throw new Error(`musl-gcc ${name}.c: ${cc.stderr.toString()}`);
      return out;
    },
    close: () => e.stop(),
  };
}
