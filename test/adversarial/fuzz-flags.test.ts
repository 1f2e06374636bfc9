// Fuzzing of the parsers behind `run`'s and the other verbs' flags: -p, -v, --mount, --tmpfs,
// --ulimit, memory and other sizes, --cpus and friends (run's and update's), -e/--env-file, -u, --platform, --restart,
// --log-opt, -l, --add-host, --network, --cap-add, signals, `cp` arguments, `ps --filter`,
// `logs --since`, and the fast argv parsers of `run` and `ps`. Every input either parses or throws
// one of src/errors.ts's kinds, within a second. Seeded; counts go to the adversarial tally.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import path from "node:path";
import { parsePsArgs } from "../../src/cli/ps-args.ts";
import { parseRunArgs } from "../../src/cli/run-args.ts";
import { splitRunArgs } from "../../src/cli/split.ts";
import { RUN_BOOLEAN_FLAGS } from "../../src/cli/commands/run.ts";
import { parseFilters } from "../../src/cli/views/container-filters.ts";
import { parsePlatform } from "../../src/image/platform.ts";
import { parseCopyArg } from "../../src/lifecycle/copy.ts";
import { parseLogTime } from "../../src/lifecycle/logs.ts";
import { parseHumanSize, parseLabels, parseLogOpts, parseRestartPolicy } from "../../src/lifecycle/run-options.ts";
import { parseSignal } from "../../src/lifecycle/signals.ts";
import { parseLink, parseVolumesFrom } from "../../src/lifecycle/run/links.ts";
import { cgroupLeaf } from "../../src/runtime/cgroups/cgroup.ts";
import { parseExtraHost } from "../../src/network/dns.ts";
import { parseNetworkMode } from "../../src/network/mode.ts";
import { parsePortFilter, parsePortSpec } from "../../src/network/portspec.ts";
import { parseCidr } from "../../src/network/subnet.ts";
import { parseCapability } from "../../src/runtime/capabilities.ts";
import { parseEnvArg, parseEnvFile } from "../../src/runtime/env.ts";
import { parseResourceUpdate } from "../../src/runtime/resource-update.ts";
import { parseMemoryBytes, parseResources } from "../../src/runtime/resources.ts";
import { parseUlimit } from "../../src/runtime/ulimit.ts";
import { parseGroup, parsePasswd, resolveUser } from "../../src/runtime/user.ts";
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from "../../src/runtime/volumes.ts";
import { fuzz, JUNK, NUMBERS, tokens, typedOrNothing } from "../helpers/fuzz.ts";

const RUNS = 3000;

describe("fuzz: flag parsers throw only typed errors", () => {
  test("-p / --publish and `port` filters", () => {
    const arb = tokens([...NUMBERS, ...JUNK, ":", "-", "/", "tcp", "udp", "sctp", "[", "]", "::1", "::", "127.0.0.1", "0.0.0.0", "256.1.1.1", "fe80::1%lo", "80", "8080-8090"]);
    fuzz("-p", arb, RUNS, (s) => {
      typedOrNothing(s, () => parsePortSpec(s));
      typedOrNothing(s, () => parsePortFilter(s));
    });
  }, 30_000);

  test("-v / --volume, --mount, --tmpfs", () => {
    const arb = tokens([
      ...JUNK, "/", "/data", "..", ".", "vol", "ro", "rw", "z", "Z", "nocopy", "rshared", "rslave", "private", "type=", "bind", "volume",
      "tmpfs", "source=", "src=", "target=", "dst=", "destination=", "readonly", "readonly=", "true", "false", "bind-propagation=",
      "volume-nocopy", "tmpfs-size=", "tmpfs-mode=", "size=", "mode=", "1777", "64m", "-1", "noexec", "exec", "nosuid", "uid=", "C:",
    ], 14);
    fuzz("-v/--mount/--tmpfs", arb, RUNS, (s) => {
      typedOrNothing(s, () => parseVolumeFlag(s, "/work"));
      typedOrNothing(s, () => parseMountFlag(s, "/work"));
      typedOrNothing(s, () => parseTmpfsFlag(s));
    });
  }, 30_000);

  test("--link, --volumes-from: an alias that parses is one word (it becomes a hosts line and a variable name)", () => {
    const arb = tokens([...JUNK, ":", "/", "web", "db", "ro", "rw", "z", ",", "\n", " ", "\t", "1.2.3.4", "-", "_", "."], 10);
    fuzz("--link/--volumes-from", arb, RUNS, (s) => {
      let link: { alias: string } | undefined;
      typedOrNothing(s, () => (link = parseLink(s)));
      if (link) expect(link.alias).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/);
      typedOrNothing(s, () => parseVolumesFrom(s));
    });
  }, 30_000);

  test("--cgroup-parent: a parent that passes puts the cgroup under the hierarchy, never above nor in tinydock/", () => {
    const arb = tokens([...JUNK, "/", "..", ".", "a", "tinydock", "system.slice", "//", "\n", " ", "-"], 10);
    fuzz("--cgroup-parent", arb, RUNS, (s) => {
      let rel: string | undefined;
      typedOrNothing(s, () => (rel = cgroupLeaf("0123456789ab", s)));
      if (rel === undefined || s === "") return; // "" is no parent: tinydock/<id>, as Docker's default
      expect(path.posix.normalize(rel)).toBe(rel);
      const parts = rel.split("/");
      expect(parts.some((c) => c === "" || c === "." || c === "..") || parts[0] === "tinydock").toBe(false);
      expect(rel.endsWith("/tinydock-0123456789ab")).toBe(true);
    });
  }, 30_000);

  test("--ulimit", () => {
    const arb = tokens([...NUMBERS, ...JUNK, "nofile", "nproc", "core", "stack", "rtprio", "memlock", "=", ":", "unlimited", "-"]);
    fuzz("--ulimit", arb, RUNS, (s) => {
      typedOrNothing(s, () => parseUlimit(s));
    });
  }, 30_000);

  test("memory sizes, --log-opt sizes, --cpus, --cpu-shares, --cpuset-*, --pids-limit", () => {
    const size = tokens([...NUMBERS, ...JUNK, ".", "b", "k", "m", "g", "t", "p", "e", "KiB", "MB", "gib", "-", " "], 6);
    const flags = fc.record(
      {
        memory: fc.oneof(size, fc.double()),
        memorySwap: fc.oneof(size, fc.integer()),
        memorySwappiness: fc.oneof(size, fc.integer()),
        cpus: fc.oneof(size, fc.double()),
        cpuShares: fc.oneof(size, fc.integer()),
        cpusetCpus: tokens([...NUMBERS, ",", "-", " "], 8),
        cpusetMems: tokens([...NUMBERS, ",", "-", " "], 8),
        pidsLimit: fc.oneof(size, fc.integer()),
      },
      { requiredKeys: [] },
    );
    fuzz("memory sizes", size, RUNS, (s) => {
      typedOrNothing(s, () => parseMemoryBytes(s));
      typedOrNothing(s, () => parseHumanSize(s, "max-size"));
    });
    fuzz("resource flags", flags, RUNS, (f) => {
      typedOrNothing(f, () => parseResources(f, 2));
    });
    // `update`'s: what parses is written into cgroup files as it is, so it must be one plain value.
    const text = fc.oneof(size, tokens([...NUMBERS, ...JUNK, ",", "-", "\n", "+memory", " "], 8));
    const keys = ["memory", "memorySwap", "memoryReservation", "cpus", "cpuShares", "cpuPeriod", "cpuQuota", "cpusetCpus", "cpusetMems", "pidsLimit", "blkioWeight"] as const;
    const updates = fc.record(Object.fromEntries(keys.map((k) => [k, text])) as Record<(typeof keys)[number], fc.Arbitrary<string>>, { requiredKeys: [] });
    fuzz("update's resource flags", updates, RUNS, (f) => {
      let parsed: object = {};
      typedOrNothing(f, () => (parsed = parseResourceUpdate(f, 2)));
      for (const v of Object.values(parsed)) expect(String(v)).toMatch(/^-?[0-9][0-9,-]*$/);
    });
  }, 30_000);

  test("-e, --env-file, -u, --platform, --restart, --log-opt, -l, --add-host, --network, --cap-add, signals, cp", () => {
    const arb = tokens([
      ...NUMBERS, ...JUNK, "A", "PATH", "=", "#", "export ", "root", "nobody", "0", ":", "linux", "amd64", "arm64", "v8", "/",
      "no", "always", "on-failure", "unless-stopped", "max-size=", "max-file=", "10m", "host-gateway", "host", "none", "bridge",
      "container:", "CAP_", "SYS_ADMIN", "ALL", "SIG", "KILL", "TERM", "RTMIN+", "RTMAX-", "c1:", "-",
    ]);
    const passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
    const group = "root:x:0:\nwheel:x:10:root\n";
    fuzz("run flags (env, user, platform, restart, log-opt, label, add-host, network, cap, signal, cp)", arb, RUNS, (s) => {
      typedOrNothing(s, () => parseEnvArg(s, { A: "1" }));
      typedOrNothing(s, () => parseEnvFile(s, "env.list", { A: "1" }));
      typedOrNothing(s, () => resolveUser(s, parsePasswd(passwd), parseGroup(group), [s]));
      typedOrNothing(s, () => parsePasswd(s));
      typedOrNothing(s, () => parseGroup(s));
      typedOrNothing(s, () => parsePlatform(s));
      typedOrNothing(s, () => parseRestartPolicy(s));
      typedOrNothing(s, () => parseLogOpts([s]));
      typedOrNothing(s, () => parseLabels([s]));
      typedOrNothing(s, () => parseExtraHost(s, "10.29.0.1"));
      typedOrNothing(s, () => parseNetworkMode(s));
      typedOrNothing(s, () => parseCapability(s));
      typedOrNothing(s, () => parseSignal(s));
      typedOrNothing(s, () => parseCopyArg(s));
      typedOrNothing(s, () => parseCidr(s));
      typedOrNothing(s, () => parseFilters([s]));
      typedOrNothing(s, () => parseLogTime(s, 1_700_000_000_000));
    });
  }, 30_000);

  test("the fast argv parsers of run and ps never throw, and answer or hand over to yargs", () => {
    const word = tokens([
      ...JUNK, "-", "--", "-d", "-it", "-p", "-v", "-e", "--rm", "--name", "--name=", "-m", "--memory", "--debug", "-D", "run", "ps",
      "busybox", "sh", "-a", "-q", "--format", "--filter", "-n", "--no-trunc", "--last", "{{.ID}}", "3", "x=y", "--help", "--no-rm",
    ], 3);
    const argv = fc.array(word, { maxLength: 10 });
    fuzz("run/ps argv", argv, RUNS, (args) => {
      const all = ["run", ...args];
      typedOrNothing(all, () => {
        const split = splitRunArgs(all, "run", RUN_BOOLEAN_FLAGS);
        const parsed = split ? parseRunArgs(split.head) : null;
        expect(parsed === null || typeof parsed === "object").toBe(true);
      });
      typedOrNothing(args, () => parsePsArgs(["ps", ...args]));
    });
  }, 30_000);
});
