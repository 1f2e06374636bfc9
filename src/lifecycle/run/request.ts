// What `run` and `create` are asked for, grouped by the part of the container each group shapes
// (runc's configs.Config groups its fields the same way): the process, its network and published
// ports, how long it lives and who supervises it, the resources it may use, and its privileges.
import type { PullOptions } from "../../rootfs/pull.ts";
import type { DeviceSpec } from "../../runtime/devicespec.ts";
import type { Rlimit } from "../../runtime/plan.ts";
import type { Resources } from "../../runtime/resources.ts";
import type { PlanInput } from "../../runtime/spec.ts";
import type { ImageUserRule } from "../../runtime/user.ts";
import type { DeviceRule } from "../../runtime/cgroups/devices.ts";
import type { Sysctl } from "../../runtime/sysctl.ts";
import type { VolumeSpec } from "../../runtime/volumes.ts";
import type { RestartPolicy } from "../monitor.ts";
import type { HealthConfig } from "./healthcheck.ts";
import type { NamespaceModes } from "./namespaces.ts";
import type { NetworkRequest } from "../../store/network-record.ts";
import type { ProbeRecord } from "../../store/probe-record.ts";
export type { NetworkRequest } from "../../store/network-record.ts";

export interface RunRequest {
  image: string;
  platform?: PullOptions["platform"];
  name?: string;
  /** -l/--label */
  labels?: Record<string, string>;
  process: ProcessRequest;
  volumes: VolumeSpec[];
  network: NetworkRequest;
  ports: PortsRequest;
  lifetime: LifetimeRequest;
  resources: ResourcesRequest;
  security: SecurityRequest;
  /** --ipc, --pid, --uts, --cgroupns. */
  namespaces: NamespaceModes;
  /** --pull: missing (default), always, never. */
  pull?: PullPolicy;
  /** -a: the streams attached (absent: stdout and stderr, and stdin with -i). */
  attach?: ("stdin" | "stdout" | "stderr")[];
  /** --health-* and --no-healthcheck, merged over the image's HEALTHCHECK into Config.Healthcheck. */
  healthcheck?: HealthConfig;
  /** --cidfile, for HostConfig.ContainerIDFile (the CLI writes it). */
  cidfile?: string;
  /** --pod, resolved to the pod's id (src/pod/join.ts set the namespace modes). */
  pod?: string;
  /** Kubernetes probes (play kube), run by the monitor of a detached container. */
  probes?: ProbeRecord[];
  /** play kube: env variables the downward API filled from the running pod (name → fieldPath), for generate kube. */
  fieldRefs?: Record<string, string>;
  /** Docker's warnings about what was asked (printed as "WARNING: …" when the container is made). */
  warnings?: string[];
  /** --volumes-from CONTAINER[:ro|:rw], as given: the other containers' mounts are taken when this one is made (run/links.ts). */
  volumesFrom?: string[];
  /** --link NAME[:ALIAS], parsed: checked, and its hosts line and variables made, when the container is. */
  links?: { name: string; alias: string }[];
  /** HostConfig keys of flags that shape nothing else (Annotations, Isolation, Runtime, KernelMemory…). */
  hostConfig?: Record<string, unknown>;
}

export type PullPolicy = "missing" | "always" | "never";

/** The command and what it runs as and with: as the plan takes them (runtime/spec.ts), and -i. */
export interface ProcessRequest extends Pick<PlanInput, "args" | "entrypoint" | "env" | "user" | "groupAdd" | "workdir" | "tty" | "init"> {
  /** -h; the id's first 12 characters when absent. */
  hostname?: string;
  /** -i: stdin stays open. */
  interactive: boolean;
  /** --stop-signal (else the image's STOPSIGNAL, else SIGTERM). */
  stopSignal?: string;
  /** --stop-timeout in seconds (else stop's 10). */
  stopTimeout?: number;
  /** --oom-score-adj: written to /proc/self/oom_score_adj by the init. */
  oomScoreAdj?: number;
  /** --domainname: the UTS namespace's NIS domain name (kernel.domainname). */
  domainname?: string;
  /** play kube: `user` is the image's, under these rules (runtime/user.ts imageUserSpec), once the image is known. */
  imageUser?: ImageUserRule;
}

/** -p/-P, resolved against the image's exposed ports once it is known. */
export interface PortsRequest {
  publish: string[];
  publishAll: boolean;
  /** --expose, as Config.ExposedPorts keys ("80/tcp"). */
  expose?: string[];
}

/** Who supervises the container and what happens when it ends. */
export interface LifetimeRequest {
  /** -d: a monitor supervises the container; runDetached returns once it runs. */
  detach: boolean;
  /** --rm */
  rm: boolean;
  /** --restart (detached only; Docker refuses it with --rm). */
  restart?: RestartPolicy;
  /** --log-opt max-size/max-file (default 10 MB × 3). */
  logConfig?: { maxSize: number; maxFile: number };
  /** --log-driver: json-file (default), local (json-file storage), none (no log kept). */
  logDriver?: "json-file" | "local" | "none";
}

export interface ResourcesRequest {
  /** The cgroup's limits (--memory, --cpus, --pids-limit, …). */
  limits: Resources;
  ulimits: Rlimit[];
  /** --device, parsed. */
  devices: DeviceSpec[];
  /** --device-cgroup-rule: allow rules after Docker's. */
  deviceCgroupRules?: DeviceRule[];
  /** --shm-size in bytes (Docker's default 64 MiB). */
  shmSize?: number;
  /** --cgroup-parent: the cgroup is <parent>/tinydock-<id> (runtime/cgroups cgroupLeaf). */
  cgroupParent?: string;
}

export interface SecurityRequest {
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  /** false with --security-opt seccomp=unconfined. */
  seccomp: boolean;
  /** --read-only: the root filesystem. */
  readOnly: boolean;
  /** --sysctl, validated against the namespaces. */
  sysctls?: Sysctl[];
}

export interface RunIo {
  /** Progress of an implicit pull goes here (stderr, as docker run does). */
  pullOut: (line: string) => void;
  stdin: number;
  stdout: number;
  stderr: number;
  /** With -t in the foreground: the init's end of the console socket (tty.ts), else -1. */
  consoleSocket: number;
  /** With -t: the terminal's size at the start (tty.ts consoleSizeOf); Docker's 24x80 when unset. */
  consoleSize?: { rows: number; cols: number };
  /** With -t: the read end of a pipe carrying a copy of the terminal's output, for the log (tty.ts). */
  logFeed?: number;
}
