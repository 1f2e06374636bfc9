/* Health checks (Docker's HEALTHCHECK, --health-*): at each interval the probe command runs in the
 * container as `tinydock exec` runs a command (exec.c's open_target, enter_namespaces, exec_child,
 * in a child of ours), killed at its timeout. The last HEALTH_LOG results and the status go to
 * DIR/health.json, atomically (we are its only writer); a change of status is an event.
 *
 * Docker's rules (daemon/health.go): exit 0 → healthy, streak 0; a failure while still "starting"
 * inside the start period does not count; otherwise the streak grows and reaches unhealthy at
 * `retries`. While starting and inside the start period, probes come every start interval. */

#define HEALTH_LOG 5
#define HEALTH_OUT 4096 /* Docker's maxOutputLen */
enum health { H_STARTING, H_HEALTHY, H_UNHEALTHY };
static const char *const HEALTH_NAMES[] = { "starting", "healthy", "unhealthy" };

/* -H INTERVAL,TIMEOUT,START_PERIOD,START_INTERVAL,RETRIES (ms, ms, ms, ms, count) -P PLANFILE */
static struct { u64 interval, timeout, start_period, start_interval, retries; const char *plan_path; u8 *plan; u32 planlen; } hc;

struct health_result { char start[32], end[32]; long code; u32 outlen; char out[HEALTH_OUT]; };
static struct {
  enum health status;
  u64 streak, started_ms, next_ms;
  u32 n; /* results in log, oldest first */
  struct health_result log[HEALTH_LOG];
} hs;

/* The probe in flight: pidfd -1 when none. */
static struct { long pidfd, out; u64 deadline; struct health_result r; } probe = { -1, -1, 0 };

static void parse_health_args(const char *spec)
{
  u64 *f[5] = { &hc.interval, &hc.timeout, &hc.start_period, &hc.start_interval, &hc.retries };
  for (int i = 0; i < 5; i++) {
    *f[i] = parse_u64(spec);
    while (*spec >= '0' && *spec <= '9') spec++;
    if (*spec == ',') spec++;
  }
  if (!hc.interval) hc.interval = 30000;
  if (!hc.timeout) hc.timeout = 30000;
  if (!hc.start_interval) hc.start_interval = 5000;
  if (!hc.retries) hc.retries = 3;
}

static int health_enabled(void) { return hc.plan != 0; }

/* Read once at the start: the probe's plan (the container's, its command replaced; stdout and
 * stderr on fd 3). Without it, no health checks. */
static void health_load(void)
{
  if (!hc.plan_path) return;
  long fd = S(SYS_openat, AT_FDCWD, hc.plan_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  hc.plan = read_all(fd, &hc.planlen);
  S(SYS_close, fd);
}

/* The pure step: the status after one result (a failure in the start period while starting does not count). */
static enum health health_next(enum health status, u64 *streak, long code, int in_start_period, u64 retries)
{
  if (code == 0) {
    *streak = 0;
    return H_HEALTHY;
  }
  if (status == H_STARTING && in_start_period) return status;
  if (++*streak >= retries) return H_UNHEALTHY;
  return status;
}

static void health_write(void)
{
  static char buf[HEALTH_LOG * (HEALTH_OUT * 6 + 256) + 256], esc[HEALTH_OUT * 6 + 1];
  char tmp[PATHMAX], dst[PATHMAX], num[24];
  size_t n = 0;
  buf[0] = 0;
  cat(buf, &n, sizeof buf, "{\"Status\":\"");
  cat(buf, &n, sizeof buf, HEALTH_NAMES[hs.status]);
  cat(buf, &n, sizeof buf, "\",\"FailingStreak\":");
  fmt_int(num, (long)hs.streak);
  cat(buf, &n, sizeof buf, num);
  cat(buf, &n, sizeof buf, ",\"Log\":[");
  for (u32 i = 0; i < hs.n; i++) {
    struct health_result *r = &hs.log[i];
    cat(buf, &n, sizeof buf, i ? ",{\"Start\":\"" : "{\"Start\":\"");
    cat(buf, &n, sizeof buf, r->start);
    cat(buf, &n, sizeof buf, "\",\"End\":\"");
    cat(buf, &n, sizeof buf, r->end);
    cat(buf, &n, sizeof buf, "\",\"ExitCode\":");
    fmt_int(num, r->code);
    cat(buf, &n, sizeof buf, num);
    cat(buf, &n, sizeof buf, ",\"Output\":\"");
    esc[json_escape(esc, (const u8 *)r->out, r->outlen)] = 0;
    cat(buf, &n, sizeof buf, esc);
    cat(buf, &n, sizeof buf, "\"}");
  }
  cat(buf, &n, sizeof buf, "]}\n");
  copy(tmp, PATHMAX, dir, "/health.json.tmp");
  copy(dst, PATHMAX, dir, "/health.json");
  long fd = S(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  put_all((int)fd, buf, (long)n);
  S(SYS_close, fd);
  S(SYS_rename, tmp, dst);
}

static void health_event(void)
{
  char action[48];
  copy(action, sizeof action, "health_status: ", HEALTH_NAMES[hs.status]);
  event_append(action, -1);
}

static u64 health_interval(void)
{
  int early = monotonic_ms() - hs.started_ms < hc.start_period;
  return early && hs.status == H_STARTING ? hc.start_interval : hc.interval;
}

/* The container (re)started: starting again, first probe one interval later. */
static void health_start(void)
{
  if (!health_enabled()) return;
  hs.status = H_STARTING;
  hs.streak = 0;
  hs.started_ms = monotonic_ms();
  hs.next_ms = hs.started_ms + health_interval();
  health_write();
}

/* In the probe's process: the plan parsed into our copy of `plan`, then as exec_mode does it. */
static void probe_main(void *arg)
{
  static struct target t;
  struct failure f;
  long out = *(long *)arg, null = devnull();
  if (null < 0 || parse_plan(hc.plan, hc.planlen)) die(126);
  S(SYS_dup3, out, 3, 0);
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
    put_all(3, "cannot run the health check command: ", 38);
    put_all(3, f.text, f.len < 0 ? 0 : f.len > 200 ? 200 : f.len);
  }
  S(SYS_close, 3);
  relay_until_exit(pidfd, set);
}

static void probe_launch(void)
{
  int p[2];
  struct timespec ts;
  if (S(SYS_pipe2, p, O_CLOEXEC) < 0) return;
  long w = p[1];
  int pfd = -1, report = -1;
  long pid = clone_child(0, probe_main, &w, &pfd, &report);
  S(SYS_close, p[1]);
  if (pid < 0) { S(SYS_close, p[0]); return; }
  S(SYS_close, report); /* the probe's own failures show in its exit code */
  S(SYS_fcntl, p[0], F_SETFL, O_NONBLOCK);
  probe.pidfd = pfd;
  probe.out = p[0];
  probe.deadline = monotonic_ms() + hc.timeout;
  probe.r.outlen = 0;
  now(&ts);
  fmt_time(probe.r.start, &ts);
}

static void probe_drain(void)
{
  char sink[4096];
  for (;;) {
    struct health_result *r = &probe.r;
    long got = r->outlen < HEALTH_OUT ? S(SYS_read, probe.out, r->out + r->outlen, HEALTH_OUT - r->outlen) : S(SYS_read, probe.out, sink, sizeof sink);
    if (got <= 0) return;
    if (r->outlen < HEALTH_OUT) r->outlen += (u32)got;
  }
}

/* Go's time.Duration String() of a whole number of ms: "300ms", "30s", "1m30.5s", "1h0m0s". */
static void go_duration_ms(char *out, u64 ms)
{
  char num[24];
  size_t n = 0;
  out[0] = 0;
  if (ms < 1000) {
    fmt_int(num, (long)ms);
    cat(out, &n, 40, num);
    cat(out, &n, 40, "ms");
    return;
  }
  u64 h = ms / 3600000, m = ms / 60000 % 60, sec = ms / 1000 % 60, frac = ms % 1000;
  if (h) { fmt_int(num, (long)h); cat(out, &n, 40, num); cat(out, &n, 40, "h"); }
  if (h || m) { fmt_int(num, (long)m); cat(out, &n, 40, num); cat(out, &n, 40, "m"); }
  fmt_int(num, (long)sec);
  cat(out, &n, 40, num);
  if (frac) {
    char f[5] = { '.', 0, 0, 0, 0 };
    digits(f + 1, frac, 3);
    for (int i = 3; i > 0 && f[i] == '0'; i--) f[i] = 0;
    cat(out, &n, 40, f);
  }
  cat(out, &n, 40, "s");
}

/* The probe ended (or is killed at its deadline, timed_out): its result recorded, the status moved. */
static void probe_finish(int timed_out)
{
  i32 info[32];
  struct timespec ts;
  if (timed_out) S(SYS_pidfd_send_signal, probe.pidfd, SIGKILL, 0, 0);
  long r = reap(probe.pidfd, info, 0);
  probe_drain();
  S(SYS_close, probe.pidfd);
  S(SYS_close, probe.out);
  probe.pidfd = probe.out = -1;
  now(&ts);
  fmt_time(probe.r.end, &ts);
  if (timed_out) {
    /* Docker's words and code for a probe past its timeout. */
    char msg[80], dur[40];
    size_t n = 0;
    go_duration_ms(dur, hc.timeout);
    msg[0] = 0;
    cat(msg, &n, sizeof msg, "Health check exceeded timeout (");
    cat(msg, &n, sizeof msg, dur);
    cat(msg, &n, sizeof msg, ")");
    for (u32 i = 0; i <= n; i++) probe.r.out[i] = msg[i];
    probe.r.outlen = (u32)n;
    probe.r.code = -1;
  } else {
    probe.r.code = r < 0 ? -1 : exit_code(info);
  }
  if (hs.n == HEALTH_LOG) {
    for (u32 i = 1; i < HEALTH_LOG; i++) hs.log[i - 1] = hs.log[i];
    hs.n--;
  }
  hs.log[hs.n++] = probe.r;
  enum health before = hs.status;
  int in_start = monotonic_ms() - hs.started_ms < hc.start_period;
  hs.status = health_next(hs.status, &hs.streak, probe.r.code, in_start, hc.retries);
  health_write();
  if (hs.status != before) health_event();
  hs.next_ms = monotonic_ms() + health_interval();
}

/* The poll() entries of the probe, appended at fds[*nf]. */
static void health_fds(struct pollfd *fds, int *nf)
{
  if (probe.pidfd < 0) return;
  fds[*nf].fd = (int)probe.pidfd; fds[*nf].events = POLLIN; fds[(*nf)++].revents = 0;
  fds[*nf].fd = (int)probe.out; fds[*nf].events = POLLIN; fds[(*nf)++].revents = 0;
}

/* How long poll() may sleep: until the next probe or the running one's deadline; -1 without checks. */
static long health_wait_ms(void)
{
  if (!health_enabled()) return -1;
  u64 t = monotonic_ms(), at = probe.pidfd >= 0 ? probe.deadline : hs.next_ms;
  return at <= t ? 0 : (long)(at - t);
}

/* After each poll(): the probe's output read, its end or deadline handled, the next one started. */
static void health_tick(void)
{
  if (!health_enabled()) return;
  if (probe.pidfd >= 0) {
    probe_drain();
    struct pollfd pf = { (int)probe.pidfd, POLLIN, 0 };
    S(SYS_poll, &pf, 1, 0);
    if (pf.revents) probe_finish(0);
    else if (monotonic_ms() >= probe.deadline) probe_finish(1);
    return;
  }
  if (monotonic_ms() >= hs.next_ms) probe_launch();
}

/* The container ended: a probe in flight is killed, not recorded; the status reads unhealthy. */
static void health_stop(void)
{
  if (!health_enabled()) return;
  if (probe.pidfd >= 0) {
    i32 info[32];
    S(SYS_pidfd_send_signal, probe.pidfd, SIGKILL, 0, 0);
    reap(probe.pidfd, info, 0);
    S(SYS_close, probe.pidfd);
    S(SYS_close, probe.out);
    probe.pidfd = probe.out = -1;
  }
  hs.status = H_UNHEALTHY;
  health_write();
}
