/* A check of the running container in a child of ours — a health check (health.c), a Kubernetes probe
 * (probe.c): its output read from a pipe (the child's fd 3, or whatever it writes to check_pipe), its
 * end seen on its pidfd, killed at its deadline. Every check's fds sit in one epoll instance, so
 * they take a single entry of run.c's poll(), however many checks run at once. */

#define CHECK_OUT 4096 /* Docker's maxOutputLen */
#define SYS_epoll_ctl 233
#define SYS_epoll_create1 291
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2

struct check_result { char start[32], end[32]; long code; u32 outlen; char out[CHECK_OUT]; };
struct check { int running, out_open; long pidfd, out; u64 deadline; struct check_result r; };

static long check_ep = -1;
static int checks_running;
/* In the check's child: the write end of its output pipe. */
static long check_pipe = -1;

static void check_watch(long fd)
{
  u32 ev[3] = { POLLIN, 0, 0 }; /* struct epoll_event, packed: events, then 64 bits of data */
  S(SYS_epoll_ctl, check_ep, EPOLL_CTL_ADD, fd, ev);
}

/* Starts fn(arg) in a child that may run until timeout_ms from now; 0, or -1 when it could not start. */
static int check_launch(struct check *c, void (*fn)(void *), void *arg, u64 timeout_ms)
{
  int p[2], pfd = -1, report = -1;
  struct timespec ts;
  if (check_ep < 0) check_ep = S(SYS_epoll_create1, O_CLOEXEC);
  if (check_ep < 0 || S(SYS_pipe2, p, O_CLOEXEC) < 0) return -1;
  check_pipe = p[1];
  long pid = clone_child(0, fn, arg, &pfd, &report);
  S(SYS_close, p[1]);
  if (pid < 0) { S(SYS_close, p[0]); return -1; }
  S(SYS_close, report); /* the child's own failures show in its exit code */
  S(SYS_fcntl, p[0], F_SETFL, O_NONBLOCK);
  c->pidfd = pfd;
  c->out = p[0];
  c->running = c->out_open = 1;
  checks_running++;
  check_watch(pfd);
  check_watch(p[0]);
  c->deadline = monotonic_ms() + timeout_ms;
  c->r.outlen = 0;
  now(&ts);
  fmt_time(c->r.start, &ts);
  return 0;
}

/* Reads what the check wrote (past CHECK_OUT bytes, into a sink); at EOF the pipe leaves the epoll set. */
static void check_drain(struct check *c)
{
  char sink[4096];
  while (c->out_open) {
    struct check_result *r = &c->r;
    long got = r->outlen < CHECK_OUT ? S(SYS_read, c->out, r->out + r->outlen, CHECK_OUT - r->outlen) : S(SYS_read, c->out, sink, sizeof sink);
    if (got == 0) {
      S(SYS_epoll_ctl, check_ep, EPOLL_CTL_DEL, c->out, 0);
      c->out_open = 0;
    }
    if (got <= 0) return;
    if (r->outlen < CHECK_OUT) r->outlen += (u32)got;
  }
}

static void check_close(struct check *c)
{
  S(SYS_close, c->pidfd);
  S(SYS_close, c->out);
  c->running = 0;
  checks_running--;
}

/* The check is killed (when in flight) and reaped, its result dropped. */
static void check_cancel(struct check *c)
{
  i32 info[32];
  if (!c->running) return;
  S(SYS_pidfd_send_signal, c->pidfd, SIGKILL, 0, 0);
  reap(c->pidfd, info, 0);
  check_close(c);
}

/* After each poll(): 1 when the check is over — r.code its exit code, or -1 when it passed its
 * deadline and was killed (*timed_out set) — and r.end stamped; 0 while it runs. */
static int check_done(struct check *c, int *timed_out)
{
  i32 info[32];
  struct timespec ts;
  check_drain(c);
  struct pollfd pf = { (int)c->pidfd, POLLIN, 0 };
  S(SYS_poll, &pf, 1, 0);
  *timed_out = !pf.revents && monotonic_ms() >= c->deadline;
  if (!pf.revents && !*timed_out) return 0;
  if (*timed_out) S(SYS_pidfd_send_signal, c->pidfd, SIGKILL, 0, 0);
  long r = reap(c->pidfd, info, 0);
  check_drain(c);
  check_close(c);
  now(&ts);
  fmt_time(c->r.end, &ts);
  c->r.code = *timed_out || r < 0 ? -1 : exit_code(info);
  return 1;
}

/* The poll() entry of every check in flight, appended at fds[*nf]. */
static void check_fds(struct pollfd *fds, int *nf)
{
  if (!checks_running) return;
  fds[*nf].fd = (int)check_ep; fds[*nf].events = POLLIN; fds[(*nf)++].revents = 0;
}

/* What check_exec_main runs: an encoded plan, and the words before the reason it could not start. */
struct check_exec { const u8 *buf; u32 len; const char *what; };

/* In a check's child: the command of `p` (a plan with the container's privileges) run inside the
 * container, as `tinydock exec` runs it; its stdout and stderr (the plan's fd 3) are the output. */
static void check_exec_main(void *p)
{
  static struct target t;
  struct failure f;
  const struct check_exec *x = p;
  long null = devnull();
  if (null < 0 || parse_plan(x->buf, x->len)) die(126);
  S(SYS_dup3, check_pipe, 3, 0);
  S(SYS_dup3, null, 1, 0);
  S(SYS_dup3, null, 2, 0);
  report_fd = 1; /* our own failures: nobody reads them, the exit code says enough */
  open_target(st.pid, st.pidStart, &t);
  enter_namespaces(&t);
  u64 set = 1ull << (SIGCHLD - 1);
  S(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &set, 0, 8);
  int pidfd = -1, report = -1;
  long pid = clone_child(0, exec_child, &t, &pidfd, &report);
  if (pid < 0) die(126);
  if (read_report(report, &f) >= 16) {
    /* The command could not be started: its exit code (126/127) says so, the output why. */
    put_all(3, x->what, (long)slen(x->what));
    put_all(3, f.text, f.len < 0 ? 0 : f.len > 200 ? 200 : f.len);
  }
  S(SYS_close, 3);
  relay_until_exit(pidfd, set);
}
