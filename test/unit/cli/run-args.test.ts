// parseRunArgs (no yargs) must read every line it accepts exactly as yargs does, and leave the rest
// to yargs. Both are compared on what `run` reads from argv.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { RUN_BOOLEAN_FLAGS, RUN_OPTIONS } from "../../../src/cli/commands/run.ts";
import { parseWithYargs } from "../../../src/cli/index.ts";
import { parseRunArgs } from "../../../src/cli/run-args.ts";
import { splitRunArgs } from "../../../src/cli/split.ts";
import { recordCases } from "../../helpers/adversarial.ts";

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** What runCommand derives from an argv. */
function seen(argv: Record<string, unknown>) {
  const out: Record<string, unknown> = { image: String(argv.image), debug: Boolean(argv.debug) };
  for (const o of RUN_OPTIONS) {
    const v = argv[o.name];
    out[o.name] = o.array ? list(v) : o.type === "boolean" ? Boolean(v) : v === undefined ? undefined : String(v);
  }
  return out;
}

async function yargsView(args: string[]): Promise<Record<string, unknown> | "error"> {
  try {
    const parsed = await parseWithYargs(args);
    return parsed ? seen(parsed.argv) : "error";
  } catch {
    return "error";
  }
}

function fastView(args: string[]): Record<string, unknown> | null {
  const split = splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS);
  const argv = split && parseRunArgs(split.head);
  return argv ? seen(argv) : null;
}

async function agree(args: string[]): Promise<void> {
  const split = splitRunArgs(args, "run", RUN_BOOLEAN_FLAGS)!;
  const fast = fastView(args);
  if (fast) expect({ args, argv: fast as unknown }).toEqual({ args, argv: await yargsView(split.head) });
}

describe("parseRunArgs", () => {
  test("reads the usual lines as yargs does", async () => {
    const lines = [
      ["run", "busybox", "true"],
      ["run", "--rm", "busybox", "true"],
      ["run", "--rm", "-it", "busybox", "sh"],
      ["run", "-ti", "--name", "web", "busybox"],
      ["--debug", "run", "--rm", "busybox"],
      ["-D", "run", "busybox"],
      ["run", "-D", "busybox"],
      ["run", "-e", "A=1", "--env=B=2", "-e", "C", "busybox", "env"],
      ["run", "-v", "/a:/b:ro", "--volume", "/c:/d", "--tmpfs", "/t", "--mount", "type=tmpfs,target=/m", "busybox"],
      ["run", "--read-only", "--privileged", "--init", "busybox"],
      ["run", "--cap-add", "NET_ADMIN", "--cap-drop=ALL", "--security-opt", "no-new-privileges", "busybox"],
      ["run", "-m", "64m", "--memory-swap", "128m", "--cpus", "0.5", "--cpuset-cpus", "0", "busybox"],
      ["run", "-u", "1000:1000", "--group-add", "10", "-w", "/w", "-h", "host", "--entrypoint", "sh", "busybox"],
      ["run", "--net", "none", "busybox"],
      ["run", "--network=none", "--platform", "linux/amd64", "busybox"],
      ["run", "-d", "busybox", "sleep", "9"],
      ["run", "-dit", "--restart", "on-failure:3", "busybox"],
      ["run", "--detach", "--rm", "-l", "a=b", "--label", "c", "--log-opt", "max-size=1m", "--log-opt=max-file=2", "busybox"],
      ["run", "--ulimit", "nofile=10:20", "--env-file", "/e", "busybox"],
      ["run", "--rm", "--", "busybox", "ls", "-la"],
      ["run", "--rm", "127.0.0.1:5000/x/y:1.0", "true"],
      ["run", "0123"],
      ["run", "1e3"],
      ["run", "--name", "1e3", "-h", "0123", "-u", "0", "busybox"],
      // A repeated single-value option keeps its last value; list options accumulate.
      ["run", "--name", "a", "--name", "b", "-e", "A", "-e", "B", "busybox"],
      ["run", "-w", "/a", "--workdir=/b", "-v", "/x:/y", "--volume", "/z:/w", "busybox"],
      ["run", "-c", "512", "busybox"],
      ["run", "--pids-limit", "10", "--pids-limit=20", "busybox"],
      ["run", "--memory-swappiness=0", "busybox"],
      // A negative number after a flag is its value to yargs too (a wrong one is then refused by
      // run's own check, without loading yargs).
      ["run", "--cpus", "-1", "busybox", "true"],
      ["run", "--cpus=-0.5", "--memory-swap", "-1", "busybox"],
      ["run", "-m", "-1", "--pids-limit", "-1", "-c", "-5", "--cpus", "-.5", "busybox"],
      ["run", "--pids-limit=-7", "busybox"],
    ];
    for (const args of lines) {
      expect({ args, accepted: fastView(args) !== null }).toEqual({ args, accepted: true });
      await agree(args);
    }
  });

  test("leaves to yargs what it is not sure of", () => {
    const lines = [
      ["run"],
      ["run", "--rm"],
      ["run", "--help"],
      ["run", "--version", "busybox"],
      ["--version", "run", "busybox"],
      ["run", "--bogus", "busybox"],
      ["run", "--no-rm", "busybox"],
      ["run", "--rm=false", "busybox"],
      ["run", "--rm", "true", "busybox"],
      ["run", "-c", "x", "busybox"],
      ["run", "--pids-limit", "1e3", "busybox"],
      ["run", "--pids-limit", "-1.5", "busybox"],
      ["run", "--memory-swap", "-1e3", "busybox"],
      ["run", "--name", "-x", "busybox"],
      ["run", "--cpus", "--rm", "busybox"],
      ["run", "--name=", "busybox"],
      ["run", "--name", "'x'", "busybox"],
      ["run", "-e", "busybox"],
      ["run", "-eA=1", "busybox"],
      ["run", "-iu", "0", "busybox"],
      ["run", "-x", "busybox"],
      ["run", "--readOnly", "busybox"],
    ];
    for (const args of lines) expect({ args, fast: fastView(args) }).toEqual({ args, fast: null });
  });

  test("whatever it accepts, yargs reads the same way (random lines)", async () => {
    const words = [
      "--rm", "-i", "-t", "-it", "-ti", "-D", "--debug", "--name", "web", "--name=x", "-e", "A=1", "--env=B=2", "-v", "/a:/b",
      "--network", "none", "--net=none", "--read-only", "--privileged", "--init", "-m", "64m", "--cpus", "0.5", "-c", "512",
      "--memory-swap", "-1", "-0.5", "-.5", "-1e3", "--cpus=-2", "--pids-limit", "true", "false", "--bogus", "-x", "--no-rm", "--tmpfs", "/t", "-h", "h1", "-u", "0:0", "-w", "/w",
      "--entrypoint", "sh", "--cap-add", "ALL", "--", "busybox", "'q'", "--platform", "linux/arm64", "--user=1",
      "1e3", "0123", "0x1f", "-c", "512", "--pids-limit=7", "--memory-swappiness", "x", "--label", "5",
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...words), { maxLength: 8 }), fc.array(fc.constantFrom(...words), { maxLength: 3 }), async (opts, rest) => {
        await agree(["run", ...opts, "busybox", ...rest]);
      }),
      { numRuns: 300 },
    );
    recordCases("property unit/cli/run-args.test.ts: whatever it accepts, yargs reads the same way (random lines)", 300);
  });
});
