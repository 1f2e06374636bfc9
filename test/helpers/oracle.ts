// Test oracles: Debian's skopeo and umoci pull and unpack the same image tinydock does, so a test
// can diff the two root filesystems. They are never used by the engine itself.
import fs from "node:fs";
import path from "node:path";

function run(argv: string[], what: string): string {
  const out = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (out.exitCode !== 0) {
    throw new Error(`Cannot ${what}: ${argv.join(" ")} exited ${out.exitCode}\n${out.stderr.toString().trim()}`);
  }
  return out.stdout.toString();
}

/** skopeo's --creds form, when the registry wants a password. */
function credsArgs(flag: string, auth?: { user: string; password: string }): string[] {
  return auth ? [`${flag}=${auth.user}:${auth.password}`] : [];
}

/**
 * Copies host/repo:tag into an OCI layout with skopeo, then unpacks it with umoci, under
 * `workdir` (created if missing). Returns the rootfs path. For an index, skopeo picks the host's
 * platform as tinydock should.
 */
export function umociUnpack(
  registry: { host: string },
  repo: string,
  tag: string,
  workdir: string,
  auth?: { user: string; password: string },
): string {
  const layout = path.join(workdir, "oci");
  const bundle = path.join(workdir, "bundle");
  fs.mkdirSync(workdir, { recursive: true });
  fs.rmSync(bundle, { recursive: true, force: true });
  const copy = (extra: string[]) =>
    run(
      [
        "skopeo",
        "--insecure-policy",
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        ...extra,
        ...credsArgs("--src-creds", auth),
        `docker://${registry.host}/${repo}:${tag}`,
        `oci:${layout}:${tag}`,
      ],
      `copy ${registry.host}/${repo}:${tag} with skopeo`,
    );
  copy([]);
  try {
    run(["umoci", "unpack", "--image", `${layout}:${tag}`, bundle], `unpack ${layout}:${tag} with umoci`);
  } catch (err) {
    // Debian's umoci 0.4.7 predates zstd layers: let skopeo recompress them as gzip (the tree
    // inside is the same) and unpack that.
    if (!/zstd|unsupported.*compression|media ?type/i.test(String(err))) throw err;
    fs.rmSync(layout, { recursive: true, force: true });
    fs.rmSync(bundle, { recursive: true, force: true });
    copy(["--dest-compress", "--dest-compress-format", "gzip"]);
    run(["umoci", "unpack", "--image", `${layout}:${tag}`, bundle], `unpack ${layout}:${tag} with umoci`);
  }
  return path.join(bundle, "rootfs");
}

/** The manifest exactly as the registry serves it (skopeo inspect --raw). */
export function skopeoRawManifest(
  registry: { host: string },
  repo: string,
  tag: string,
  auth?: { user: string; password: string },
): Uint8Array {
  const out = Bun.spawnSync(
    ["skopeo", "inspect", "--tls-verify=false", ...credsArgs("--creds", auth), "--raw", `docker://${registry.host}/${repo}:${tag}`],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  if (out.exitCode !== 0) {
    throw new Error(`Cannot inspect ${registry.host}/${repo}:${tag} with skopeo: exit ${out.exitCode}\n${out.stderr.toString().trim()}`);
  }
  return new Uint8Array(out.stdout);
}
