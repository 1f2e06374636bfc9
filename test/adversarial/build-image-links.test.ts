// A Dockerfile whose RUN steps plant symlinks in the image (absolute ones naming host paths, relative
// ones climbing far above the root) and whose later COPY, ADD, WORKDIR, --chown and COPY --from
// paths go through them. The links must be resolved inside the image as Docker resolves them (a
// link to /etc is the image's /etc), never by the host: nothing of the host is read, written or
// removed, not even a directory's owner or mode.
import { afterAll, beforeAll, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { recordCases } from "../helpers/adversarial.ts";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { tinydock } from "../helpers/cli.ts";

let bb: BusyboxEnv;
let n = 0;
const T = (args: string[]) => tinydock(bb.env, args);
const SECRET = "HOST-SECRET-CONTENT";
let host: string;
/** The same host directory reached from a layer's directory by climbing: far more ".." than it is deep. */
let climb: string;

beforeAll(async () => {
  bb = await busyboxEnv("td-build-links-");
  host = path.join(bb.dir, "host");
  climb = `${"../".repeat(40)}${host.slice(1)}`;
  fs.mkdirSync(path.join(host, "sub"), { recursive: true });
  fs.chownSync(path.join(host, "sub"), 4242, 4242);
  fs.chmodSync(path.join(host, "sub"), 0o700);
  fs.writeFileSync(path.join(host, "secret"), SECRET);
  fs.writeFileSync(path.join(host, "passwd"), "hostonly:x:4242:4242::/:/bin/sh\n");
  fs.writeFileSync(path.join(host, "group"), "hostonly:x:4242:\n");
  fs.writeFileSync(path.join(host, "hostname"), "");
});

afterAll(async () => {
  await bb?.close();
});

function build(dockerfile: string, tag: string) {
  const dir = path.join(bb.dir, `ctx-${++n}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile);
  fs.writeFileSync(path.join(dir, "f"), "from-context\n");
  return T(["build", "-t", tag, dir]);
}

const sh = (image: string, script: string) => T(["run", "--rm", image, "sh", "-c", script]).stdout.trim();

/** The host tree under `host`, names with owner and mode: it must end as it began. */
function hostTree(): string {
  return fs
    .readdirSync(host, { recursive: true })
    .map(String)
    .sort()
    .map((n) => {
      const st = fs.lstatSync(path.join(host, n));
      return `${n} ${st.uid} ${(st.mode & 0o7777).toString(8)} ${st.size}`;
    })
    .join("\n");
}

test("COPY, ADD and WORKDIR through RUN-made links resolve inside the image, never on the host", () => {
  const before = hostTree();
  const cases: [string, string, string, string][] = [
    // [link target, step, check in the image, expected]
    ["/etc", "COPY f /app/x", "readlink /app; cat /etc/x", "/etc\nfrom-context"],
    ["../../../../tmp", "COPY f /app/x", "readlink /app; cat /tmp/x", "../../../../tmp\nfrom-context"],
    ["/etc", "ADD f /app/", "cat /etc/f", "from-context"],
    ["/etc", "COPY f /app", "cat /etc/f", "from-context"],
    // The host has HOST/sub (owner 4242, mode 0700): the image has no such directory.
    [host, "COPY f /app/sub/x", `stat -c '%u %a' ${host}/sub; cat ${host}/sub/x`, "0 755\nfrom-context"],
    [climb, "COPY f /app/sub/x", `stat -c '%u %a' ${host}/sub; cat ${host}/sub/x`, "0 755\nfrom-context"],
    [host, "COPY f /app/sub", `cat ${host}/sub`, "from-context"],
    [host, "WORKDIR /app/sub", `stat -c "%u %a" ${host}/sub; readlink /app`, `0 755\n${host}`],
    [climb, "WORKDIR /app/sub", `stat -c '%u %a' ${host}/sub`, "0 755"],
    [host, "COPY f /app/secret", `cat ${host}/secret`, "from-context"],
  ];
  for (const [target, step, check, want] of cases) {
    const r = build(`FROM busybox\nRUN ln -s ${target} /app\n${step}\n`, "links");
    expect(`${target} ${step}: ${r.code} ${r.stderr}`).toBe(`${target} ${step}: 0 `);
    expect(`${target} ${step}: ${sh("links", check)}`).toBe(`${target} ${step}: ${want}`);
  }
  expect(hostTree()).toBe(before);
  recordCases("build: COPY/ADD/WORKDIR destinations through RUN-made absolute and climbing symlinks", cases.length);
});

test("--chown looks users up in the image's /etc even when it is a link to a host directory", () => {
  for (const target of [host, climb]) {
    const df = [`FROM busybox AS a`, `RUN ln -s ${target} /etclink`, `FROM scratch`, `COPY --from=a /etclink /etc`, `COPY --chown=hostonly f /x`, ""].join("\n");
    const r = build(df, "chown-link");
    expect(`${target}: ${r.code}`).toBe(`${target}: 1`);
    expect(r.stderr).toContain("unable to find user hostonly");
  }
  recordCases("build: --chown lookups through an /etc linked to the host", 2);
});

test("COPY --from paths through the source stage's links read that stage, never the host", () => {
  const cases = [`/m/secret`, `/r/secret`, `/m/../m/secret`, `/d/up/secret`];
  for (const src of cases) {
    const df = [`FROM busybox AS a`, `RUN ln -s ${host} /m && ln -s ${climb} /r && mkdir /d && ln -s ../m /d/up`, `FROM busybox`, `COPY --from=a ${src} /x`, ""].join("\n");
    const r = build(df, "from-link");
    // Not in the stage: refused, as Docker refuses it; nothing tagged, so nothing leaked.
    expect(`${src}: ${r.code}`).toBe(`${src}: 1`);
    expect(T(["image", "inspect", "from-link"]).code).toBe(1);
  }
  const r = build([`FROM busybox AS a`, `RUN ln -s ${host} /m`, `FROM busybox`, `COPY --from=a /m /x`, ""].join("\n"), "from-link");
  expect(r.code).toBe(0);
  expect(sh("from-link", "readlink /x; cat /x/secret 2>/dev/null")).toBe(host);
  recordCases("build: COPY --from sources through absolute and climbing links of the source stage", cases.length + 1);
});

test("a RUN that makes /etc a link to the host leaves the host's files alone when its mount points are pruned", () => {
  const before = hostTree();
  const df = [`FROM busybox AS a`, `FROM scratch`, `COPY --from=a /bin /bin`, `RUN mv /etc /e && ln -s ${host} /etc`, ""].join("\n");
  const r = build(df, "prune-link");
  expect(`${r.code} ${r.stderr}`).toBe("0 ");
  expect(fs.existsSync(path.join(host, "hostname"))).toBe(true);
  expect(hostTree()).toBe(before);
  recordCases("build: mount point pruning through a RUN-made /etc link", 1);
});
