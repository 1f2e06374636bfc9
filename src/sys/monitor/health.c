/* Health checks (Docker's HEALTHCHECK, --health-*): at each interval the probe command runs in the
 * container as `tinydock exec` runs a command (exec.c's open_target, enter_namespaces, exec_child,
 * in a child of ours, check.c), killed at its timeout. The last HEALTH_LOG results and the status go to
 * DIR/health.json, atomically (we are its only writer); a change of status is an event.
 *
 * Docker's rules (daemon/health.go): exit 0 → healthy, streak 0; a failure while still "starting"
 * inside the start period does not count; otherwise the streak grows and reaches unhealthy at
 * `retries`. While starting and inside the start period, probes come every start interval. */

#define HEALTH_LOG 5
enum health { H_STARTING, H_HEALTHY, H_UNHEALTHY };
static const char *const HEALTH_NAMES[] = { "starting", "healthy", "unhealthy" };

/* -H INTERVAL,TIMEOUT,START_PERIOD,START_INTERVAL,RETRIES (ms, ms, ms, ms, count) -P PLANFILE */
static struct { u64 interval, timeout, start_period, start_interval, retries; const char *plan_path; u8 *plan; u32 planlen; } hc;

static struct {
  enum health status;
  u64 streak, started_ms, next_ms;
  u32 n; /* results in log, oldest first */
  struct check_result log[HEALTH_LOG];
} hs;

/* The probe in flight, and what it runs. */
static struct check probe;
static struct check_exec probe_cmd = { 0, 0, "cannot run the health check command: " };

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
  probes_load();
  if (!hc.plan_path) return;
  long fd = S(SYS_openat, AT_FDCWD, hc.plan_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  hc.plan = read_all(fd, &hc.planlen);
  S(SYS_close, fd);
  probe_cmd.buf = hc.plan;
  probe_cmd.len = hc.planlen;
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
  static char buf[HEALTH_LOG * (CHECK_OUT * 6 + 256) + 256], esc[CHECK_OUT * 6 + 1];
  size_t n = 0;
  buf[0] = 0;
  cat(buf, &n, sizeof buf, "{\"Status\":\"");
  cat(buf, &n, sizeof buf, HEALTH_NAMES[hs.status]);
  cat(buf, &n, sizeof buf, "\",\"FailingStreak\":");
  cat_int(buf, &n, sizeof buf, (long)hs.streak);
  cat(buf, &n, sizeof buf, ",\"Log\":[");
  for (u32 i = 0; i < hs.n; i++) {
    struct check_result *r = &hs.log[i];
    cat(buf, &n, sizeof buf, i ? ",{\"Start\":\"" : "{\"Start\":\"");
    cat(buf, &n, sizeof buf, r->start);
    cat(buf, &n, sizeof buf, "\",\"End\":\"");
    cat(buf, &n, sizeof buf, r->end);
    cat(buf, &n, sizeof buf, "\",\"ExitCode\":");
    cat_int(buf, &n, sizeof buf, r->code);
    cat(buf, &n, sizeof buf, ",\"Output\":\"");
    esc[json_escape(esc, (const u8 *)r->out, r->outlen)] = 0;
    cat(buf, &n, sizeof buf, esc);
    cat(buf, &n, sizeof buf, "\"}");
  }
  cat(buf, &n, sizeof buf, "]}\n");
  write_record("health.json", buf, (long)n);
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
  probes_start();
  if (!health_enabled()) return;
  hs.status = H_STARTING;
  hs.streak = 0;
  hs.started_ms = monotonic_ms();
  hs.next_ms = hs.started_ms + health_interval();
  health_write();
}

/* Go's time.Duration String() of a whole number of ms: "300ms", "30s", "1m30.5s", "1h0m0s". */
static void go_duration_ms(char *out, u64 ms)
{
  char num[24];
  size_t n = 0;
  out[0] = 0;
  if (ms < 1000) {
    cat_int(out, &n, 40, (long)ms);
    cat(out, &n, 40, "ms");
    return;
  }
  u64 h = ms / 3600000, m = ms / 60000 % 60, sec = ms / 1000 % 60, frac = ms % 1000;
  if (h) { fmt_int(num, (long)h); cat(out, &n, 40, num); cat(out, &n, 40, "h"); }
  if (h || m) { fmt_int(num, (long)m); cat(out, &n, 40, num); cat(out, &n, 40, "m"); }
  cat_int(out, &n, 40, (long)sec);
  if (frac) {
    char f[5] = { '.', 0, 0, 0, 0 };
    digits(f + 1, frac, 3);
    for (int i = 3; i > 0 && f[i] == '0'; i--) f[i] = 0;
    cat(out, &n, 40, f);
  }
  cat(out, &n, 40, "s");
}

/* The probe ended (or was killed at its deadline, timed_out): its result recorded, the status moved. */
static void probe_finish(int timed_out)
{
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

/* run.c's hooks serve every check of a running container: Docker's health check (here) and
 * Kubernetes' probes (probe.c). */

/* The poll() entry of the checks in flight, appended at fds[*nf]. */
static void health_fds(struct pollfd *fds, int *nf) { check_fds(fds, nf); }

/* How long poll() may sleep: until the next check or the deadline of one in flight; -1 without checks. */
static long health_wait_ms(void)
{
  long w = probes_wait_ms();
  if (!health_enabled()) return w;
  u64 t = monotonic_ms(), at = probe.running ? probe.deadline : hs.next_ms;
  long mine = at <= t ? 0 : (long)(at - t);
  return w >= 0 && w < mine ? w : mine;
}

/* After each poll(): the checks' output read, their ends or deadlines handled, the next ones started. */
static void health_tick(void)
{
  int timed_out;
  probes_tick();
  if (!health_enabled()) return;
  if (probe.running) {
    if (check_done(&probe, &timed_out)) probe_finish(timed_out);
    return;
  }
  if (monotonic_ms() >= hs.next_ms) check_launch(&probe, check_exec_main, &probe_cmd, hc.timeout);
}

/* The container ended: checks in flight are killed, not recorded; the health status reads unhealthy. */
static void health_stop(void)
{
  probes_stop();
  if (!health_enabled()) return;
  check_cancel(&probe);
  hs.status = H_UNHEALTHY;
  health_write();
}
