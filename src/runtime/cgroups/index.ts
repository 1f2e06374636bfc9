// The cgroups stage's public face: detectCgroups picks v1 or v2 behind one interface.
export { CGROUP_PARENT, type Cgroup, type CgroupManager, type CgroupOptions, type CgroupStats, type CreateOptions } from "./cgroup.ts";
export { detectCgroups } from "./detect.ts";
export { DOCKER_DEVICE_RULES } from "./devices.ts";
