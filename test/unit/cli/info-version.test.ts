import { afterEach, expect, test } from "bun:test";
import { engineInfo, goArch, versionInfo, versionJson } from "../../../src/lifecycle/info.ts";
import { compileTemplate } from "../../../src/cli/template.ts";
import { testContext, type TestEnv } from "../../helpers/ctx.ts";

let env: TestEnv | undefined;
afterEach(() => {
  env?.cleanup();
  env = undefined;
});


test("info: a template reads only the fields it names (no container scan for .ServerVersion)", () => {
  env = testContext();
  const i = engineInfo(env.ctx);
  let scanned = 0;
  const spy = new Proxy(i, {
    get(t, k) {
      if (k === "Containers" || k === "Images" || k === "ContainersRunning") scanned++;
      return Reflect.get(t, k);
    },
  });
  expect(compileTemplate("{{.ServerVersion}}")(spy)).toBe(versionInfo().Server.Version as string);
  expect(scanned).toBe(0);
  expect(compileTemplate("{{.Containers}} {{.ContainersRunning}} {{.Images}} {{.Driver}} {{.CgroupDriver}} {{.OSType}}")(i)).toBe("0 0 0 overlay2 cgroupfs linux");
  expect(["1", "2"]).toContain(i.CgroupVersion as string);
  expect(i.DockerRootDir).toBe(env.root);
  // The engine id is made once and kept.
  expect(engineInfo(env.ctx).ID).toBe(i.ID);
  expect(String(i.ID)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const json = JSON.parse(JSON.stringify(i));
  expect(Object.keys(json)).toEqual(expect.arrayContaining(["ID", "Containers", "NCPU", "MemTotal", "Name", "RegistryConfig", "SecurityOptions", "KernelVersion", "OperatingSystem", "Architecture"]));
});

test("info: RegistryConfig from the config's mirrors and insecure registries", () => {
  env = testContext({ registryMirrors: ["http://127.0.0.1:5000"], insecureRegistries: ["reg.local:5000", "10.0.0.0/8"] });
  const reg = engineInfo(env.ctx).RegistryConfig as Record<string, unknown>;
  expect(reg.Mirrors).toEqual(["http://127.0.0.1:5000"]);
  expect(reg.InsecureRegistryCIDRs).toContain("10.0.0.0/8");
  expect((reg.IndexConfigs as Record<string, { Secure: boolean }>)["reg.local:5000"]!.Secure).toBe(false);
});

test("version: Go field names for templates, Docker's ApiVersion spelling in JSON; Go's arch names", () => {
  const v = versionInfo();
  expect(compileTemplate("{{.Client.APIVersion}} {{.Server.Os}}")(v)).toBe("1.41 linux");
  const j = versionJson(v) as { Client: Record<string, unknown>; Server: Record<string, unknown> };
  expect(j.Client.ApiVersion).toBe("1.41");
  expect(j.Client.APIVersion).toBeUndefined();
  expect([goArch("x64"), goArch("arm64"), goArch("ia32")]).toEqual(["amd64", "arm64", "386"]);
});

test("renderOne: the `{{.Field}}` shortcut prints exactly what the template engine prints", async () => {
  const { renderOne } = await import("../../../src/cli/listing.ts");
  const value = { S: "1.2.3", N: 42, Neg: -7, B: false, F: 1.5, Big: 2 ** 60, O: { a: 1 }, L: ["x"], Nil: null, E: "" };
  for (const format of ["{{.S}}", "{{ .N }}", "{{.Neg}}", "{{.B}}", "{{.F}}", "{{.Big}}", "{{.O}}", "{{.L}}", "{{.Nil}}", "{{.E}}", "{{.Missing}}", "{{.S}} {{.N}}"]) {
    expect([format, renderOne(format, value)]).toEqual([format, `${compileTemplate(format)(value)}\n`]);
  }
});
