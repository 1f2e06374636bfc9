// What `run` and `create` are asked for, grouped by the part of the container each group shapes
// (runc's configs.Config groups its fields the same way): the process, its network and published
// ports, how long it lives and who supervises it, the resources it may use, and its privileges.
import type { PullOptions } from "../../rootfs/pull.ts";
import type { DeviceSpec } from "../../runtime/devicespec.ts";
import type { Rlimit } from "../../runtime/plan.ts";
import type { Resources } from "../../runtime/resources.ts";
import type { PlanInput } from "../../runtime/spec.ts";
import type { VolumeSpec } from "../../runtime/volumes.ts";
import type { RestartPolicy } from "../monitor.ts";

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
}

/** The command and what it runs as and with: as the plan takes them (runtime/spec.ts), and -i. */
export interface ProcessRequest extends Pick<PlanInput, "args" | "entrypoint" | "env" | "user" | "groupAdd" | "workdir" | "tty" | "init"> {
  /** -h; the id's first 12 characters when absent. */
  hostname?: string;
  /** -i: stdin stays open. */
  interactive: boolean;
}

/** The network flags, kept in state.json (with the ports) for `start` to attach again. */
export interface NetworkRequest {
  /** --network: bridge, none, host, container:NAME|ID or a user network. */
  mode: string;
  aliases: string[];
  ip?: string;
  dns: string[];
  dnsSearch: string[];
  dnsOptions: string[];
  extraHosts: string[];
}

/** -p/-P, resolved against the image's exposed ports once it is known. */
export interface PortsRequest {
  publish: string[];
  publishAll: boolean;
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
}

export interface ResourcesRequest {
  /** The cgroup's limits (--memory, --cpus, --pids-limit, …). */
  limits: Resources;
  ulimits: Rlimit[];
  /** --device, parsed. */
  devices: DeviceSpec[];
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
}

export interface RunIo {
  /** Progress of an implicit pull goes here (stderr, as docker run does). */
  pullOut: (line: string) => void;
  stdin: number;
  stdout: number;
  stderr: number;
  ttySlave: number;
}
