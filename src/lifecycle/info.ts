// What `version` and `info` report, in Docker's field names. With no daemon, the "server" is this
// engine on this host (as podman reports itself). CI scripts poll `info --format
// '{{.ServerVersion}}'` for readiness, so every field that costs a read (container states, images,
// os-release, the engine id) is a getter: a template touches only what it names.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { readJson, writeFileAtomic } from "../atomic.ts";
import type { Ctx } from "../context.ts";
import { randomHex } from "../random.ts";

export const ENGINE_VERSION: string = pkg.version;
/** The Docker Engine API level whose objects tinydock's JSON follows (podman's compat level). */
export const API_VERSION = "1.41";
const MIN_API_VERSION = "1.24";

/** Go's GOARCH for Node's arch. */
export function goArch(arch: string = process.arch): string {
  return ({ x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" } as Record<string, string>)[arch] ?? arch;
}

export function versionInfo(): { Client: Record<string, unknown>; Server: Record<string, unknown> } {
  const common = {
    Version: ENGINE_VERSION,
    APIVersion: API_VERSION,
    GitCommit: "",
    GoVersion: `bun${Bun.version}`,
    Os: "linux",
    Arch: goArch(),
    BuildTime: "",
  };
  return {
    Client: { Platform: { Name: "tinydock" }, ...common, DefaultAPIVersion: API_VERSION, Context: "default" },
    Server: {
      Platform: { Name: "tinydock (daemonless)" },
      Components: [
        {
          Name: "Engine",
          Version: ENGINE_VERSION,
          Details: { ApiVersion: API_VERSION, Arch: goArch(), BuildTime: "", Experimental: "false", GitCommit: "", GoVersion: common.GoVersion, KernelVersion: os.release(), MinAPIVersion: MIN_API_VERSION, Os: "linux" },
        },
      ],
      ...common,
      MinAPIVersion: MIN_API_VERSION,
      KernelVersion: os.release(),
      Experimental: false,
    },
  };
}

/** Docker's JSON spells the Go field APIVersion as "ApiVersion". */
export function versionJson(v: ReturnType<typeof versionInfo>): Record<string, unknown> {
  const rename = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, x]) => [k === "APIVersion" ? "ApiVersion" : k, x]));
  return { Client: rename(v.Client), Server: rename(v.Server) };
}

function prettyOs(): string {
  try {
    const text = fs.readFileSync("/etc/os-release", "utf8");
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
    if (m) return m[1]!;
  } catch {}
  return "Linux";
}

function osVersion(): string {
  try {
    return /^VERSION_ID="?([^"\n]*)"?$/m.exec(fs.readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    return "";
  }
}

/** Docker's engine ID: made once per root, kept in <root>/engine-id. */
function engineId(root: string): string {
  const file = path.join(root, "engine-id");
  try {
    const id = fs.readFileSync(file, "utf8").trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {}
  const h = randomHex(16);
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  try {
    fs.mkdirSync(root, { recursive: true, mode: 0o711 });
    writeFileAtomic(file, `${id}\n`, 0o644);
  } catch {} // a read-only root: the id is this call's only
  return id;
}

function registryConfig(ctx: Ctx): Record<string, unknown> {
  const cidrs = ["::1/128", "127.0.0.0/8", ...ctx.config.insecureRegistries.filter((r) => r.includes("/"))];
  const index: Record<string, unknown> = {
    "docker.io": { Name: "docker.io", Mirrors: ctx.config.registryMirrors, Secure: true, Official: true },
  };
  for (const r of ctx.config.insecureRegistries) if (!r.includes("/")) index[r] = { Name: r, Mirrors: [], Secure: false, Official: false };
  return { AllowNondistributableArtifactsCIDRs: null, AllowNondistributableArtifactsHostnames: null, InsecureRegistryCIDRs: cidrs, IndexConfigs: index, Mirrors: ctx.config.registryMirrors };
}

interface Counts {
  total: number;
  running: number;
  paused: number;
  stopped: number;
}

/** `docker info`'s object (system.Info); costly fields are evaluated when read, once. */
export function engineInfo(ctx: Ctx): Record<string, unknown> {
  let counts: Counts | undefined;
  const containerCounts = (): Counts => {
    if (counts) return counts;
    const { listLive } = require("./live.ts") as typeof import("./live.ts");
    const c: Counts = { total: 0, running: 0, paused: 0, stopped: 0 };
    for (const l of listLive(ctx)) {
      c.total++;
      if (l.state.Paused) c.paused++;
      else if (l.state.Running) c.running++;
      else c.stopped++;
    }
    return (counts = c);
  };
  const v2 = () => fs.existsSync(path.join(ctx.cgroupRoot, "cgroup.controllers"));
  const memo = <T>(f: () => T) => {
    let done = false;
    let v: T;
    return () => (done ? v! : ((done = true), (v = f())));
  };
  const info: Record<string, unknown> = {};
  const lazy = (name: string, f: () => unknown) => Object.defineProperty(info, name, { get: memo(f), enumerable: true, configurable: true });
  lazy("ID", () => engineId(ctx.root));
  lazy("Containers", () => containerCounts().total);
  lazy("ContainersRunning", () => containerCounts().running);
  lazy("ContainersPaused", () => containerCounts().paused);
  lazy("ContainersStopped", () => containerCounts().stopped);
  lazy("Images", () => {
    const { listImages } = require("../store/images.ts") as typeof import("../store/images.ts");
    const { storeLayout } = require("../store/layout.ts") as typeof import("../store/layout.ts");
    return listImages(storeLayout(ctx.root)).length;
  });
  info.Driver = "overlay2";
  info.DriverStatus = [["Native Overlay Diff", "true"]];
  info.Plugins = { Volume: ["local"], Network: ["bridge", "host", "none"], Authorization: null, Log: ["json-file"] };
  Object.assign(info, { MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true });
  Object.assign(info, { IPv4Forwarding: true, Debug: false, OomKillDisable: false, LoggingDriver: "json-file", CgroupDriver: "cgroupfs" });
  lazy("CgroupVersion", () => (v2() ? "2" : "1"));
  lazy("SystemTime", () => new Date(ctx.clock()).toISOString());
  info.KernelVersion = os.release();
  lazy("OperatingSystem", prettyOs);
  lazy("OSVersion", osVersion);
  info.OSType = "linux";
  info.Architecture = os.machine();
  info.IndexServerAddress = "https://index.docker.io/v1/";
  lazy("RegistryConfig", () => registryConfig(ctx));
  lazy("NCPU", () => os.availableParallelism());
  lazy("MemTotal", () => os.totalmem());
  info.DockerRootDir = ctx.root;
  info.HttpProxy = process.env.HTTP_PROXY ?? process.env.http_proxy ?? "";
  info.HttpsProxy = process.env.HTTPS_PROXY ?? process.env.https_proxy ?? "";
  info.NoProxy = process.env.NO_PROXY ?? process.env.no_proxy ?? "";
  lazy("Name", () => os.hostname());
  info.Labels = [];
  info.ExperimentalBuild = false;
  info.ServerVersion = ENGINE_VERSION;
  info.Runtimes = { tinydock: { path: "tinydock" } };
  info.DefaultRuntime = "tinydock";
  info.LiveRestoreEnabled = true; // containers outlive the command that started them: no daemon to restart
  info.Isolation = "";
  info.InitBinary = "tinydock";
  lazy("SecurityOptions", () => ["name=seccomp,profile=builtin", ...(v2() ? ["name=cgroupns"] : [])]);
  info.Warnings = null;
  return info;
}
