import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError, ParseError } from "../../../src/errors.ts";
import {
  DOCKER_HUB_AUTH_KEY,
  normalizeRegistryKey,
  readCredentials,
  removeCredentials,
  writeCredentials,
} from "../../../src/registry/credentials.ts";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "td-creds-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");
const writeConfig = (config: unknown, d = dir) => fs.writeFileSync(path.join(d, "config.json"), JSON.stringify(config));
const readConfig = (d = dir) => JSON.parse(fs.readFileSync(path.join(d, "config.json"), "utf8"));

describe("normalizeRegistryKey", () => {
  test.each([
    ["https://index.docker.io/v1/", "docker.io"],
    ["index.docker.io", "docker.io"],
    ["docker.io", "docker.io"],
    ["https://index.docker.io", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    ["http://localhost:5000/v2/", "localhost:5000"],
    ["Reg.Example:443", "reg.example:443"],
  ])("%p → %p", (key, want) => {
    expect(normalizeRegistryKey(key)).toBe(want);
  });
});

describe("readCredentials", () => {
  test("no config.json, no auths, no entry: null", () => {
    expect(readCredentials(dir, "docker.io")).toBeNull();
    expect(readCredentials(path.join(dir, "missing"), "docker.io")).toBeNull();
    writeConfig({});
    expect(readCredentials(dir, "docker.io")).toBeNull();
    writeConfig({ auths: { "other:5000": { auth: b64("a:b") } } });
    expect(readCredentials(dir, "docker.io")).toBeNull();
  });

  test.each(["https://index.docker.io/v1/", "index.docker.io", "docker.io", "https://index.docker.io", "http://docker.io/v1/"])(
    "docker.io under key %p",
    (key) => {
      writeConfig({ auths: { [key]: { auth: b64("hubuser:pa:ss") } } });
      expect(readCredentials(dir, "docker.io")).toEqual({ username: "hubuser", password: "pa:ss" });
    },
  );

  test("registry with port, with or without scheme and /v1/", () => {
    writeConfig({ auths: { "https://127.0.0.1:5000/v1/": { auth: b64("u:p") } } });
    expect(readCredentials(dir, "127.0.0.1:5000")).toEqual({ username: "u", password: "p" });
    expect(readCredentials(dir, "127.0.0.1:5001")).toBeNull();
  });

  test("username/password fields", () => {
    writeConfig({ auths: { "reg.example": { username: "u", password: "p" } } });
    expect(readCredentials(dir, "reg.example")).toEqual({ username: "u", password: "p" });
  });

  test("the canonical key wins over an alias", () => {
    writeConfig({ auths: { "docker.io": { auth: b64("old:x") }, [DOCKER_HUB_AUTH_KEY]: { auth: b64("new:y") } } });
    expect(readCredentials(dir, "docker.io")).toEqual({ username: "new", password: "y" });
  });

  test("an entry without credentials (identity token only) is skipped", () => {
    writeConfig({ auths: { "reg.example": { identitytoken: "t" } } });
    expect(readCredentials(dir, "reg.example")).toBeNull();
  });

  test.each([
    ["not JSON", "{", /Cannot parse ".*config.json"/],
    ["not an object", "[]", /not a JSON object/],
    ["auths not an object", JSON.stringify({ auths: [] }), /"auths" is not an object/],
    ["auth without colon", JSON.stringify({ auths: { "r.example": { auth: b64("nocolon") } } }), /not base64 of user:password/],
  ])("broken config: %s", (_name, text, reason) => {
    fs.writeFileSync(path.join(dir, "config.json"), text);
    expect(() => readCredentials(dir, "r.example")).toThrow(ParseError);
    expect(() => readCredentials(dir, "r.example")).toThrow(reason);
  });
});

describe("writeCredentials / removeCredentials", () => {
  test("creates the directory 0700 and the file 0600", () => {
    const d = path.join(dir, "new", ".docker");
    writeCredentials(d, "docker.io", "u", "p");
    expect(fs.statSync(d).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(d, "config.json")).mode & 0o777).toBe(0o600);
    expect(readConfig(d)).toEqual({ auths: { [DOCKER_HUB_AUTH_KEY]: { auth: b64("u:p") } } });
    expect(readCredentials(d, "docker.io")).toEqual({ username: "u", password: "p" });
  });

  test("keeps other keys and entries, replaces aliases of the same registry, leaves no temp file", () => {
    writeConfig({
      auths: { "index.docker.io": { auth: b64("old:old") }, "other:5000": { auth: b64("o:o") } },
      credsStore: "desktop",
      proxies: { default: { httpProxy: "http://p" } },
    });
    fs.chmodSync(path.join(dir, "config.json"), 0o644);
    writeCredentials(dir, "docker.io", "new", "secret");
    const c = readConfig();
    expect(c.credsStore).toBe("desktop");
    expect(c.proxies).toEqual({ default: { httpProxy: "http://p" } });
    expect(c.auths).toEqual({ "other:5000": { auth: b64("o:o") }, [DOCKER_HUB_AUTH_KEY]: { auth: b64("new:secret") } });
    expect(fs.statSync(path.join(dir, "config.json")).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual(["config.json"]);
  });

  test("writes through a symlinked config.json", () => {
    const real = path.join(dir, "real.json");
    fs.writeFileSync(real, JSON.stringify({ auths: {} }));
    fs.symlinkSync(real, path.join(dir, "config.json"));
    writeCredentials(dir, "127.0.0.1:5000", "u", "p");
    expect(fs.lstatSync(path.join(dir, "config.json")).isSymbolicLink()).toBe(true);
    expect(JSON.parse(fs.readFileSync(real, "utf8")).auths["127.0.0.1:5000"]).toEqual({ auth: b64("u:p") });
  });

  test("refuses a username with a colon", () => {
    expect(() => writeCredentials(dir, "r.example", "a:b", "p")).toThrow(InvalidArgumentError);
    expect(() => writeCredentials(dir, "r.example", "", "p")).toThrow(InvalidArgumentError);
  });

  test("remove: true when something was removed, other entries stay", () => {
    expect(removeCredentials(dir, "docker.io")).toBe(false);
    writeConfig({ auths: { "https://index.docker.io/v1/": { auth: b64("u:p") }, "docker.io": { auth: b64("u:p") }, "r:1": { auth: b64("a:b") } }, x: 1 });
    expect(removeCredentials(dir, "index.docker.io")).toBe(true);
    expect(readConfig()).toEqual({ auths: { "r:1": { auth: b64("a:b") } }, x: 1 });
    expect(removeCredentials(dir, "docker.io")).toBe(false);
  });
});
