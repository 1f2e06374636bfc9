/* The parent's side: clone_child() (td_spawn's and the monitor's), and what TypeScript calls. */

static void run_plan(void *p);

/* --pid container:NAME: another container's PID namespace, which the clone's child must be born in
 * (a process cannot enter one itself; setns only sets where its children go). The plan's join when
 * the child runs a plan; the launcher's (monitor launch mode), cloned before its plan exists, sets
 * clone_pid_ns from its arguments. */
static const char *clone_pid_ns;

static const char *plan_pid_join(void *arg)
{
  struct plan *p = arg;
  for (u32 i = 0; i < p->njoin; i++)
    if (p->join[i].ns == CLONE_NEWPID) return p->join[i].path;
  return 0;
}

/* Points this thread's next children at the namespace of `path`, with *own an fd on the thread's
 * own (to go back to after the clone; -1 when there was nothing to do). 0 or -errno. */
static long enter_pid_ns_for_clone(const char *path, long *own)
{
  *own = -1;
  if (!path) return 0;
  long mine = S(SYS_openat, AT_FDCWD, "/proc/thread-self/ns/pid", O_RDONLY | O_CLOEXEC);
  if (mine < 0) return mine;
  long fd = open_ns(path);
  long r = fd < 0 ? fd : S(SYS_setns, fd, CLONE_NEWPID);
  if (fd >= 0) S(SYS_close, fd);
  if (r < 0) S(SYS_close, mine);
  else *own = mine;
  return r < 0 ? r : 0;
}

/* Clones a process that runs child(arg), with a CLOEXEC report pipe whose write end lives above
 * fd 2 (the child dups stdio onto 0-2) and every signal blocked (none of the parent's handlers may
 * run in it). Returns the pid, with *pidfd and the pipe's read end in *report, or -errno with
 * nothing left open. */
static long clone_child(u32 flags, void (*child)(void *), void *arg, int *pidfd, int *report)
{
  int pipe[2];
  u64 all = ~0ull, old = 0;
  long pid = S(SYS_pipe2, pipe, O_CLOEXEC);
  if (pid < 0) return pid;
  if (pipe[1] < 3) {
    long fd = S(SYS_fcntl, pipe[1], F_DUPFD_CLOEXEC, 3);
    S(SYS_close, pipe[1]);
    pipe[1] = (int)fd;
  }
  *pidfd = -1;
  S(SYS_rt_sigprocmask, 2, &all, &old, 8);
  long own = -1, joined = 0;
  if (pipe[1] >= 0 && !(flags & CLONE_NEWPID)) joined = enter_pid_ns_for_clone(child == run_plan ? plan_pid_join(arg) : clone_pid_ns, &own);
  if (joined < 0) {
    S(SYS_close, pipe[1]);
    pipe[1] = (int)joined;
  }
  pid = pipe[1] < 0 ? pipe[1] : S(SYS_clone, flags | CLONE_PIDFD | SIGCHLD, 0, pidfd, 0, 0);
  if (own >= 0 && pid != 0) {
    S(SYS_setns, own, CLONE_NEWPID); /* back to this thread's own, an ancestor: always allowed */
    S(SYS_close, own);
  }
  if (pid == 0) {
    if (own >= 0) S(SYS_close, own);
    report_fd = pipe[1];
    report_typed = 0;
    child(arg);
  }
  S(SYS_rt_sigprocmask, 2, &old, 0, 8);
  if (pipe[1] >= 0) S(SYS_close, pipe[1]);
  if (pid < 0) S(SYS_close, pipe[0]);
  else *report = pipe[0];
  return pid;
}

/* The container's process: the plan's namespaces but cgroup and time, unshared later by the child. */
static void run_plan(void *p) { child_main(p); }
#define PLAN_CLONE_FLAGS(p) ((p)->ns & ~(CLONE_NEWCGROUP | CLONE_NEWTIME))

#ifndef TD_STATIC

struct waiter { int report, events, pidfd; };

/* One thread per container, blocked in read() and waitid() where they cost nothing; it reports on
 * the events pipe: [1, failure record] or [2] (exec'd), then [3, code, signal] when PID 1 is reaped. */
static void *wait_thread(void *arg)
{
  struct waiter *w = arg;
  u8 buf[2048];
  long n = 0, r;
  i32 msg[3];
  i32 info[32];
  while (n < (long)sizeof buf) {
    r = S(SYS_read, w->report, buf + n, sizeof buf - n);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  S(SYS_close, w->report);
  if (n >= 16) {
    i32 type = EV_FAILURE;
    put_all(w->events, &type, 4);
    put_all(w->events, buf, n);
  } else {
    msg[0] = EV_STARTED;
    put_all(w->events, msg, 4);
  }
  for (r = 0; r < 32; r++) info[r] = 0;
  do r = S(SYS_waitid, 3 /* P_PIDFD */, w->pidfd, info, 4 /* WEXITED */, 0);
  while (r == -EINTR);
  msg[0] = EV_EXITED;
  msg[1] = r < 0 ? -1 : info[2] == 1 /* CLD_EXITED */ ? info[6] : 128 + info[6];
  msg[2] = r < 0 || info[2] == 1 ? 0 : info[6];
  put_all(w->events, msg, 12);
  S(SYS_close, w->events);
  free(w);
  return 0;
}

/* Parses the plan and starts the container. out: [pid, pidfd, events fd]. Returns 0, -errno, or
 * 1 + the offset where the plan's bytes stopped making sense (nothing was started then). With out
 * NULL it only parses (tests feed it hostile bytes).
 *
 * How the parent learns that PID 1 exited without blocking Bun's event loop: a detached thread per
 * container blocks in waitid(P_PIDFD) and writes the status into a pipe that TypeScript reads with
 * Bun's own non-blocking pipe reader (epoll). Measured against polling the pidfd from a timer: the
 * pipe reports an exit 0.25 ms (median; p90 0.6 ms) after kill() and costs no wake-up while the
 * container runs, where a 10 ms timer added 11 ms per exit (a 1 ms one 2.5 ms) and wakes the process
 * 100-1000 times a second; Bun has no API to watch a pidfd itself.
 * The same thread first reads the report pipe, so TypeScript watches a single fd. The pidfd (not the
 * pid) is what kill() uses, so a signal can never reach a recycled pid. */
int td_spawn(const u8 *buf, u32 len, i32 *out)
{
  static struct plan p;
  u32 arenalen = len * 4 + 256;
  u8 *arena;
  int report = -1, events[2], pidfd = -1, i;
  long pid, r;
  struct waiter *w;
  unsigned long th;
  if (len > (1u << 26)) return 1;
  arena = malloc(arenalen);
  w = malloc(sizeof *w);
  if (!arena || !w) { free(arena); free(w); return -12; }
  r = parse(buf, len, arena, arenalen, &p);
  if (r || !out) { free(arena); free(w); return (int)r; }
  if ((r = S(SYS_pipe2, events, O_CLOEXEC)) < 0) { free(arena); free(w); return (int)r; }
  pid = clone_child(PLAN_CLONE_FLAGS(&p), run_plan, &p, &pidfd, &report);
  free(arena);
  if (pid < 0) {
    S(SYS_close, events[0]); S(SYS_close, events[1]); free(w);
    return (int)pid;
  }
  w->report = report;
  w->events = events[1];
  w->pidfd = pidfd;
  if ((i = pthread_create(&th, 0, wait_thread, w)) != 0) {
    /* No thread, no way to learn the exit: do not leave a container nobody watches. */
    S(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0);
    S(SYS_waitid, 3, pidfd, 0, 4, 0);
    S(SYS_close, report); S(SYS_close, events[0]); S(SYS_close, events[1]); S(SYS_close, pidfd); free(w);
    return -i;
  }
  pthread_detach(th);
  out[0] = (i32)pid;
  out[1] = pidfd;
  out[2] = events[0];
  return 0;
}

/* Signals PID 1 through its pidfd: 0, or -errno (-ESRCH once it has exited). */
int td_kill(int pidfd, int sig)
{
  return (int)S(SYS_pidfd_send_signal, pidfd, sig, 0, 0);
}
#endif /* !TD_STATIC */
