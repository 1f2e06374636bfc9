// `info [--format]` (and `system info`): Docker's system.Info for this engine and host.
import { bytesSize } from "../../units.ts";
import type { CommandSpec } from "../command.ts";

export const info: CommandSpec = {
  command: "info",
  describe: "Display system-wide information",
  builder: (y) => y.option("format", { alias: "f", type: "string", describe: "Format output using a Go template or json" }),
  async run(ctx, argv, io) {
    const { engineInfo } = await import("../../lifecycle/info.ts");
    const i = engineInfo(ctx);
    const format = typeof argv.format === "string" && argv.format !== "" ? argv.format : undefined;
    if (format !== undefined) {
      const { renderOne } = await import("../listing.ts");
      io.out(renderOne(format, i));
      return;
    }
    const reg = i.RegistryConfig as { InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, { Secure: boolean; Name: string }>; Mirrors: string[] };
    const insecure = [...Object.values(reg.IndexConfigs).filter((x) => !x.Secure).map((x) => x.Name), ...reg.InsecureRegistryCIDRs];
    const lines = [
      "Client:",
      ` Version:    ${String(i.ServerVersion)}`,
      " Context:    default",
      " Debug Mode: false",
      "",
      "Server:",
      ` Containers: ${i.Containers}`,
      `  Running: ${i.ContainersRunning}`,
      `  Paused: ${i.ContainersPaused}`,
      `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`,
      ` Server Version: ${i.ServerVersion}`,
      ` Storage Driver: ${i.Driver}`,
      ...(i.DriverStatus as string[][]).map(([k, v]) => `  ${k}: ${v}`),
      ` Logging Driver: ${i.LoggingDriver}`,
      ` Cgroup Driver: ${i.CgroupDriver}`,
      ` Cgroup Version: ${i.CgroupVersion}`,
      " Plugins:",
      "  Volume: local",
      "  Network: bridge host none",
      "  Log: json-file",
      ` Runtimes: ${Object.keys(i.Runtimes as object).join(" ")}`,
      ` Default Runtime: ${i.DefaultRuntime}`,
      ` Init Binary: ${i.InitBinary}`,
      " Security Options:",
      ...(i.SecurityOptions as string[]).flatMap((o) => {
        const [name, ...rest] = o.split(",");
        return [`  ${name!.replace(/^name=/, "")}`, ...rest.map((r) => `   ${r.replace("=", ": ").replace(/^profile/, "Profile")}`)];
      }),
      ` Kernel Version: ${i.KernelVersion}`,
      ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`,
      ` Architecture: ${i.Architecture}`,
      ` CPUs: ${i.NCPU}`,
      ` Total Memory: ${bytesSize(Number(i.MemTotal))}`,
      ` Name: ${i.Name}`,
      ` ID: ${i.ID}`,
      ` Docker Root Dir: ${i.DockerRootDir}`,
      " Debug Mode: false",
      " Experimental: false",
      ...(insecure.length ? [" Insecure Registries:", ...insecure.map((r) => `  ${r}`)] : []),
      ...(reg.Mirrors.length ? [" Registry Mirrors:", ...reg.Mirrors.map((m) => `  ${m}/`)] : []),
      ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
      "",
    ];
    io.out(lines.join("\n"));
  },
};
