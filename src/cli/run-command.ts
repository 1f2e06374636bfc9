// Turns `run`'s arguments into a RunRequest, runs it attached and forwards signals. Failures are
// thrown typed; the CLI (cli/exit.ts) maps them to Docker's exit codes. Kept out of cli/commands
// so the verb file stays thin.
import fs from "node:fs";
import type { Io } from "./command.ts";
import type { Ctx } from "../context.ts";
import { InvalidArgumentError } from "../errors.ts";
import { parsePlatform } from "../image/platform.ts";
import { parseResources } from "../runtime/resources.ts";
import { parseUlimit } from "../runtime/ulimit.ts";
import { parseDeviceSpec } from "../runtime/devicespec.ts";
import { parseEnvArg, parseEnvFile } from "../runtime/env.ts";
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag, type VolumeSpec } from "../runtime/volumes.ts";
import { createContainer, runContainer, runDetached } from "../lifecycle/run.ts";
import type { RunRequest } from "../lifecycle/run/request.ts";
import { parseLabels, parseLogOpts, parseRestartPolicy } from "../lifecycle/run-options.ts";
import { parseNamespaceModes } from "../lifecycle/run/namespaces.ts";
import { consoleSizeOf, openTtySession } from "../lifecycle/tty.ts";
import { relayStdio } from "../lifecycle/stdio-relay.ts";
import { checkAttachTty } from "../terminal.ts";
import { cloexecPipe, isTerminal } from "../sys/ffi.ts";
import os from "node:os";

const FORWARDED: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGQUIT"];

type ArgHelpers = {
  list: (v: unknown) => string[];
  str: (v: unknown) => string | undefined;
  /** A later stage's say on the request before it runs (--pod: src/pod/join.ts). */
  adjust?: (req: RunRequest) => Promise<void>;
};

/** run's and create's arguments as a RunRequest (the same options, Docker's). */
/**
 * The flags lifecycle/run/flags.ts acts on. Its module (and the parsers it pulls in: sysctls, device
 * rules, health checks, label files…) loads only when one of them is given: a plain `run` does not
 * pay for it (measured: 'process start → run' grew ~5 ms when it loaded every time). A unit test
 * checks this list against the keys flags.ts reads.
 */
export const RUN_FLAG_KEYS = [
  "attach", "cidfile", "device-cgroup-rule", "expose", "health-cmd", "health-interval", "health-retries", "health-start-interval",
  "health-start-period", "health-timeout", "label-file", "link", "log-driver", "mac-address", "no-healthcheck", "pull", "shm-size", "stop-signal",
  "stop-timeout", "sysctl", "volumes-from",
] as const;

/** The same for lifecycle/run/resource-flags.ts and compat-flags.ts (test/unit/cli/run-flag-keys.test.ts). */
export const RESOURCE_FLAG_KEYS = [
  "blkio-weight", "blkio-weight-device", "cpu-count", "cpu-percent", "cpu-period", "cpu-quota", "cpu-rt-period", "cpu-rt-runtime", "device-read-bps",
  "device-read-iops", "device-write-bps", "device-write-iops", "io-maxbandwidth", "io-maxiops", "kernel-memory", "memory-reservation", "oom-kill-disable",
  "oom-score-adj",
] as const;
export const COMPAT_FLAG_KEYS = [
  "annotation", "cgroup-parent", "detach-keys", "domainname", "gpus", "ip6", "isolation", "runtime", "storage-opt", "use-api-socket", "userns", "volume-driver",
] as const;

function givesRunFlag(argv: Record<string, unknown>, keys: readonly string[] = RUN_FLAG_KEYS): boolean {
  return keys.some((k) => {
    const v = argv[k];
    if (v === undefined || v === false || (Array.isArray(v) && v.length === 0)) return false;
    return !(k === "pull" && v === "missing");
  });
}

export async function buildRunRequest(ctx: Ctx, argv: Record<string, unknown>, h: ArgHelpers): Promise<RunRequest> {
  const flags = givesRunFlag(argv) ? await import("../lifecycle/run/flags.ts") : undefined;
  const { list, str } = h;
  {
    const host = process.env;
    const env: string[] = [];
    const envFiles = list(argv["env-file"]);
    if (envFiles.length) {
      const { readArgFile } = await import("../lifecycle/run/argfile.ts");
      // One push at a time: a spread of a long file's lines overflows the stack.
      for (const f of envFiles) for (const v of parseEnvFile(readArgFile(f, "env file"), f, host)) env.push(v);
    }
    for (const e of list(argv.env)) {
      const v = parseEnvArg(e, host);
      if (v !== null) env.push(v);
    }
    const cwd = process.cwd();
    const volumes: VolumeSpec[] = [
      ...list(argv.volume).map((v) => parseVolumeFlag(v, cwd)),
      ...list(argv.mount).map((m) => parseMountFlag(m, cwd)),
      ...list(argv.tmpfs).map((t) => parseTmpfsFlag(t)),
    ];
    const securityOpts = list(argv["security-opt"]);
    let noNewPrivileges = false;
    let seccomp = true;
    for (const o of securityOpts) {
      if (o === "no-new-privileges" || o === "no-new-privileges:true" || o === "no-new-privileges=true") noNewPrivileges = true;
      else if (o === "no-new-privileges:false" || o === "no-new-privileges=false") noNewPrivileges = false;
      else if (o === "seccomp=unconfined" || o === "seccomp:unconfined") seccomp = false;
      else if (o.startsWith("label") || o.startsWith("apparmor")) continue; // no SELinux/AppArmor here, as Docker on such hosts
      else throw new InvalidArgumentError(`Cannot parse security option "${o}": supported are no-new-privileges and seccomp=unconfined`);
    }
    const resources = parseResources(
      {
        memory: str(argv.memory),
        memorySwap: str(argv["memory-swap"]),
        memorySwappiness: argv["memory-swappiness"] as number | undefined,
        cpus: str(argv.cpus),
        cpuShares: argv["cpu-shares"] as number | undefined,
        cpusetCpus: str(argv["cpuset-cpus"]),
        cpusetMems: str(argv["cpuset-mems"]),
        pidsLimit: argv["pids-limit"] as number | undefined,
      },
      os.availableParallelism(),
    );
    const devices = list(argv.device).map(parseDeviceSpec);
    const ulimits = list(argv.ulimit).map(parseUlimit);
    const proc: RunRequest["process"] = {
      args: list(argv.command),
      env,
      groupAdd: list(argv["group-add"]),
      tty: Boolean(argv.tty),
      interactive: Boolean(argv.interactive),
      init: Boolean(argv.init),
    };
    const optional: [keyof RunRequest["process"], string | undefined][] = [
      ["entrypoint", str(argv.entrypoint)],
      ["user", str(argv.user)],
      ["workdir", str(argv.workdir)],
      ["hostname", str(argv.hostname)],
    ];
    for (const [k, v] of optional) if (v !== undefined) (proc as unknown as Record<string, unknown>)[k] = v;
    if (proc.workdir !== undefined && !proc.workdir.startsWith("/")) {
      throw new InvalidArgumentError(`the working directory '${proc.workdir}' is invalid, it needs to be an absolute path`);
    }
    const network: RunRequest["network"] = {
      mode: str(argv.network) ?? "bridge",
      aliases: list(argv["network-alias"]),
      dns: list(argv.dns),
      dnsSearch: list(argv["dns-search"]),
      dnsOptions: [...list(argv["dns-option"]), ...list(argv["dns-opt"])],
      extraHosts: list(argv["add-host"]),
    };
    if (argv.ip !== undefined) network.ip = String(argv.ip);
    const linkLocalIps = list(argv["link-local-ip"]);
    if (linkLocalIps.length) {
      const { parseLinkLocalIp } = await import("../network/portspec.ts");
      network.linkLocalIps = linkLocalIps.map((ip) => parseLinkLocalIp(ip).address);
    }
    const mac = str(argv["mac-address"]);
    if (mac !== undefined) network.macAddress = flags!.parseMacAddress(mac);
    const ports: RunRequest["ports"] = { publish: list(argv.publish), publishAll: argv["publish-all"] === true };
    // A bad -p fails here, before anything is created (Docker: before the container exists).
    (await import("../network/portspec.ts")).parsePortSpecs(ports.publish);
    // A bad reference is refused before "Unable to find image" (Docker's client parses it first).
    (await import("../image/reference.ts")).checkImageArgument(String(argv.image));
    const req: RunRequest = {
      image: String(argv.image),
      process: proc,
      volumes,
      network,
      ports,
      lifetime: { detach: Boolean(argv.detach), rm: Boolean(argv.rm) },
      resources: { limits: resources, ulimits, devices },
      namespaces: parseNamespaceModes({ ipc: str(argv.ipc), pid: str(argv.pid), uts: str(argv.uts), cgroupns: str(argv.cgroupns) }),
      security: {
        privileged: Boolean(argv.privileged),
        capAdd: list(argv["cap-add"]),
        capDrop: list(argv["cap-drop"]),
        noNewPrivileges,
        seccomp,
        readOnly: Boolean(argv["read-only"]),
      },
    };
    const name = str(argv.name);
    if (name !== undefined) req.name = name;
    if (typeof argv.platform === "string") req.platform = parsePlatform(argv.platform, ctx.platform);
    // Detached containers (the monitor): --restart, --log-opt, -l.
    const restart = str(argv.restart);
    if (restart !== undefined) req.lifetime.restart = parseRestartPolicy(restart);
    if (req.lifetime.restart && req.lifetime.restart.name !== "no" && req.lifetime.rm) throw new InvalidArgumentError("Conflicting options: --restart and --rm");
    const logOpts = list(argv["log-opt"]);
    if (logOpts.length) req.lifetime.logConfig = parseLogOpts(logOpts);
    const labels = [...(flags ? flags.labelFiles(list(argv["label-file"])) : []), ...list(argv.label)];
    if (labels.length) req.labels = parseLabels(labels);
    flags?.applyRunFlags(req, argv, h);
    if (givesRunFlag(argv, RESOURCE_FLAG_KEYS)) (await import("../lifecycle/run/resource-flags.ts")).applyResourceFlags(req, argv, h, os.availableParallelism());
    // --disable-content-trust defaults to true: only its false asks for something.
    if (givesRunFlag(argv, COMPAT_FLAG_KEYS) || argv["disable-content-trust"] === false) (await import("../lifecycle/run/compat-flags.ts")).applyCompatFlags(req, argv, h);
    return req;
  }
}

export async function runCommand(ctx: Ctx, argv: Record<string, unknown>, io: Io, h: ArgHelpers): Promise<number> {
  {
    const req = await buildRunRequest(ctx, argv, h);
    await h.adjust?.(req);
    if (!req.lifetime.detach) checkAttachTty(req.process.interactive, req.process.tty, isTerminal(0));
    const cid = req.cidfile !== undefined ? claimCidfile(req.cidfile) : undefined;
    if (req.lifetime.detach) {
      // process.stdout is built (node:stream, ~7% of a detached run) only for a size that is used.
      const size = req.process.tty && isTerminal(1) ? { consoleSize: consoleSizeOf(process.stdout) } : {};
      const d = await withCidfile(cid, () => runDetached(ctx, req, { pullOut: pullOutOf(argv, io), stdin: -1, stdout: -1, stderr: -1, consoleSocket: -1, ...size }));
      io.out(`${d.id}\n`);
      return 0;
    }
    const handlers: [NodeJS.Signals, () => void][] = [];
    // A kept container logs what its terminal showed, as stdout (Docker's json-file with -t).
    const logged = !req.lifetime.rm && req.lifetime.logDriver !== "none";
    const tty = req.process.tty ? openTtySession(ctx.sys, { interactive: req.process.interactive, out: process.stdout, in: process.stdin, ...(logged ? { logPipe: cloexecPipe } : {}) }) : undefined;
    // Without -t never the caller's terminal itself: pipes where fds 0-2 are one (stdio-relay.ts).
    const relay = tty ? undefined : relayStdio({ interactive: req.process.interactive, pipe: cloexecPipe, isTerminal });
    const stdio = tty
      ? { stdin: -1, stdout: -1, stderr: -1, consoleSocket: tty.console, consoleSize: tty.size, logFeed: tty.logFeed }
      : attachedOnly(req.attach, { stdin: relay!.stdio[0], stdout: relay!.stdio[1], stderr: relay!.stdio[2], consoleSocket: -1 });
    // --sig-proxy=false: this process's signals stay its own (Docker's CLI then just goes).
    const sigProxy = argv["sig-proxy"] !== false;
    try {
      const outcome = await withCidfile(cid, () =>
        runContainer(
          ctx,
          req,
          { pullOut: pullOutOf(argv, io), ...stdio },
          {
            created: (id) => cid?.write(id),
            started(c) {
              tty?.started();
              relay?.started();
              if (!sigProxy) return;
              for (const sig of FORWARDED) {
                const fn = () => c.kill(sig);
                handlers.push([sig, fn]);
                process.on(sig, fn);
              }
            },
          },
        ),
      );
      if (tty) await tty.finished(500);
      if (relay) await relay.finished(500);
      return outcome.exitCode;
    } finally {
      tty?.close();
      relay?.close();
      for (const [sig, fn] of handlers) process.off(sig, fn);
    }
  }
}

/** -q: the pull's progress (and "Unable to find image") not shown; Docker's warnings still are. */
function pullOutOf(argv: Record<string, unknown>, io: Io): (line: string) => void {
  return argv.quiet === true ? (line) => void (line.startsWith("WARNING:") && io.err(line)) : io.err;
}

/** -a: the streams not named get /dev/null (-1), as Docker attaches only those. */
function attachedOnly<T extends { stdin: number; stdout: number; stderr: number }>(attach: RunRequest["attach"], stdio: T): T {
  if (!attach) return stdio;
  const want = new Set(attach);
  return { ...stdio, stdin: want.has("stdin") ? stdio.stdin : -1, stdout: want.has("stdout") ? stdio.stdout : -1, stderr: want.has("stderr") ? stdio.stderr : -1 };
}

/** --cidfile: refused when the file exists (Docker's words); written once the container exists, removed if it never does. */
function claimCidfile(file: string): { write(id: string): void; written: boolean; file: string } {
  // lstat: a symlink there, even dangling, is a file found (never followed to write a host file).
  if (fs.lstatSync(file, { throwIfNoEntry: false })) throw new InvalidArgumentError(`Container ID file found, make sure the other container isn't running or delete ${file}`);
  const c = {
    file,
    written: false,
    write(id: string) {
      if (c.written) return;
      try {
        fs.writeFileSync(file, id, { flag: "wx", mode: 0o644 });
      } catch (err) {
        throw new InvalidArgumentError(`Cannot write container ID file "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
      }
      c.written = true;
    },
  };
  return c;
}

async function withCidfile<T extends { id: string }>(cid: ReturnType<typeof claimCidfile> | undefined, fn: () => Promise<T>): Promise<T> {
  const out = await fn();
  cid?.write(out.id);
  return out;
}

/** `create`: prints the new container's id. */
export async function createCommand(ctx: Ctx, argv: Record<string, unknown>, io: Io, h: ArgHelpers): Promise<number> {
  {
    const req = await buildRunRequest(ctx, argv, h);
    await h.adjust?.(req);
    const cid = req.cidfile !== undefined ? claimCidfile(req.cidfile) : undefined;
    const { id } = await withCidfile(cid, () => createContainer(ctx, req, { pullOut: pullOutOf(argv, io), stdin: -1, stdout: -1, stderr: -1, consoleSocket: -1 }));
    io.out(`${id}\n`);
    return 0;
  }
}
