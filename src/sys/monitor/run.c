/* `run`: the supervisor of a detached container. It starts the container (init.c's child, as
 * td_spawn does it, minus the waiter thread), logs its output, records every transition in
 * run.json and restarts it as Docker's restart manager would. */

/* -t: the container's terminal, made by its init in its own devpts (init/console.c) and received
 * here through the console socket, once per start (a restart has a new mount namespace and devpts):
 * we log what the master says as stdout and type the stdin FIFO into it. A slave stays open here,
 * for `attach` to set the window size through /proc (opening a master again would make a new pty). */
#define SYS_recvmsg 47
#define SYS_socketpair 53
#define MSG_CMSG_CLOEXEC 0x40000000
#define MSG_DONTWAIT 0x40
static long console_sock = -1, console_slave = -1;

/* The fd sent on sock (one SCM_RIGHTS message, already there: the init sent it before execve), or -1. */
static long recv_fd(long sock)
{
  struct { u64 len; i32 level, type, fd, pad; } cm = { 0, 0, 0, -1, 0 };
  char byte;
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { 0, 0, &iov, 1, &cm, sizeof cm, 0 };
  long r;
  do r = S(SYS_recvmsg, sock, &m, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (r == -EINTR);
  if (r <= 0 || m.controllen < 20 || cm.level != SOL_SOCKET || cm.type != SCM_RIGHTS) return -1;
  return cm.fd;
}

/* Before a start: the socket the init sends its terminal's master through. */
static void console_prepare(void)
{
  int sv[2];
  if (S(SYS_socketpair, 1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0, sv) < 0) die(1);
  console_sock = sv[0];
  plan.tty = sv[1];
}

/* After it: the new master replaces the last one (out[0], the FIFO's target). */
static void console_take(long *out)
{
  long master = recv_fd(console_sock);
  S(SYS_close, console_sock);
  console_sock = -1;
  if (master < 0) return;
  if (out[0] >= 0) S(SYS_close, out[0]);
  if (console_slave >= 0) S(SYS_close, console_slave);
  console_slave = S(SYS_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  S(SYS_fcntl, master, F_SETFL, O_NONBLOCK);
  out[0] = master;
  tty_master = master;
}

/* Returns the pid (and *pidfd), or 0 with *f filled when the child reported a failure (it is reaped). */
static long start(long *pidfd, struct failure *f, int *code, int tty, long *out)
{
  int pfd = -1, report = -1;
  if (tty) console_prepare();
  long pid = clone_child(PLAN_CLONE_FLAGS(&plan), run_plan, &plan, &pfd, &report);
  if (tty) S(SYS_close, plan.tty), plan.tty = -1; /* the init's end: its copy only */
  if (pid < 0) {
    if (tty) console_take(out); /* closes the socket */
    failure_record(f, ST_FORK, pid, 0, 0);
    *code = 1;
    return 0;
  }
  *pidfd = pfd;
  int failed = read_report(report, f) >= 16;
  if (tty) console_take(out); /* sent before execve, or never */
  if (failed) {
    i32 info[32];
    long r = reap(pfd, info, 0);
    S(SYS_close, pfd);
    *code = r < 0 ? 1 : exit_code(info);
    return 0;
  }
  return pid;
}

#define SYS_inotify_add_watch 254
#define SYS_inotify_init1 294
#define IN_MOVED_TO 0x80
#define IN_CREATE 0x100

/* The back-off (-B RESET,D0,D1,…, ms: a schedule of src/lifecycle/backoff.ts, which owns the figures):
 * restart n of a streak waits D[min(n, last)] after the end; a run of RESET ms or more starts a new
 * streak. */
#define MAX_DELAYS 32
static struct { u64 reset, delay[MAX_DELAYS]; u32 n, streak; } backoff;

static void parse_backoff(const char *spec)
{
  backoff.reset = parse_u64(spec);
  for (backoff.n = 0; backoff.n < MAX_DELAYS;) {
    while (*spec >= '0' && *spec <= '9') spec++;
    if (*spec++ != ',') return;
    backoff.delay[backoff.n++] = parse_u64(spec);
  }
}

struct run_opts {
  int always, on_failure, tty;
  u64 max_retries;
  char **cleanup;
};

static void parse_run_args(int argc, char **argv, struct run_opts *o)
{
  const char *policy = "no";
  for (int i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
    if (streq(a, "--")) { o->cleanup = argv + i + 1; break; }
    if (streq(a, "-t")) { o->tty = 1; continue; }
    if (streq(a, "-i")) { stdin_wanted = 1; continue; }
    if (!v) die(2);
    if (streq(a, "-d")) dir = v;
    else if (streq(a, "-l")) log_path = v;
    else if (streq(a, "-s")) log_max = parse_u64(v);
    else if (streq(a, "-n")) log_files = parse_u64(v);
    else if (streq(a, "-r")) policy = v;
    else if (streq(a, "-R")) o->max_retries = parse_u64(v);
    else if (streq(a, "-B")) parse_backoff(v);
    else if (streq(a, "-o")) { if (noom < MAX_OOM) oom_files[noom++] = v; }
    else if (streq(a, "-H")) parse_health_args(v);
    else if (streq(a, "-P")) hc.plan_path = v;
    else if (streq(a, "-E")) events_path = v;
    else if (streq(a, "-N")) events_name = v;
    else if (streq(a, "-I")) events_image = v;
    else if (streq(a, "-A")) events_labels = v;
    else if (streq(a, "-S")) hook_arg(hook.argv, &hook.argc, v);
    else if (streq(a, "-V")) hook_arg(hook.env, &hook.envc, v);
    else if (streq(a, "-W")) hook.watch = v;
    else if (streq(a, "-K")) { if (links.nd < LINK_MAX) links.dir[links.nd++] = v; }
    else if (streq(a, "-k")) { if (links.nm < LINK_MAX) links.msg[links.nm++] = v; }
    else die(2);
    i++;
  }
  if (!dir || !log_path) die(2);
  if (o->cleanup && !o->cleanup[0]) o->cleanup = 0;
  o->always = streq(policy, "always") || streq(policy, "unless-stopped");
  o->on_failure = streq(policy, "on-failure");
  if ((o->always || o->on_failure) && !backoff.n) die(2); /* a policy that restarts needs its schedule */
}

/* `update --restart`: DIR/restart-policy ("NAME MAX\n", src/lifecycle/monitor.ts writeRestartPolicy)
 * replaces -r/-R from the next end on, as Docker's restart manager takes a new policy at once. A
 * policy that restarts needs the back-off schedule, which the CLI always passes (-B). */
static void reload_policy(struct run_opts *o)
{
  char p[PATHMAX], buf[64];
  copy(p, PATHMAX, dir, "/restart-policy");
  long fd = S(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC), r;
  if (fd < 0) return;
  r = S(SYS_read, fd, buf, sizeof buf - 1);
  S(SYS_close, fd);
  if (r <= 0) return;
  buf[r] = 0;
  char *sp = buf;
  while (*sp && *sp != ' ') sp++;
  if (*sp != ' ') return;
  *sp = 0;
  o->always = backoff.n && (streq(buf, "always") || streq(buf, "unless-stopped"));
  o->on_failure = backoff.n && streq(buf, "on-failure");
  o->max_retries = parse_u64(sp + 1);
}

/* DIR/plan.next: the plan of the restarts to come, which the CLI writes when what it was made of
 * changed (a --link's address: Docker resolves links at every start, its restart policy's too).
 * Taken once, then removed; its stdio stay ours. One that does not parse is ignored. */
static void reload_plan(void)
{
  char p[PATHMAX];
  u32 len;
  struct plan next = plan; /* what the parser does not set stays as it was */
  copy(p, PATHMAX, dir, "/plan.next");
  long fd = S(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  u8 *buf = read_all(fd, &len), *arena = 0;
  S(SYS_close, fd);
  S(SYS_unlinkat, AT_FDCWD, p, 0);
  if (buf && len) arena = malloc(len * 4 + 256);
  if (!arena || parse(buf, len, arena, len * 4 + 256, &next)) return;
  for (int i = 0; i < 3; i++) next.stdio[i] = plan.stdio[i];
  next.tty = plan.tty;
  plan = next;
}

/* Out of the CLI's session and terminal: its end (or a Ctrl-C there) must not end us; and out of
 * its working directory, which we would otherwise keep busy for as long as the container lives.
 * SIGTERM (a shutdown, a `kill` of the monitor) is passed on to the container, which then ends as
 * any stop does: recorded, never restarted, cleaned up. Returns the signalfd it is read through. */
static long detach_from_cli(void)
{
  u64 termset = 1ull << (SIGTERM - 1);
  S(SYS_setsid);
  S(SYS_chdir, "/");
  ignore(SIGHUP);
  ignore(SIGINT);
  ignore(SIGPIPE);
  S(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &termset, 0, 8);
  return S(SYS_signalfd4, -1, &termset, 8, O_CLOEXEC | O_NONBLOCK);
}

/* The container's stdio: a pty (-t, console_take) or two pipes, whose read ends (out, non-blocking) we log. */
static void open_output(int tty, long *out)
{
  int p1[2], p2[2];
  if (tty) {
    tty_input_open(-1); /* into the master each start brings (console_take) */
  } else {
    if (S(SYS_pipe2, p1, O_CLOEXEC) < 0 || S(SYS_pipe2, p2, O_CLOEXEC) < 0) die(1);
    plan.stdio[0] = (i32)stdin_fd();
    plan.stdio[1] = p1[1];
    plan.stdio[2] = p2[1];
    plan.tty = -1;
    out[0] = p1[0];
    out[1] = p2[0];
  }
  for (int i = 0; i < 2; i++) if (out[i] >= 0) S(SYS_fcntl, out[i], F_SETFL, O_NONBLOCK);
}

/* 1 once a SIGTERM has come through the signalfd. */
static int take_sigterm(long sigfd)
{
  u8 si[128];
  int got = 0;
  while (S(SYS_read, sigfd, si, sizeof si) > 0) got = 1;
  return got;
}

static void record_start(long pid)
{
  struct timespec ts;
  now(&ts);
  fmt_time(st.startedAt, &ts);
  st.status = "running";
  st.pid = pid;
  st.pidStart = start_time(pid);
  copy(st.finishedAt, sizeof st.finishedAt, "0001-01-01T00:00:00Z", 0);
  st.exitCode = 0;
  st.oomKilled = 0;
  write_state();
  event_append("start", -1);
  health_start();
  hook_trigger();
}

/* Logs the container's output until its PID 1 exits (a SIGTERM to us goes on to it); returns its
 * exit code, the pidfd closed. */
static int supervise(long pidfd, long sigfd, const long *out, int *terminated)
{
  struct pollfd fds[8];
  int open[2] = { out[0] >= 0, out[1] >= 0 }, exited = 0, i;
  if (*terminated) S(SYS_pidfd_send_signal, pidfd, SIGTERM, 0, 0);
  while (!exited) {
    int nf = 0;
    fds[nf].fd = (int)pidfd; fds[nf].events = POLLIN; fds[nf++].revents = 0;
    fds[nf].fd = (int)sigfd; fds[nf].events = POLLIN; fds[nf++].revents = 0;
    for (i = 0; i < 2; i++) if (open[i]) { fds[nf].fd = (int)out[i]; fds[nf].events = POLLIN; fds[nf++].revents = 0; }
    int nlog = nf;
    health_fds(fds, &nf);
    tty_input_fds(fds, &nf);
    hook_fds(fds, &nf);
    if (S(SYS_poll, fds, nf, health_wait_ms()) < 0) continue;
    health_tick();
    tty_input_pump();
    hook_tick(0);
    if (fds[1].revents) {
      if (take_sigterm(sigfd)) *terminated = 1;
      if (*terminated) S(SYS_pidfd_send_signal, pidfd, SIGTERM, 0, 0);
    }
    for (int k = 2; k < nlog; k++) {
      if (!fds[k].revents) continue;
      int s = fds[k].fd == out[0] ? 0 : 1;
      if (!pump(fds[k].fd, s)) open[s] = 0;
    }
    if (fds[0].revents) exited = 1;
  }
  i32 info[32];
  long r = reap(pidfd, info, 0);
  S(SYS_close, pidfd);
  /* Whatever the container wrote before it died (its other processes die with PID 1). */
  for (i = 0; i < 2; i++) if (open[i]) pump((int)out[i], i);
  return r < 0 ? 255 : exit_code(info);
}

static void record_end(int code, u64 oom0)
{
  struct timespec ts;
  for (int i = 0; i < 2; i++) log_flush(i);
  now(&ts);
  fmt_time(st.finishedAt, &ts);
  st.exitCode = code;
  st.oomKilled = noom && oom_count() > oom0;
  if (st.oomKilled && code == 128 + SIGKILL) st.exitCode = 137;
  st.pid = 0;
  st.pidStart = 0;
  health_stop();
  if (st.oomKilled) event_append("oom", -1);
  event_append("die", st.exitCode);
  hook_trigger();
}

/* Docker's restart manager: on-failure counts against N; never once the CLI has said stop. Any other
 * end restarts under the policy, a kill included (a liveness probe's SIGKILL, the OOM killer): it
 * counts in RestartCount and in the back-off's streak, as the kubelet counts it. */
static int should_restart(const struct run_opts *o, int code, int terminated)
{
  return !terminated && !stopping() &&
         (o->always || (o->on_failure && code != 0 && (o->max_retries == 0 || st.restartCount < o->max_retries)));
}

/* The wait before the next restart, looked up in the back-off table (-B, parse_backoff) after a run
 * of `ran` ms: a run of the reset time or more starts a new streak. */
static u64 next_delay(u64 ran)
{
  if (ran >= backoff.reset) backoff.streak = 0;
  u32 i = backoff.streak < backoff.n ? backoff.streak++ : backoff.n - 1;
  return backoff.delay[i];
}

/* Waits out the back-off, "restarting" with run.json saying until when; 0 when a stop or a SIGTERM
 * came meanwhile. The `stopping` marker is watched for (inotify on DIR): a stop or an rm -f ends the
 * wait at once, and nothing else wakes us in a wait of minutes. Without a watch, it is looked for
 * every 50 ms. */
static int wait_restart(u64 delay, long sigfd, int *terminated)
{
  struct timespec ts;
  u8 events[1024];
  now(&ts);
  ts.sec += (long)(delay / 1000);
  ts.nsec += (long)(delay % 1000) * 1000000;
  if (ts.nsec >= 1000000000) ts.sec++, ts.nsec -= 1000000000;
  fmt_time(st.restartAt, &ts);
  st.restartDelay = delay;
  st.status = "restarting";
  write_state();
  long ifd = S(SYS_inotify_init1, O_CLOEXEC | O_NONBLOCK);
  if (ifd >= 0 && S(SYS_inotify_add_watch, ifd, dir, IN_CREATE | IN_MOVED_TO) < 0) S(SYS_close, ifd), ifd = -1;
  for (u64 end = monotonic_ms() + delay, t; !stopping() && !*terminated && (t = monotonic_ms()) < end;) {
    struct pollfd pf[3] = { { (int)sigfd, POLLIN, 0 }, { (int)ifd, POLLIN, 0 } };
    int n = 2;
    hook_fds(pf, &n);
    S(SYS_poll, pf, n, ifd < 0 && end - t > 50 ? 50 : end - t);
    hook_tick(0);
    if (take_sigterm(sigfd)) *terminated = 1;
    while (ifd >= 0 && S(SYS_read, ifd, events, sizeof events) > 0) ;
  }
  if (ifd >= 0) S(SYS_close, ifd);
  return !stopping() && !*terminated;
}

static int run_mode(int argc, char **argv, char **envp)
{
  struct run_opts o = { 0, 0, 0, 0, 0 };
  long out[2] = { -1, -1 }, null, sigfd;
  int terminated = 0;
  parse_run_args(argc, argv, &o);
  read_plan();
  health_load();
  sigfd = detach_from_cli();
  st.monitorStart = start_time(S(SYS_getpid));
  null = devnull();
  if (null < 0) die(1);
  S(SYS_dup3, null, 0, 0);
  open_output(o.tty, out);
  log_open(0);

  for (int first = 1;; first = 0) {
    static struct failure f;
    long pidfd = -1;
    int code = 0;
    u64 oom0 = oom_count();
    long pid = start(&pidfd, &f, &code, o.tty, out);
    if (first && !pid) {
      report_failure(&f); /* the CLI raises it as launch() would, and undoes what it made */
      die(1);
    }
    u64 began = monotonic_ms();
    /* A restart the init could not complete: recorded as Docker records a failed start. */
    st.error = pid ? "" : "the container init failed";
    st.failure = pid ? 0 : &f;
    if (pid) {
      record_start(pid); /* run.json says running before the CLI hears of the start */
      if (first) {
        report_started(pid);
        S(SYS_dup3, null, 1, 0); /* the CLI reads to EOF: it may return now */
        S(SYS_dup3, null, 2, 0);
        sync_record();
      }
      code = supervise(pidfd, sigfd, out, &terminated);
    }
    record_end(code, oom0);
    reload_policy(&o);
    if (!should_restart(&o, code, terminated)) break;
    if (!wait_restart(next_delay(monotonic_ms() - began), sigfd, &terminated)) break;
    st.restartCount++;
    const char *down = link_down();
    if (down) { st.error = down; break; } /* exited, as it ended; the policy restarts it no more */
    reload_plan();
  }
  st.status = "exited";
  write_state();
  if (log_fd >= 0) S(SYS_close, log_fd);
  hook_tick(10000); /* the sync of the end in flight, then the one it left pending (not waited for) */
  if (o.cleanup) {
    u64 none = 0;
    S(SYS_rt_sigprocmask, 2, &none, 0, 8); /* the cleanup starts with no signal blocked */
    S(SYS_execve, o.cleanup[0], o.cleanup, envp);
  }
  return 0;
}
