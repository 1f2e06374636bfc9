// A tinydock root of its own with the busybox image pulled from a private registry, and static C
// helpers (test/helpers/*.c) built with musl-gcc for bind-mounting into containers: the setup the
// adversarial e2e files share.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildDefinition } from "../../images/build.ts";
import { BINARY, cliEnv, requireBinary, type CliEnv } from "./cli.ts";
import { pushImage } from "./image.ts";
import { startRegistry, type TestRegistry } from "./registry.ts";

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
  requireBinary();
  const reg: TestRegistry = await startRegistry();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const { image } = await buildDefinition(path.resolve(import.meta.dir, "../../images/busybox"));
    await pushImage(reg, "library/busybox", "latest", image);
    const env: CliEnv = { root: path.join(dir, "root"), config: path.join(dir, "config.json"), dockerConfig: path.join(dir, "docker") };
    fs.writeFileSync(env.config, JSON.stringify({ "registry-mirrors": [reg.url], "mirror-fallback": false }));
    const vars = cliEnv(env);
    const pull = Bun.spawnSync([BINARY, "pull", "-q", "busybox"], { env: vars, stdout: "pipe", stderr: "pipe" });
    if (pull.exitCode !== 0) throw new Error(`pull busybox: ${pull.stderr.toString()}`);
    return {
      env,
      dir,
      vars,
      helper(name) {
        const out = path.join(dir, name);
        const cc = Bun.spawnSync(["musl-gcc", "-static", "-Os", "-o", out, path.resolve(import.meta.dir, `${name}.c`)], { stderr: "pipe" });
        if (cc.exitCode !== 0) throw new Error(`musl-gcc ${name}.c: ${cc.stderr.toString()}`);
        return out;
      },
      async close() {
        await reg.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await reg.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
