// `tinydock build` and `commit` as a user runs them, on the busybox image from a private registry:
// multi-stage builds, metadata, whiteouts, the cache, failures that leave nothing, the context's
// boundary, and podman's build of the same Dockerfile as the oracle for the rootfs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { busyboxEnv, type BusyboxEnv } from "../helpers/busybox-env.ts";
import { BINARY, tinydock } from "../helpers/cli.ts";
import { findLeaks } from "../helpers/leakcheck.ts";
import { diffTrees, snapshotTree } from "../helpers/tree.ts";

let bb: BusyboxEnv;
let n = 0;
const T = (args: string[], stdin?: string) => tinydock(bb.env, args, stdin);
/** The binary run without blocking this process (for a server the build talks to from here). */
async function TA(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([BINARY, ...args], { env: bb.vars, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** A fresh context directory with these files (a string: content; null: a directory). */
function context(files: Record<string, string | null>): string {
  const dir = path.join(bb.dir, `ctx-${++n}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (content === null) fs.mkdirSync(p, { recursive: true });
    else fs.writeFileSync(p, content);
  }
  return dir;
}

function inspect(image: string): Record<string, any> {
  const r = T(["image", "inspect", image]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout)[0];
}

function mountedTree(image: string) {
  const m = T(["image", "mount", image]);
  expect(m.code).toBe(0);
  try {
    return snapshotTree(m.stdout.trim());
  } finally {
    T(["image", "unmount", image]);
  }
}

beforeAll(async () => {
  bb = await busyboxEnv("td-build-e2e-");
});

afterAll(async () => {
  await bb?.close();
});

describe("build", () => {
  test("multi-stage with COPY --from, ARG/ENV/LABEL/WORKDIR/USER, --build-arg, --label, --target", () => {
    const ctx = context({
      "app.txt": "app-data\n",
      Dockerfile: [
        "ARG VERSION=1",
        "FROM busybox AS builder",
        "ARG VERSION",
        "WORKDIR /src",
        "COPY app.txt .",
        'RUN echo "v$VERSION" > version && cat app.txt >> version',
        "",
        "FROM busybox",
        "ARG VERSION",
        'ENV APP_VERSION=$VERSION GREETING="hello world"',
        "LABEL org.example.version=$VERSION",
        "WORKDIR /app",
        "COPY --from=builder --chown=user /src/version ./",
        "USER user",
        'CMD ["sh", "-c", "id -u; pwd; cat version; echo $GREETING $APP_VERSION; ls -n version"]',
      ].join("\n"),
    });
    const b = T(["build", "-t", "multi:1", "--build-arg", "VERSION=7", "--label", "extra=yes", ctx]);
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("Successfully tagged multi:1");
    const r = T(["run", "--rm", "multi:1"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, 5)).toEqual(["1000", "/app", "v7", "app-data", "hello world 7"]);
    expect(lines[5]).toMatch(/^-rw-r--r--\s+1 1000\s+1000\s/);
    const cfg = inspect("multi:1").Config;
    expect(cfg.User).toBe("user");
    expect(cfg.WorkingDir).toBe("/app");
    expect(cfg.Env).toContain("APP_VERSION=7");
    expect(cfg.Labels["org.example.version"]).toBe("7");
    expect(cfg.Labels.extra).toBe("yes");
    // inherited from busybox, as Docker inherits them
    expect(cfg.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(cfg.Labels["org.opencontainers.image.title"]).toBe("busybox");
    // --target builds the first stage only, and -q prints the id alone
    const t = T(["build", "-q", "--target", "builder", "--build-arg", "VERSION=8", ctx]);
    expect(t.code).toBe(0);
    expect(t.stdout.trim()).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(T(["run", "--rm", t.stdout.trim(), "cat", "/src/version"]).stdout).toBe("v8\napp-data\n");
  });

  test("independent stages build side by side", () => {
    const stage = (name: string) => [`FROM busybox AS ${name}`, `RUN cut -d" " -f1 /proc/uptime > /start && sleep 1 && cut -d" " -f1 /proc/uptime > /end`];
    const ctx = context({
      Dockerfile: [...stage("a"), ...stage("b"), "FROM busybox", "COPY --from=a /start /a.start", "COPY --from=a /end /a.end", "COPY --from=b /start /b.start", "COPY --from=b /end /b.end"].join("\n"),
    });
    const b = T(["build", "-q", "--no-cache", "-t", "parallel", ctx]);
    expect(b.code).toBe(0);
    const read = (f: string) => Number(T(["run", "--rm", "parallel", "cat", f]).stdout.trim());
    const [as, ae, bs, be] = ["/a.start", "/a.end", "/b.start", "/b.end"].map(read) as [number, number, number, number];
    for (const t of [as, ae, bs, be]) expect(t).toBeGreaterThan(0);
    // each RUN sleeps a second; built one after the other their intervals could not overlap
    expect(as < be && bs < ae).toBe(true);
  });

  test("a RUN that deletes a base file: a whiteout in the layer, gone in run", () => {
    const ctx = context({ Dockerfile: "FROM busybox\nRUN rm /bin/vi && rm -r /www && mkdir /www && echo new > /www/index.html\n" });
    expect(T(["build", "-q", "-t", "wh", ctx]).code).toBe(0);
    const info = inspect("wh");
    const top = info.RootFS.Layers.at(-1) as string;
    // the unpacked top layer holds the overlay whiteout (char 0:0) and the opaque directory
    const diff = path.join(bb.env.root, "layers", top.slice(7), "diff");
    const st = fs.lstatSync(path.join(diff, "bin", "vi"));
    expect(st.isCharacterDevice() && st.rdev === 0).toBe(true);
    const r = T(["run", "--rm", "wh", "sh", "-c", "ls /bin/vi; ls /www; cat /www/index.html"]);
    expect(r.stdout).toBe("index.html\nnew\n");
    expect(r.stderr).toContain("/bin/vi: No such file or directory");
  });

  test("the cache: an unchanged rebuild reuses every step and gives the same id; a context change invalidates from the COPY on", () => {
    const ctx = context({ "a.txt": "one", "b.txt": "b", Dockerfile: "FROM busybox\nRUN echo first > /first\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\n" });
    const first = T(["build", "-t", "cached", ctx]);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain("Using cache");
    const id1 = inspect("cached").Id;
    const again = T(["build", "-t", "cached", ctx]);
    expect(again.stdout.match(/Using cache/g)?.length).toBe(4);
    expect(again.stdout).not.toContain("Removing intermediate container");
    expect(inspect("cached").Id).toBe(id1);
    fs.writeFileSync(path.join(ctx, "a.txt"), "two");
    const changed = T(["build", "-t", "cached", ctx]);
    expect(changed.code).toBe(0);
    expect(changed.stdout.match(/Using cache/g)?.length).toBe(1); // the first RUN only
    expect(T(["run", "--rm", "cached", "cat", "/copy"]).stdout).toBe("two");
    // --no-cache runs everything again
    const nc = T(["build", "--no-cache", "-t", "cached", ctx]);
    expect(nc.stdout).not.toContain("Using cache");
  });

  test("a failing RUN: non-zero exit naming the step, its command and exit code; nothing tagged, no container, mount, cgroup or temp dir left", () => {
    const ctx = context({ Dockerfile: "FROM busybox\nRUN echo partial > /partial\nRUN touch /x && exit 3\n" });
    const before = T(["images", "-q"]).stdout;
    const r = T(["build", "-t", "failing", ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('RUN: process "/bin/sh -c touch /x && exit 3" did not complete successfully: exit code: 3');
    expect(r.stderr).toContain("Dockerfile:3");
    expect(T(["image", "inspect", "failing"]).code).toBe(1);
    expect(T(["images", "-q"]).stdout).toBe(before);
    expect(T(["ps", "-aq"]).stdout).toBe("");
    const ids = [...r.stdout.matchAll(/Removing intermediate container ([a-f0-9]{12})/g)].map((m) => m[1]!);
    expect(ids.length).toBe(2);
    for (const id of ids) expect(findLeaks(id)).toEqual([]);
    expect(findLeaks(bb.dir)).toEqual([]);
    expect(fs.readdirSync(path.join(bb.env.root, "tmp"))).toEqual([]);
  });

  test("Ctrl-C during a RUN: the build stops, nothing is tagged or left", async () => {
    const ctx = context({ Dockerfile: "FROM busybox\nRUN echo started; sleep 30\n" });
    const p = Bun.spawn([BINARY, "build", "-t", "interrupted", ctx], { env: bb.vars, stdout: "pipe", stderr: "pipe" });
    const reader = p.stdout.getReader();
    let out = "";
    const deadline = Date.now() + 20_000;
    while (!out.includes("started") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(out).toContain("started");
    const t0 = Date.now();
    p.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      out += new TextDecoder().decode(value);
    }
    expect(await p.exited).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(T(["image", "inspect", "interrupted"]).code).toBe(1);
    expect(T(["ps", "-aq"]).stdout).toBe("");
    const id = /Removing intermediate container ([a-f0-9]{12})/.exec(out)?.[1];
    expect(id).toBeDefined();
    expect(findLeaks(id!)).toEqual([]);
    expect(findLeaks(bb.dir)).toEqual([]);
  });

  test(".dockerignore excludes files from COPY, with ! exceptions", () => {
    const ctx = context({ ".dockerignore": "*.log\n!keep.log\nsecret/\n", "a.log": "x", "keep.log": "k", "secret/key": "s", "ok.txt": "o", Dockerfile: "FROM busybox\nCOPY . /c/\n" });
    expect(T(["build", "-t", "ignored", ctx]).code).toBe(0);
    expect(T(["run", "--rm", "ignored", "ls", "-A", "/c"]).stdout.split("\n").filter(Boolean)).toEqual([".dockerignore", "Dockerfile", "keep.log", "ok.txt"]);
  });

  test("ADD extracts a local tar (owners kept) and downloads an http URL checked against --checksum", async () => {
    const ctx = context({ "payload/dir/f": "in-tar" });
    fs.chownSync(path.join(ctx, "payload", "dir", "f"), 1234, 5678);
    expect(Bun.spawnSync(["tar", "-C", path.join(ctx, "payload"), "-czf", path.join(ctx, "p.tar.gz"), "dir"]).exitCode).toBe(0);
    const body = "downloaded-content\n";
    const sum = `sha256:${new Bun.CryptoHasher("sha256").update(body).digest("hex")}`;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(body) });
    try {
      const url = `http://127.0.0.1:${server.port}/files/remote.txt`;
      fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM busybox\nADD p.tar.gz /x/\nADD --checksum=${sum} ${url} /dl/\n`);
      const b = await TA(["build", "-t", "added", ctx]);
      expect(b.stderr).toBe("");
      expect(b.code).toBe(0);
      const r = T(["run", "--rm", "added", "sh", "-c", "cat /x/dir/f; stat -c '%u:%g' /x/dir/f; cat /dl/remote.txt; stat -c '%a' /dl/remote.txt"]);
      expect(r.stdout).toBe("in-tar1234:5678\ndownloaded-content\n600\n");
      fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM busybox\nADD --checksum=sha256:${"0".repeat(64)} ${url} /dl/\n`);
      const bad = await TA(["build", "-t", "added-bad", ctx]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("digest mismatch");
    } finally {
      server.stop(true);
    }
  });

  test("a syntax error or unknown instruction: one line naming the file and line, exit 1", () => {
    const ctx = context({ Dockerfile: "FROM busybox\n\nFROBNICATE x\n" });
    const r = T(["build", ctx]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`Error: Cannot parse Dockerfile "${path.join(ctx, "Dockerfile")}" line 3: unknown instruction: FROBNICATE\n`);
  });

  test("a Dockerfile on stdin with -f -, and a context tar on stdin", () => {
    const ctx = context({ "f.txt": "from-tar" });
    const r = T(["build", "-q", "-t", "stdin-df", "-f", "-", ctx], "FROM busybox\nCOPY f.txt /f\n");
    expect(r.code).toBe(0);
    expect(T(["run", "--rm", "stdin-df", "cat", "/f"]).stdout).toBe("from-tar");
    fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM busybox\nCOPY f.txt /g\n");
    const tar = Bun.spawnSync(["tar", "-C", ctx, "-cf", "-", "."], { stdout: "pipe" }).stdout;
    const p = Bun.spawnSync([BINARY, "build", "-q", "-t", "stdin-tar", "-"], { env: bb.vars, stdin: tar, stdout: "pipe", stderr: "pipe" });
    expect(p.stderr.toString()).toBe("");
    expect(p.exitCode).toBe(0);
    expect(T(["run", "--rm", "stdin-tar", "cat", "/g"]).stdout).toBe("from-tar");
  });
});

describe("build: Dockerfile features", () => {
  test("here-documents: RUN <<EOF runs the document, a #! document runs as a script, COPY <<EOF writes files (expanded unless quoted)", () => {
    const ctx = context({
      Dockerfile: [
        "FROM busybox",
        "ENV WHO=world",
        "RUN <<EOF",
        "echo hi > /h",
        "echo there >> /h",
        "EOF",
        "RUN cat <<-A > /a && cat <<'B' > /b",
        "\ttab $WHO",
        "\tA",
        'lit $WHO "q"',
        "B",
        "RUN <<SCRIPT",
        "#!/bin/sh",
        'echo "script $0" > /s',
        "SCRIPT",
        'COPY <<EOT <<"RAW" /docs/',
        "hello $WHO 'q'",
        "EOT",
        "raw $WHO",
        "RAW",
      ].join("\n"),
    });
    const b = T(["build", "-q", "-t", "heredoc", ctx]);
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);
    const r = T(["run", "--rm", "heredoc", "sh", "-c", "cat /h /a /b /s /docs/EOT /docs/RAW; stat -c %a /docs/EOT"]);
    expect(r.stdout).toBe(`hi\nthere\ntab world\nlit $WHO "q"\nscript /dev/pipes/SCRIPT\nhello world 'q'\nraw $WHO\n644\n`);
    // the script's content is in the cache key: a changed script runs again
    fs.writeFileSync(path.join(ctx, "Dockerfile"), fs.readFileSync(path.join(ctx, "Dockerfile"), "utf8").replace('"script $0"', '"changed $0"'));
    expect(T(["build", "-q", "-t", "heredoc", ctx]).code).toBe(0);
    expect(T(["run", "--rm", "heredoc", "cat", "/s"]).stdout).toBe("changed /dev/pipes/SCRIPT\n");
  });

  test("a built image (COPY, WORKDIR and RUN layers) saves in both formats and loads back", () => {
    const ctx = context({ "f.txt": "saved", Dockerfile: "FROM busybox\nWORKDIR /new/dir\nCOPY f.txt .\nRUN echo ran > r\n" });
    expect(T(["build", "-q", "-t", "tosave", ctx]).code).toBe(0);
    const id = inspect("tosave").Id;
    for (const format of ["docker-archive", "oci-archive"]) {
      const file = path.join(bb.dir, `built-${format}.tar`);
      expect(T(["save", "--format", format, "-o", file, "tosave"])).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(T(["rmi", "tosave"]).code).toBe(0);
      expect(T(["load", "-i", file]).stdout).toBe("Loaded image: tosave:latest\n");
      expect(inspect("tosave").Id).toBe(id);
      expect(T(["run", "--rm", "tosave", "cat", "f.txt", "r"]).stdout).toBe("savedran\n");
    }
  });

  test(".dockerignore: an exception brings a file back from an excluded directory; an excluded one without exceptions stays out", () => {
    const ctx = context({ ".dockerignore": "logs\n!logs/keep.txt\ncache\n", "logs/keep.txt": "k", "logs/drop.txt": "d", "logs/sub/x": "x", "cache/c": "c", Dockerfile: "FROM busybox\nCOPY . /c/\n" });
    expect(T(["build", "-q", "-t", "reincluded", ctx]).code).toBe(0);
    expect(T(["run", "--rm", "reincluded", "find", "/c/logs", "/c/cache"]).stdout).toBe("/c/logs\n/c/logs/keep.txt\n");
    // the brought-back file is in the COPY's cache key
    fs.writeFileSync(path.join(ctx, "logs", "keep.txt"), "k2");
    expect(T(["build", "-q", "-t", "reincluded", ctx]).code).toBe(0);
    expect(T(["run", "--rm", "reincluded", "cat", "/c/logs/keep.txt"]).stdout).toBe("k2");
  });

  test("ADD extracts tars compressed with xz, bzip2 and zstd; a gzip that holds no tar is copied as it is", () => {
    const ctx = context({ "d/f": "in" });
    for (const [flag, name] of [["-J", "a.tar.xz"], ["-j", "a.tar.bz2"], ["--zstd", "a.tar.zst"]]) expect(Bun.spawnSync(["tar", "-C", ctx, flag!, "-cf", path.join(ctx, name!), "d"]).exitCode).toBe(0);
    fs.writeFileSync(path.join(ctx, "t.gz"), Bun.gzipSync(new TextEncoder().encode("text\n")));
    fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM busybox\nADD a.tar.xz /xz/\nADD a.tar.bz2 /bz/\nADD a.tar.zst /zs/\nADD t.gz /g/\n");
    const b = T(["build", "-q", "-t", "archives", ctx]);
    expect(b.stderr).toBe("");
    expect(T(["run", "--rm", "archives", "sh", "-c", "cat /xz/d/f /bz/d/f /zs/d/f; ls /g"]).stdout).toBe("ininint.gz\n");
  });

  test("FROM --platform and BuildKit's platform ARGs: $BUILDPLATFORM is the host's; a platform the image lacks fails", () => {
    const ctx = context({ Dockerfile: "ARG TARGETOS\nFROM --platform=$BUILDPLATFORM busybox\nARG TARGETARCH\nARG TARGETOS\nRUN echo $TARGETOS/$TARGETARCH > /p\n" });
    expect(T(["build", "-q", "-t", "plat", ctx]).code).toBe(0);
    expect(T(["run", "--rm", "plat", "cat", "/p"]).stdout).toBe("linux/amd64\n");
    const arm = context({ Dockerfile: "FROM --platform=linux/arm64 busybox\nRUN true\n" });
    const r = T(["build", "-q", arm]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not the requested linux/arm64");
  });

  test("an error in a step names the file and line: a bad expansion, a missing source, an unknown user; HEALTHCHECK with a non-JSON command is the shell form", () => {
    const cases: [string, string][] = [
      ["FROM busybox\nENV A=${X:?needed}\n", 'line 2: cannot expand "${X:?needed}": X: needed'],
      ["FROM busybox\n\nCOPY nothere /x\n", "Dockerfile:3) COPY: Cannot copy \"nothere\": not found in the build context"],
      ["FROM busybox\nUSER nosuch\nRUN true\n", "Dockerfile:3) RUN: "],
      ["FROM busybox\nEXPOSE abc\n", "line 2: cannot parse EXPOSE"],
    ];
    for (const [text, want] of cases) {
      const ctx = context({ Dockerfile: text });
      const r = T(["build", "-q", ctx]);
      expect(r.code).toBe(1);
      expect(r.stderr.split("\n").length).toBe(2);
      expect(r.stderr).toContain(want);
    }
    const ctx = context({ Dockerfile: "FROM busybox\nHEALTHCHECK CMD [not json\n" });
    expect(T(["build", "-q", "-t", "hc", ctx]).code).toBe(0);
    expect(inspect("hc").Config.Healthcheck.Test).toEqual(["CMD-SHELL", "[not json"]);
  });
});

describe("commit", () => {
  test("the container's changes become a layer; --change sets CMD/ENV/LABEL; -m and -a recorded", () => {
    const c = T(["run", "--name", "to-commit", "busybox", "sh", "-c", "echo changed > /new; rm /bin/vi"]);
    expect(c.code).toBe(0);
    const r = T(["commit", "-c", 'CMD ["cat", "/new"]', "-c", "ENV COMMITTED=1", "-c", "LABEL by=commit", "-m", "a message", "-a", "Me <me@example.com>", "to-commit", "committed:v1"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(T(["run", "--rm", "committed:v1"]).stdout).toBe("changed\n");
    expect(T(["run", "--rm", "committed:v1", "sh", "-c", "test -e /bin/vi || echo $COMMITTED gone"]).stdout).toBe("1 gone\n");
    const info = inspect("committed:v1");
    expect(info.Config.Labels.by).toBe("commit");
    expect(info.Author).toBe("Me <me@example.com>");
    expect(info.RootFS.Layers.length).toBe(inspect("busybox").RootFS.Layers.length + 1);
    T(["rm", "-f", "to-commit"]);
  });
});

describe("podman as the oracle", () => {
  test("podman build --runtime runc of the same Dockerfile gives the same rootfs (modulo timestamps)", () => {
    const ctx = context({
      "data/a.txt": "a",
      "data/sub/b.txt": "b",
      Dockerfile: [
        "FROM scratch",
        "COPY busybox /bin/busybox",
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        "COPY data /data",
        "COPY --chmod=0700 data/a.txt /secret/",
        "WORKDIR /work",
        "RUN rm /bin/ls && mkdir -p /app && echo hi > /app/x && ln /app/x /app/hard && ln -s x /app/soft && chmod 4755 /app/x && rm -r /data/sub",
        "ENV X=1",
      ].join("\n"),
    });
    fs.copyFileSync("/bin/busybox", path.join(ctx, "busybox"));
    fs.chmodSync(path.join(ctx, "busybox"), 0o755);
    for (const f of ["data/a.txt", "data/sub/b.txt"]) fs.chmodSync(path.join(ctx, f), 0o644);
    const b = T(["build", "-q", "-t", "oracle", ctx]);
    expect(b.stderr).toBe("");
    expect(b.code).toBe(0);

    const pod = path.join(bb.dir, "podman");
    fs.mkdirSync(pod);
    fs.writeFileSync(path.join(pod, "containers.conf"), '[containers]\ndefault_ulimits = ["nofile=1024:1024","nproc=1024:1024"]\n[engine]\nruntime = "runc"\n');
    fs.writeFileSync(path.join(pod, "registries.conf"), "unqualified-search-registries = []\n");
    const penv = { ...bb.vars, CONTAINERS_CONF: path.join(pod, "containers.conf"), CONTAINERS_REGISTRIES_CONF: path.join(pod, "registries.conf") };
    const podman = (args: string[]) => Bun.spawnSync(["podman", "--root", path.join(pod, "storage"), "--runroot", path.join(pod, "run"), "--storage-driver", "overlay", ...args], { env: penv, stdout: "pipe", stderr: "pipe" });
    try {
      const pb = podman(["build", "--runtime", "runc", "--network", "none", "-t", "oracle", ctx]);
      expect(pb.exitCode).toBe(0);
      const m = podman(["image", "mount", "oracle"]);
      expect(m.exitCode).toBe(0);
      // buildah leaves mount points of its own: /run, and /etc with a hostname file (this
      // Dockerfile writes nothing under either).
      const theirs = snapshotTree(m.stdout.toString().trim(), { ignore: (p) => p === "run" || p === "etc" });
      podman(["image", "unmount", "oracle"]);
      const ours = mountedTree("oracle");
      expect(diffTrees(theirs, ours)).toEqual([]);
      expect(ours.find((r) => r.path === "secret/a.txt")?.mode).toBe(0o700);
      expect(ours.find((r) => r.path === "app/x")?.nlink).toBe(2);
    } finally {
      podman(["image", "unmount", "-a"]);
      podman(["rmi", "-af"]);
      Bun.spawnSync(["podman", "--root", path.join(pod, "storage"), "--runroot", path.join(pod, "run"), "system", "reset", "-f"], { env: penv, stdout: "ignore", stderr: "ignore" });
    }
  });
});
