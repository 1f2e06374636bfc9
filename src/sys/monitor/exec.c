/* `exec`: nsenter, then the container's own privileges. */

static const struct { const char *name; u32 flag; } EXEC_NS[] = {
  { "ipc", 0x08000000 }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid", 0x20000000 },
  { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};

/* What the command joins, opened while this process still sees the host. */
struct target { long ns[6], cg[16], cgns; u32 ncg; };

static void exec_child(void *arg)
{
  struct target *t = arg;
  u32 i;
  CHECK(S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), ST_PRCTL, 0, "PR_SET_PDEATHSIG");
  /* The cgroup first (through fds opened on the host's paths), then its namespace: rooted there. */
  for (i = 0; i < t->ncg; i++) CHECK(S(SYS_write, t->cg[i], "0", 1), ST_CGROUP, i, 0);
  if (t->cgns >= 0) CHECK(S(SYS_setns, t->cgns, CLONE_NEWCGROUP), ST_JOIN, 0, "cgroup");
  /* In the container's mount namespace already: its terminal comes from its devpts, as run's. */
  if (plan.tty >= 0) open_console(&plan, 0);
  drop_privileges(&plan);
  CHECK(S(SYS_chdir, plan.cwd), ST_CHDIR, 0, 0);
  setup_stdio(&plan);
  exec_confined(&plan);
}

/* Everything is opened while we still see the host: the namespaces, the cgroup.procs files. All
 * through one fd on /proc/<pid>, whose start time is checked first: a pid the container's PID 1
 * died and left to another process is refused (ESRCH), and the fd never follows it there. A
 * failure is reported on fd 1 (fail(), typed) and ends this process. */
static void open_target(long pid, u64 want_start, struct target *t)
{
  char path[64], num[24];
  u32 i;
  fmt_int(num, pid);
  copy(path, sizeof path, "/proc/", num);
  long procfd = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd >= 0 && want_start && start_time_at(procfd, "stat") != want_start) { S(SYS_close, procfd); procfd = -3 /* ESRCH */; }
  if (procfd < 0) fail(ST_JOIN, procfd, 0, "pid");
  for (i = 0; i < 6; i++) {
    copy(path, sizeof path, "ns/", EXEC_NS[i].name);
    t->ns[i] = S(SYS_openat, procfd, path, O_RDONLY | O_CLOEXEC);
    if (t->ns[i] == -ENOENT && EXEC_NS[i].flag == CLONE_NEWTIME) continue; /* a kernel without */
    if (t->ns[i] < 0) fail(ST_JOIN, t->ns[i], i, EXEC_NS[i].name);
  }
  t->cgns = S(SYS_openat, procfd, "ns/cgroup", O_RDONLY | O_CLOEXEC);
  /* Still the same process now that everything is open (its fds name its namespaces for good). */
  if (want_start && start_time_at(procfd, "stat") != want_start) fail(ST_JOIN, 3 /* ESRCH */, 0, "pid");
  S(SYS_close, procfd);
  t->ncg = plan.ncg < 16 ? plan.ncg : 16;
  for (i = 0; i < t->ncg; i++) {
    t->cg[i] = S(SYS_openat, AT_FDCWD, plan.cg[i], O_WRONLY | O_CLOEXEC);
    if (t->cg[i] < 0) fail(ST_CGROUP, t->cg[i], i, 0);
  }
}

/* Out of reach of the container's processes (ptrace, /proc/<pid>/exe) before we enter its PID ns. */
static void enter_namespaces(struct target *t)
{
  S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (u32 i = 0; i < 6; i++) {
    if (t->ns[i] < 0) continue;
    CHECK(S(SYS_setns, t->ns[i], EXEC_NS[i].flag), ST_JOIN, i, EXEC_NS[i].name);
    S(SYS_close, t->ns[i]);
  }
}

/* Signals for the command are forwarded by us, who wait for it; we exit as it did. */
static void relay_until_exit(long pidfd, u64 set)
{
  for (;;) {
    u8 info[128];
    i32 w[32];
    long sig = S(SYS_rt_sigtimedwait, &set, info, 0, 8);
    if (sig < 0) continue;
    if (sig != SIGCHLD) { S(SYS_pidfd_send_signal, pidfd, sig, 0, 0); continue; }
    long r = reap(pidfd, w, 1 /* WNOHANG */);
    if (r < 0 || w[4] == 0) continue; /* si_pid 0: not exited yet */
    die(exit_code(w));
  }
}

static int exec_mode(int argc, char **argv)
{
  static struct target t;
  struct failure f;
  if (argc < 3) die(2);
  long target = (long)parse_u64(argv[2]);
  u64 want_start = argc > 3 ? parse_u64(argv[3]) : 0;
  read_plan();
  open_target(target, want_start, &t);
  enter_namespaces(&t);
  u64 set = 1ull << (SIGCHLD - 1);
  for (int i = 0; i < 7; i++) set |= 1ull << (forwarded[i] - 1);
  S(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &set, 0, 8);

  int pidfd = -1, report = -1;
  long pid = clone_child(0, exec_child, &t, &pidfd, &report);
  if (pid < 0) fail(ST_FORK, pid, 0, 0);
  if (read_report(report, &f) >= 16) report_failure(&f);
  else report_started(pid);
  long null = devnull();
  if (null >= 0) S(SYS_dup3, null, 1, 0);
  relay_until_exit(pidfd, set);
  return 0;
}
