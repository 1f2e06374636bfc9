// A Ctx for in-process tests: its own storage root and config, fast retries, the real Sys.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createContext, DEFAULT_CONFIG_VALUES, type Ctx, type EngineConfig } from "../../src/context.ts";
import { linuxSys } from "../../src/sys/linux.ts";

export interface TestEnv {
  ctx: Ctx;
  root: string;
  dockerConfig: string;
  dir: string;
  cleanup(): void;
}

export function testContext(config: Partial<EngineConfig> = {}, overrides: Partial<Ctx> = {}): TestEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-test-"));
  const root = path.join(dir, "tinydock-root");
  const dockerConfig = path.join(dir, "docker");
  const ctx = createContext({
    // Its own exec root too: host-wide records (owners, address claims, port locks) of tests running
    // side by side stay apart; a test of two roots on one host passes a shared execRoot itself.
    env: { TINYDOCK_ROOT: root, TINYDOCK_CONFIG: path.join(dir, "none.json"), TINYDOCK_EXEC_ROOT: path.join(dir, "exec"), DOCKER_CONFIG: dockerConfig, HOME: dir },
    sys: linuxSys(),
    overrides: {
      config: { ...DEFAULT_CONFIG_VALUES, mirrorFallback: false, ...config },
      retry: { attempts: 3, baseDelayMs: 5 },
      stallTimeoutMs: 5_000,
      tty: false,
      ...overrides,
    },
  });
  return {
    ctx,
    root,
    dockerConfig,
    dir,
    cleanup() {
      // Image mounts under the root must go before the tree can be removed.
      for (const line of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").reverse()) {
        const mnt = line.split(" ")[4];
        if (mnt && mnt.startsWith(`${dir}/`)) linuxSys().umount(mnt, 2);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under the store's content areas with its size: equal snapshots mean "store unchanged". */
export function storeSnapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (p: string, rel: string) => {
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n), rel ? `${rel}/${n}` : n);
    } else {
      out.push(`${rel} ${st.size}`);
    }
  };
  for (const area of ["blobs", "ingest", "images", "l", "repositories.json"]) walk(path.join(root, area), area);
  const layers = path.join(root, "layers");
  if (fs.existsSync(layers)) for (const n of fs.readdirSync(layers).sort()) out.push(`layers/${n}`);
  return out;
}
