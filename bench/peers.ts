// The tools tinydock is measured against, each with private storage and config under the bench's
// work directory, so none reads the host's settings, writes the host's storage or looks up a host
// other than the local registry.
import fs from "node:fs";
import path from "node:path";
import { buildDefinition } from "../images/build.ts";
import { pushImage } from "../test/helpers/image.ts";
import { startRegistry, type TestRegistry } from "../test/helpers/registry.ts";
import { Trash } from "./trash.ts";

export interface Peer {
  /** The timed command, for /bin/sh. */
  command: string;
  /** Brings the tool back to "never pulled" (not timed). */
  prepare: string;
  /** Where its pulled image ends up, for the disk-usage line. */
  storage: string;
}

export interface Peers {
  podman: Peer;
  skopeoUmoci: Peer;
  /** The OCI bundle `umoci unpack` makes (config.json and rootfs/). */
  bundle: string;
  /** podman with its private storage and config, for cleanup. */
  podmanArgv: string[];
  /** Variables every command of the bench runs with. */
  env: Record<string, string>;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * podman 4.3, as root, lowers its own RLIMIT_NPROC to 32768 when it starts, then asks for the host's
 * hard limit in the container, which only CAP_SYS_RESOURCE may grant: so the smaller of the two.
 */
function containerNproc(): number {
  const PODMAN_NPROC = 32768;
  try {
    const m = /^Max processes\s+\S+\s+(\d+|unlimited)/m.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    if (m && m[1] !== "unlimited") return Math.min(Number(m[1]), PODMAN_NPROC);
  } catch {
    // no /proc: keep podman's own value
  }
  return PODMAN_NPROC;
}

export function setUpPeers(workdir: string, registryHost: string, reference: string, trash: Trash): Peers {
  const dir = (...parts: string[]): string => {
    const p = path.join(workdir, ...parts);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const conf = dir("conf");
  const tmp = dir("tmp");
  const podmanRoot = dir("podman", "root");
  const podmanRunroot = dir("podman", "runroot");
  const podmanTmp = dir("podman", "tmp");

  const policy = path.join(conf, "policy.json");
  fs.writeFileSync(policy, `${JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] })}\n`);
  const registries = path.join(conf, "registries.conf");
  fs.writeFileSync(
    registries,
    [
      "unqualified-search-registries = []",
      'short-name-mode = "enforcing"',
      "",
      "[[registry]]",
      `location = "${registryHost}"`,
      "insecure = true",
      "",
      // docker.io names (a Kubernetes YAML's images) from the local registry: no other host is looked up.
      "[[registry]]",
      'prefix = "docker.io"',
      `location = "${registryHost}"`,
      "insecure = true",
      "",
    ].join("\n"),
  );
  const containers = path.join(conf, "containers.conf");
  fs.writeFileSync(
    containers,
    [
      "[containers]",
      // Without CAP_SYS_RESOURCE `podman run` cannot raise a container's limits above its own
      // (runc: "error setting rlimit type 6: operation not permitted"); see containerNproc.
      `default_ulimits = ["nofile=1024:1024", "nproc=${containerNproc()}:${containerNproc()}"]`,
      "",
      "[engine]",
      'runtime = "runc"',
      'cgroup_manager = "cgroupfs"',
      // Pull events would go to the host's journal or event log otherwise.
      'events_logger = "none"',
      // File locks under tmp_dir instead of the host's shared /dev/shm/libpod_lock.
      'lock_type = "file"',
      `tmp_dir = "${podmanTmp}"`,
      `image_copy_tmp_dir = "${tmp}"`,
      `static_dir = "${path.join(podmanRoot, "libpod")}"`,
      `volume_path = "${path.join(podmanRoot, "volumes")}"`,
      "",
      "[network]",
      `network_config_dir = "${dir("podman", "networks")}"`,
      "",
    ].join("\n"),
  );
  const storage = path.join(conf, "storage.conf");
  fs.writeFileSync(
    storage,
    ["[storage]", 'driver = "overlay"', `graphroot = "${podmanRoot}"`, `runroot = "${podmanRunroot}"`, ""].join("\n"),
  );
  const authFile = path.join(conf, "auth.json");
  fs.writeFileSync(authFile, '{"auths":{}}\n');

  const podmanArgv = ["podman", "--root", podmanRoot, "--runroot", podmanRunroot, "--tmpdir", podmanTmp, "--storage-driver", "overlay"];
  const podman = podmanArgv.map(q).join(" ");
  const layout = path.join(workdir, "skopeo", "oci");
  const bundle = path.join(workdir, "skopeo", "bundle");

  return {
    podman: {
      command: `${podman} pull --quiet --tls-verify=false --signature-policy ${q(policy)} ${q(reference)}`,
      // A fresh store each time (see trash.ts for why not `rmi -a`), set up before the clock starts.
      prepare: `${trash.command([podmanRoot, podmanRunroot, podmanTmp])} && ${podman} images -q >/dev/null && sync`,
      storage: podmanRoot,
    },
    skopeoUmoci: {
      command:
        `skopeo --policy ${q(policy)} copy --quiet --src-tls-verify=false docker://${reference} oci:${q(layout)}:v1` +
        ` && umoci unpack --image ${q(layout)}:v1 ${q(bundle)}`,
      prepare: `${trash.command([layout, bundle])} && mkdir -p ${q(path.dirname(layout))} && sync`,
      storage: path.dirname(layout),
    },
    bundle,
    podmanArgv,
    env: {
      CONTAINERS_CONF: containers,
      CONTAINERS_REGISTRIES_CONF: registries,
      CONTAINERS_STORAGE_CONF: storage,
      REGISTRY_AUTH_FILE: authFile,
      TMPDIR: tmp,
    },
  };
}

/**
 * The environment every tool of a comparison runs in, under `workdir`: PATH, a HOME with an empty
 * .docker, `extra`, the peers' own variables, and tinydock's root and config (with `mirror`, that
 * registry as its only mirror; without, an empty config).
 */
export function toolsEnv(workdir: string, pathEnv: string, peers: Peers, tinydockRoot: string, mirror?: string, extra: Record<string, string> = {}): Record<string, string> {
  const config = path.join(workdir, "conf", "tinydock.json");
  fs.writeFileSync(config, `${JSON.stringify(mirror ? { "registry-mirrors": [mirror], "mirror-fallback": false } : {})}\n`);
  const home = path.join(workdir, "home");
  fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
  return { PATH: pathEnv, HOME: home, ...extra, ...peers.env, TINYDOCK_ROOT: tinydockRoot, TINYDOCK_CONFIG: config, DOCKER_CONFIG: path.join(home, ".docker") };
}

/** What busyboxPeers sets up: images/busybox in a local registry, podman and tinydock pointed at it. */
export interface BusyboxPeers {
  registry: TestRegistry;
  /** The image's name in that registry. */
  reference: string;
  peers: Peers;
  /** tinydock's environment (toolsEnv) with `extra`. */
  env: Record<string, string>;
}

/**
 * A local registry with images/busybox as library/busybox:latest, the peers set up against it and
 * tinydock's environment with it as the mirror. `started` gets the registry as soon as it runs, so
 * the caller's clean-up stops it even when a later step fails.
 */
export async function busyboxPeers(workdir: string, pathEnv: string, tinydockRoot: string, started: (r: TestRegistry) => void, extra: Record<string, string> = {}): Promise<BusyboxPeers> {
  const registry = await startRegistry();
  started(registry);
  const { image } = await buildDefinition(path.join(import.meta.dir, "..", "images", "busybox"), { log: () => {} });
  await pushImage(registry, "library/busybox", "latest", image);
  const reference = `${registry.host}/library/busybox:latest`;
  const peers = setUpPeers(workdir, registry.host, reference, new Trash(undefined));
  return { registry, reference, peers, env: toolsEnv(workdir, pathEnv, peers, tinydockRoot, registry.url, extra) };
}
