/* Kubernetes' probes (a pod's livenessProbe, readinessProbe, startupProbe), run as the kubelet's
 * prober runs them (pkg/kubelet/prober/worker.go): each every period from initialDelay after the
 * container started, killed at its timeout; a result counts once successThreshold successes or
 * failureThreshold failures come in a row. Until a startup probe succeeds the others do not run; a
 * failed liveness or startup probe SIGKILLs the container, which the restart manager (run.c) then
 * restarts per its policy; readiness starts false and follows its probe (true without one).
 *
 * exec runs the command in the container as a health check does (check.c). httpGet and tcpSocket
 * connect from a child that joined only the container's network namespace, as the kubelet connects
 * from outside: nothing of the image is used. Host: the given IPv4 address, else the pod's (eth0's).
 *
 * DIR/probes.bin (src/sys/protocol.ts encodeProbes writes it), u32 little-endian: [count], then per
 * probe [kind, action, delay ms, period ms, timeout ms, success threshold, failure threshold, port,
 * IPv4 address (its bytes in order; 0 for the pod's), add a Host header, payload length] and the
 * payload: the encoded plan (exec) or the request without its Host header (httpGet).
 * DIR/probes.json: Started, Ready and each probe's state and last result, written at each result. */

enum probe_kind { PK_LIVENESS, PK_READINESS, PK_STARTUP };
enum probe_action { PA_EXEC, PA_HTTP, PA_TCP };
static const char *const PROBE_KINDS[] = { "liveness", "readiness", "startup" };
enum probe_result { R_FAILURE, R_SUCCESS, R_UNKNOWN };
static const char *const PROBE_RESULTS[] = { "failure", "success", "unknown" };

#define MAX_PROBES 3
#define PROBE_FIELDS 11
#define SYS_connect 42
#define SIOCGIFADDR 0x8915

struct kprobe {
  u32 kind, action, delay_ms, period_ms, timeout_ms, success, failure, port, ip, add_host, len;
  const u8 *payload;
  struct check_exec exec;
  int result, has_last;
  u32 successes, failures;
  u64 next_ms;
  struct check c;
  struct check_result last;
};
static struct kprobe kp[MAX_PROBES];
static u32 nkp;
/* started: no startup probe, or it succeeded; killed: a probe failed, the container is going. */
static struct { int started, ready, killed; } ks;

static u32 le32(const u8 *b) { return (u32)b[0] | (u32)b[1] << 8 | (u32)b[2] << 16 | (u32)b[3] << 24; }

/* Parses DIR/probes.bin; anything malformed (which no TypeScript writes) means no probes. */
static void probes_load(void)
{
  char path[PATHMAX];
  u32 len, off = 4;
  copy(path, PATHMAX, dir, "/probes.bin");
  long fd = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  u8 *buf = read_all(fd, &len);
  S(SYS_close, fd);
  if (!buf || len < 4 || le32(buf) > MAX_PROBES) return;
  u32 n = le32(buf);
  for (u32 i = 0; i < n; i++) {
    struct kprobe *p = &kp[i];
    u32 *f[PROBE_FIELDS] = { &p->kind, &p->action, &p->delay_ms, &p->period_ms, &p->timeout_ms, &p->success, &p->failure, &p->port, &p->ip, &p->add_host, &p->len };
    if (len - off < PROBE_FIELDS * 4) return;
    for (int k = 0; k < PROBE_FIELDS; k++, off += 4) *f[k] = le32(buf + off);
    if (p->len > len - off || p->kind > PK_STARTUP || p->action > PA_TCP || !p->period_ms || !p->timeout_ms || !p->success || !p->failure) return;
    p->payload = buf + off;
    off += p->len;
    p->exec.buf = p->payload;
    p->exec.len = p->len;
    p->exec.what = "cannot run the probe's command: ";
  }
  nkp = n;
}

static void probes_write(void)
{
  static char buf[MAX_PROBES * (CHECK_OUT * 6 + 512) + 128], esc[CHECK_OUT * 6 + 1];
  size_t n = 0;
  buf[0] = 0;
  cat(buf, &n, sizeof buf, ks.started ? "{\"Started\":true" : "{\"Started\":false");
  cat(buf, &n, sizeof buf, ks.ready ? ",\"Ready\":true,\"Probes\":[" : ",\"Ready\":false,\"Probes\":[");
  for (u32 i = 0; i < nkp; i++) {
    struct kprobe *p = &kp[i];
    cat(buf, &n, sizeof buf, i ? ",{\"Probe\":\"" : "{\"Probe\":\"");
    cat(buf, &n, sizeof buf, PROBE_KINDS[p->kind]);
    cat(buf, &n, sizeof buf, "\",\"Result\":\"");
    cat(buf, &n, sizeof buf, PROBE_RESULTS[p->result]);
    cat(buf, &n, sizeof buf, "\",\"ConsecutiveSuccesses\":");
    cat_int(buf, &n, sizeof buf, p->successes);
    cat(buf, &n, sizeof buf, ",\"ConsecutiveFailures\":");
    cat_int(buf, &n, sizeof buf, p->failures);
    if (p->has_last) {
      cat(buf, &n, sizeof buf, ",\"Last\":{\"Start\":\"");
      cat(buf, &n, sizeof buf, p->last.start);
      cat(buf, &n, sizeof buf, "\",\"End\":\"");
      cat(buf, &n, sizeof buf, p->last.end);
      cat(buf, &n, sizeof buf, "\",\"ExitCode\":");
      cat_int(buf, &n, sizeof buf, p->last.code);
      cat(buf, &n, sizeof buf, ",\"Output\":\"");
      esc[json_escape(esc, (const u8 *)p->last.out, p->last.outlen)] = 0;
      cat(buf, &n, sizeof buf, esc);
      cat(buf, &n, sizeof buf, "\"}");
    }
    cat(buf, &n, sizeof buf, "}");
  }
  cat(buf, &n, sizeof buf, "]}\n");
  write_record("probes.json", buf, (long)n);
}

static int has_probe(u32 kind)
{
  for (u32 i = 0; i < nkp; i++) if (kp[i].kind == kind) return 1;
  return 0;
}

/* Ready: started and running, and the readiness probe's result (if any) a success. */
static void probes_settle(void)
{
  ks.ready = ks.started && !ks.killed;
  for (u32 i = 0; i < nkp; i++) if (kp[i].kind == PK_READINESS && kp[i].result != R_SUCCESS) ks.ready = 0;
}

/* The container (re)started: every probe from scratch, its first run initialDelay from now. The
 * kubelet's initial results: liveness success, readiness failure, startup unknown. */
static void probes_start(void)
{
  if (!nkp) return;
  u64 t = monotonic_ms();
  ks.started = !has_probe(PK_STARTUP);
  ks.killed = 0;
  for (u32 i = 0; i < nkp; i++) {
    struct kprobe *p = &kp[i];
    p->result = p->kind == PK_LIVENESS ? R_SUCCESS : p->kind == PK_READINESS ? R_FAILURE : R_UNKNOWN;
    p->successes = p->failures = 0;
    p->has_last = 0;
    p->next_ms = t + p->delay_ms;
  }
  probes_settle();
  probes_write();
}

static int probe_active(const struct kprobe *p)
{
  return !ks.killed && (p->kind == PK_STARTUP ? !ks.started : ks.started);
}

static void put_ip(char *out, size_t *n, size_t cap, u32 ip, u32 port)
{
  for (int i = 0; i < 4; i++) {
    cat_int(out, n, cap, (ip >> (8 * i)) & 255);
    cat(out, n, cap, i < 3 ? "." : ":");
  }
  cat_int(out, n, cap, port);
}

/* eth0's IPv4 address in the network namespace we are in (the pod's IP); 127.0.0.1 without one. */
static u32 pod_ip(void)
{
  struct { char name[16]; u16 family, port; u32 addr; u8 pad[16]; } ifr = { "eth0" };
  long s = S(SYS_socket, 2 /* AF_INET */, 2 /* SOCK_DGRAM */ | O_CLOEXEC, 0);
  long r = s < 0 ? s : S(SYS_ioctl, s, SIOCGIFADDR, &ifr);
  if (s >= 0) S(SYS_close, s);
  return r < 0 ? 0x0100007f : ifr.addr;
}

static const char *errno_words(long e)
{
  switch (e) {
  case 111: return "connection refused";
  case 110: return "connection timed out";
  case 113: return "no route to host";
  case 101: return "network is unreachable";
  default: return "failed";
  }
}

/* In a probe's child: joins the container's network namespace only, connects, and for httpGet sends
 * the request and reads the status. Exits 0 on success, 1 with the reason on the output pipe. */
static void net_probe_main(void *arg)
{
  struct kprobe *p = arg;
  char msg[256], num[24], head[1024];
  size_t n = 0;
  long procfd, nsfd, s, r;
  /* Root with every capability, in the container's network namespace: never a target for ptrace or
   * /proc/<pid> access, should the container ever see our pid (we stay out of its PID namespace). */
  S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  fmt_int(num, st.pid);
  copy(msg, sizeof msg, "/proc/", num);
  procfd = S(SYS_openat, AT_FDCWD, msg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd < 0 || start_time_at(procfd, "stat") != st.pidStart) die(2);
  nsfd = S(SYS_openat, procfd, "ns/net", O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || S(SYS_setns, nsfd, CLONE_NEWNET) < 0) die(2);
  u32 ip = p->ip ? p->ip : pod_ip();
  struct { u16 family, port; u32 addr; u8 zero[8]; } sa = { 2, (u16)((p->port >> 8) | (p->port << 8)), ip };
  s = S(SYS_socket, 2 /* AF_INET */, 1 /* SOCK_STREAM */ | O_CLOEXEC, 0);
  r = s < 0 ? s : S(SYS_connect, s, &sa, 16);
  if (r < 0) {
    /* Go's words for it, as the kubelet reports them. */
    msg[0] = 0;
    cat(msg, &n, sizeof msg, "dial tcp ");
    put_ip(msg, &n, sizeof msg, ip, p->port);
    cat(msg, &n, sizeof msg, ": connect: ");
    cat(msg, &n, sizeof msg, errno_words(-r));
    put_all((int)check_pipe, msg, (long)n);
    die(1);
  }
  if (p->action == PA_TCP) die(0);
  /* The request line, our Host header (host:port, as Go's client sends it), the rest. */
  u32 line = 0;
  while (line + 1 < p->len && !(p->payload[line] == '\r' && p->payload[line + 1] == '\n')) line++;
  line = line + 2 <= p->len ? line + 2 : p->len;
  put_all((int)s, p->payload, line);
  if (p->add_host) {
    msg[0] = 0;
    cat(msg, &n, sizeof msg, "Host: ");
    put_ip(msg, &n, sizeof msg, ip, p->port);
    cat(msg, &n, sizeof msg, "\r\n");
    put_all((int)s, msg, (long)n);
  }
  put_all((int)s, p->payload + line, p->len - line);
  /* The status line: "HTTP/1.1 200 OK". */
  long got = 0;
  while (got < (long)sizeof head - 1 && (r = S(SYS_read, s, head + got, sizeof head - 1 - got)) > 0) {
    got += r;
    head[got] = 0;
    int eol = 0;
    for (long i = 0; i < got; i++) if (head[i] == '\n') eol = 1;
    if (eol) break;
  }
  long code = got > 12 && head[0] == 'H' && head[8] == ' ' ? (long)parse_u64(head + 9) : 0;
  if (code >= 200 && code < 400) die(0);
  n = 0;
  msg[0] = 0;
  if (code) {
    fmt_int(num, code);
    cat(msg, &n, sizeof msg, "HTTP probe failed with statuscode: ");
    cat(msg, &n, sizeof msg, num);
  } else cat(msg, &n, sizeof msg, got ? "malformed HTTP response" : "EOF");
  put_all((int)check_pipe, msg, (long)n);
  die(1);
}

/* A probe's failure that ends the container: SIGKILL (we are its parent: the pid is not reused
 * before we reap it), an event, and no more probes until it runs again. */
static void probe_kill(const struct kprobe *p)
{
  char action[48];
  if (st.pid > 0) S(SYS_kill, st.pid, SIGKILL);
  ks.killed = 1;
  for (u32 i = 0; i < nkp; i++) check_cancel(&kp[i].c);
  copy(action, sizeof action, "probe_failed: ", PROBE_KINDS[p->kind]);
  event_append(action, -1);
}

static void probe_result(struct kprobe *p, int timed_out)
{
  int ok = p->c.r.code == 0;
  if (timed_out) {
    char msg[64], num[24];
    size_t n = 0;
    fmt_int(num, p->timeout_ms / 1000);
    msg[0] = 0;
    cat(msg, &n, sizeof msg, "probe timed out after ");
    cat(msg, &n, sizeof msg, num);
    cat(msg, &n, sizeof msg, "s");
    for (u32 i = 0; i <= n; i++) p->c.r.out[i] = msg[i];
    p->c.r.outlen = (u32)n;
  }
  p->last = p->c.r;
  p->has_last = 1;
  if (ok) { p->successes++; p->failures = 0; }
  else { p->failures++; p->successes = 0; }
  if (ok && p->successes >= p->success) p->result = R_SUCCESS;
  if (!ok && p->failures >= p->failure) p->result = R_FAILURE;
  if (p->kind == PK_STARTUP && p->result == R_SUCCESS) ks.started = 1;
  if (p->kind != PK_READINESS && p->result == R_FAILURE) probe_kill(p);
  int was = ks.ready;
  probes_settle();
  probes_write();
  if (ks.ready != was) hook_trigger(); /* written first: the Services' sync reads it */
}

/* How long poll() may sleep for the probes: until the next one is due or one in flight passes its deadline. */
static long probes_wait_ms(void)
{
  long w = -1;
  u64 t = monotonic_ms();
  for (u32 i = 0; i < nkp; i++) {
    struct kprobe *p = &kp[i];
    if (!probe_active(p)) continue;
    u64 at = p->c.running ? p->c.deadline : p->next_ms;
    long mine = at <= t ? 0 : (long)(at - t);
    if (w < 0 || mine < w) w = mine;
  }
  return w;
}

static void probes_tick(void)
{
  int timed_out;
  for (u32 i = 0; i < nkp; i++) {
    struct kprobe *p = &kp[i];
    if (!probe_active(p)) continue;
    if (p->c.running) {
      if (check_done(&p->c, &timed_out)) probe_result(p, timed_out);
      continue;
    }
    u64 t = monotonic_ms();
    if (t < p->next_ms) continue;
    p->next_ms = t + p->period_ms;
    check_launch(&p->c, p->action == PA_EXEC ? check_exec_main : net_probe_main, p->action == PA_EXEC ? (void *)&p->exec : (void *)p, p->timeout_ms);
  }
}

/* The container ended: probes in flight are dropped; neither started nor ready. */
static void probes_stop(void)
{
  if (!nkp) return;
  for (u32 i = 0; i < nkp; i++) check_cancel(&kp[i].c);
  ks.started = ks.ready = 0;
  probes_write();
}
