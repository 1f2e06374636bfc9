/* The Services hook of a pod's container: there is no daemon to notice that the container started,
 * ended or changed its readiness, so the monitor (which sees all three first) runs the engine's
 * hidden `kube sync-services` then, which brings every Service of the root up to date.
 *
 * -S WORD (repeated) is the argv, -V KEY=VALUE (repeated) the whole environment, both given by the
 * engine (monitor.ts servicesHook): the engine's own executable, its root and exec root, never a
 * shell. -W DIR is the root's kube/services: while it holds no Service, nothing runs at all.
 *
 * At most one runs at a time, in a child of its own session with no signal blocked: a trigger that
 * comes while one runs is remembered and served once it ends, so any number of triggers costs at
 * most one more run, which sees everything that happened before it started. */

#define HOOK_MAX 16
#define SYS_getdents64 217

static struct {
  char *argv[HOOK_MAX + 1], *env[HOOK_MAX + 1];
  int argc, envc, pending;
  const char *watch;
  long pidfd;
} hook = { .pidfd = -1 };

static void hook_arg(char **list, int *n, const char *word)
{
  if (*n < HOOK_MAX) list[(*n)++] = (char *)word;
}

/* Whether the root has a Service: DIR has an entry other than . and .. */
static int hook_wanted(void)
{
  u8 buf[512];
  long fd = S(SYS_openat, AT_FDCWD, hook.watch, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return 0;
  long n = S(SYS_getdents64, fd, buf, sizeof buf), any = 0;
  S(SYS_close, fd);
  for (long off = 0; off < n && !any;) {
    const char *name = (const char *)buf + off + 19; /* d_ino 8, d_off 8, d_reclen 2, d_type 1 */
    any = !(name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0)));
    off += *(u16 *)(buf + off + 16);
  }
  return any;
}

static void hook_spawn(void)
{
  int pidfd = -1;
  if (!hook_wanted()) return;
  long pid = S(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, 0, 0);
  if (pid == 0) {
    u64 none = 0;
    S(SYS_rt_sigprocmask, 2 /* SIG_SETMASK */, &none, 0, 8);
    S(SYS_setsid);
    S(SYS_execve, hook.argv[0], hook.argv, hook.env); /* fds 0-2 are /dev/null, the rest close-on-exec */
    die(127);
  }
  if (pid > 0) hook.pidfd = pidfd;
}

/* Something a Service's endpoints depend on changed. */
static void hook_trigger(void)
{
  if (!hook.argc || !hook.watch) return;
  if (hook.pidfd >= 0) hook.pending = 1;
  else hook_spawn();
}

/* The poll() entry of the run in flight, appended at fds[*nf]. */
static void hook_fds(struct pollfd *fds, int *nf)
{
  if (hook.pidfd < 0) return;
  fds[*nf].fd = (int)hook.pidfd; fds[*nf].events = POLLIN; fds[(*nf)++].revents = 0;
}

/* After each poll(): a run that ended is reaped, and the trigger it left pending served. `wait_ms`
 * > 0 waits that long for it (the monitor's last act). */
static void hook_tick(int wait_ms)
{
  i32 info[32];
  if (hook.pidfd < 0) return;
  struct pollfd pf = { (int)hook.pidfd, POLLIN, 0 };
  S(SYS_poll, &pf, 1, wait_ms);
  if (!pf.revents) return;
  reap(hook.pidfd, info, 0);
  S(SYS_close, hook.pidfd);
  hook.pidfd = -1;
  if (hook.pending) {
    hook.pending = 0;
    hook_spawn();
  }
}
