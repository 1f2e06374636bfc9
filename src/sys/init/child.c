/* The child: the plan executed in order, between clone() and execve(). Raw system calls only: no
 * malloc, no stdio (the child of a multi-threaded Bun must not touch a lock another thread held). */

/* Before anything the container could see: die with the parent, and stay out of reach of ptrace and
 * /proc/<pid> of the processes to come (runc's CVE-2019-5736 lesson). */
static void seal_self(struct plan *p)
{
  u32 i;
  CHECK(S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), ST_PRCTL, 0, "PR_SET_PDEATHSIG");
  CHECK(S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0), ST_PRCTL, 0, "PR_SET_DUMPABLE");
  /* Bun's handlers must never run here: every disposition back to default (SIG_IGN survives exec). */
  for (i = 1; i <= 64; i++) {
    u64 act[4] = { 0, 0, 0, 0 };
    S(SYS_rt_sigaction, i, act, 0, 8);
  }
  S(SYS_umask, 022);
  if (p->init) hide_command_line(); /* through the host's /proc, there whatever the plan mounts */
}

/* Namespaces made by others (the netns file network attach made, --network container:): entered
 * before anything is unshared or mounted, still with the host's view of the paths. */
static void join_namespaces(struct plan *p)
{
  u32 i;
  for (i = 0; i < p->njoin; i++) {
    if (p->join[i].ns == CLONE_NEWPID) continue; /* this process was cloned into it (clone_child) */
    long fd = open_ns(p->join[i].path);
    if (fd < 0) fail(ST_JOIN, fd, i, "open");
    CHECK(S(SYS_setns, fd, p->join[i].ns), ST_JOIN, i, "setns");
    S(SYS_close, fd);
  }
  if (p->late_ns) CHECK(S(SYS_unshare, p->late_ns), ST_UNSHARE, 0, "namespaces");
}

/* The cgroup files are opened early, with the host's paths, and written only after the mounts (see
 * join_cgroups): the first cgroup migration after an idle spell waits out an RCU grace period,
 * which the CLI has started already (primeJoin) and which passes while this process mounts. */
static void open_cgroups(struct plan *p, long *cgfd)
{
  u32 i;
  for (i = 0; i < p->ncg; i++) {
    cgfd[i] = S(SYS_openat, AT_FDCWD, p->cg[i], O_WRONLY | O_CLOEXEC);
    if (cgfd[i] < 0) fail(ST_CGROUP, cgfd[i], i, 0);
  }
}

/* lo up in a new network namespace (Docker's --network none has it up), through the ioctl: no netlink. */
static void loopback_up(void)
{
  struct { char name[16]; short flags; char pad[22]; } ifr = { "lo" };
  long s = S(SYS_socket, 2 /* AF_INET */, 2 | O_CLOEXEC /* SOCK_DGRAM|SOCK_CLOEXEC */, 0);
  if (s < 0) fail(ST_LOOPBACK, s, 0, "socket");
  CHECK(S(SYS_ioctl, s, SIOCGIFFLAGS, &ifr), ST_LOOPBACK, 0, "SIOCGIFFLAGS");
  ifr.flags |= 1; /* IFF_UP */
  CHECK(S(SYS_ioctl, s, SIOCSIFFLAGS, &ifr), ST_LOOPBACK, 0, "SIOCSIFFLAGS");
  S(SYS_close, s);
}

/* The time namespace (where the kernel has one), the OOM score, the hostname and lo. */
static void configure_namespaces(struct plan *p)
{
  char num[24];
  if (p->ns & CLONE_NEWTIME) {
    long r = S(SYS_unshare, CLONE_NEWTIME);
    if (r < 0 && r != -EINVAL) fail(ST_UNSHARE, r, 0, "CLONE_NEWTIME");
  }
  if (p->hasoom) {
    fmt_int(num, p->oom);
    CHECK(write_file("/proc/self/oom_score_adj", num), ST_OOM, 0, 0);
  }
  if (p->ns & CLONE_NEWUTS) CHECK(S(SYS_sethostname, p->hostname, slen(p->hostname)), ST_HOSTNAME, 0, 0);
  if (p->ns & CLONE_NEWNET) loopback_up();
}

/* --sysctl: through the host's /proc, whose /proc/sys shows this process's namespaces (made or
 * joined by now), before the rootfs is built: nothing of the container runs yet. */
static void write_sysctls(struct plan *p)
{
  u32 i;
  for (i = 0; i < p->nsysctl; i++) {
    long fd = S(SYS_openat, AT_FDCWD, p->sysctl[i].path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail(ST_SYSCTL, fd, i, "open");
    CHECK(S(SYS_write, fd, p->sysctl[i].value, slen(p->sysctl[i].value)), ST_SYSCTL, i, "write");
    S(SYS_close, fd);
  }
}

/* The rootfs and everything mounted or made in it; returns an O_PATH fd on it. */
static long build_rootfs(struct plan *p)
{
  u32 i;
  /* overlay's lowerdir is relative to the store root, hence the chdir. */
  if (p->root.cwd) CHECK(S(SYS_chdir, p->root.cwd), ST_ROOTFS, 0, "chdir");
  CHECK(S(SYS_mount, p->root.src, p->root.dst, p->root.type, p->root.flags, p->root.data), ST_ROOTFS, 0, 0);
  long rootfd = S(SYS_openat, AT_FDCWD, p->rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) fail(ST_ROOTFS, rootfd, 0, "open");
  for (i = 0; i < p->nm; i++) mount_one(rootfd, &p->m[i], i);
  for (i = 0; i < p->ndev; i++) make_device(rootfd, &p->dev[i], i);
  for (i = 0; i < p->nln; i++) {
    char buf[PATHMAX];
    const char *name;
    long pfd = resolve_parent(rootfd, p->ln[i].path, buf, &name);
    if (pfd < 0) fail(ST_SYMLINK, pfd, i, 0);
    long r = S(SYS_symlinkat, p->ln[i].target, pfd, name);
    if (r < 0 && r != -EEXIST) fail(ST_SYMLINK, r, i, 0);
    S(SYS_close, pfd);
  }
  long fd = resolve(rootfd, p->cwd, 1); /* Docker creates a missing -w directory */
  if (fd < 0) fail(ST_CWD, fd, 0, 0);
  S(SYS_close, fd);
  return rootfd;
}

/* pivot_root(".", ".") stacks the old root on the new one; detaching it leaves only the rootfs. */
static void pivot(long rootfd)
{
  CHECK(S(SYS_fchdir, rootfd), ST_PIVOT, 0, "fchdir");
  CHECK(S(SYS_pivot_root, ".", "."), ST_PIVOT, 0, 0);
  CHECK(S(SYS_umount2, ".", MNT_DETACH), ST_PIVOT, 0, "umount the old root");
  CHECK(S(SYS_chdir, "/"), ST_PIVOT, 0, "chdir /");
  S(SYS_close, rootfd);
}

static void restrict_paths(struct plan *p)
{
  u32 i;
  for (i = 0; i < p->nmask; i++) mask_path(p->mask[i], i);
  for (i = 0; i < p->nro; i++) readonly_path(p->ro[i], i);
  if (p->roroot) CHECK(S(SYS_mount, "", "/", 0, MS_BIND | MS_REMOUNT | MS_RDONLY | mount_flags_of("/"), 0), ST_READONLY_ROOT, 0, 0);
}

/* Into the container's cgroups, then the cgroup namespace rooted there; before any limit, id or
 * capability change, and long before the command. */
static void join_cgroups(struct plan *p, long *cgfd)
{
  u32 i;
  for (i = 0; i < p->ncg; i++) {
    CHECK(S(SYS_write, cgfd[i], "0", 1), ST_CGROUP, i, 0);
    S(SYS_close, cgfd[i]);
  }
  if (p->ns & CLONE_NEWCGROUP) CHECK(S(SYS_unshare, CLONE_NEWCGROUP), ST_UNSHARE, 0, "CLONE_NEWCGROUP");
}

static void set_rlimits(struct plan *p)
{
  u32 i;
  for (i = 0; i < p->nrl; i++) CHECK(S(SYS_prlimit64, 0, p->rl[i].res, &p->rl[i].soft, 0), ST_RLIMIT, i, 0);
}

/* --init: this process stays PID 1 as the reaper; the command gets its own process group, in the
 * foreground of the terminal (as tini does); SIGTTOU is still blocked, so tcsetpgrp from the
 * background is allowed. */
static void fork_under_init(struct plan *p)
{
  long child = S(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (child < 0) fail(ST_FORK, child, 0, 0);
  if (child > 0) reaper(child);
  S(SYS_setpgid, 0, 0);
  if (p->tty >= 0) {
    i32 pgrp = (i32)S(SYS_getpid);
    S(SYS_ioctl, 0, TIOCSPGRP, &pgrp);
  }
}

/* After the privileges are dropped, as the container's process and the monitor's exec both end. */
static void exec_confined(struct plan *p)
{
  u64 none = 0;
  if (p->nnp) install_seccomp(p);
  CHECK(S(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, 8), ST_SIGNALS, 0, 0);
  exec_command(p);
}

static void child_main(struct plan *p)
{
  long cgfd[MAX_CGROUPS];
  seal_self(p);
  join_namespaces(p);
  CHECK(S(SYS_mount, "", "/", 0, MS_REC | MS_PRIVATE, 0), ST_PROPAGATION, 0, 0);
  open_cgroups(p, cgfd);
  configure_namespaces(p);
  write_sysctls(p);
  pivot(build_rootfs(p));
  if (p->tty >= 0) open_console(p, 1);
  restrict_paths(p);
  join_cgroups(p, cgfd);
  set_rlimits(p);
  drop_privileges(p);
  CHECK(S(SYS_chdir, p->cwd), ST_CHDIR, 0, 0);
  setup_stdio(p);
  if (p->init) fork_under_init(p);
  exec_confined(p);
}
