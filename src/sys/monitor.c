/* tinydock-monitor: what outlives the CLI for a detached container (conmon's role), and the
 * nsenter of `tinydock exec`.
 *
 * Built at `make` time, statically with musl (`musl-gcc -static -Os`, see the Makefile), embedded
 * in the tinydock binary and executed from a memfd (src/lifecycle/monitor.ts), so the host needs no
 * compiler. It #includes init.c: the plan parser and the child code (clone → mounts → execve) are
 * the very ones `tinydock run` compiles with TinyCC. Single-threaded, a poll() loop, no malloc after
 * the start, raw system calls: a few hundred KiB of memory per container (see the PSS figure in
 * test/e2e/detached.test.ts).
 *
 *   tinydock-monitor run -d DIR -l LOG [-s MAXSIZE] [-n MAXFILE] [-r POLICY] [-R N] [-o OOMFILE]... [-t]
 *                        [-- CLEANUP ARGV...]    < encoded plan
 *     Starts the container, reports on fd 1 (below) and closes it, then: logs stdout/stderr in
 *     Docker's json-file format with rotation, writes DIR/run.json atomically on every transition,
 *     applies the restart policy (never once DIR/stopping exists) and, when the container is done
 *     for good, execs CLEANUP ARGV (`tinydock container cleanup <id>`).
 *   tinydock-monitor exec PID [STARTTIME]    < encoded plan (only the process fields are used)
 *     Joins PID's namespaces and cgroup, runs the plan's command there with the plan's ids, caps,
 *     no_new_privs and seccomp, reports on fd 1 and exits as the command did (128+N for signal N).
 *
 * The report on fd 1, i32 little-endian: [2, pid] once the command has exec'd, or [1, stage, errno,
 * index, len, detail...] (init.c's failure record) when it could not be started.
 */
#define TD_STATIC 1
#include "init.c"

#define SYS_poll 7
#define SYS_nanosleep 35
#define SYS_fsync 74
#define SYS_ftruncate 77
#define SYS_rename 82
#define SYS_clock_gettime 228
#define SYS_faccessat 269
#define SYS_signalfd4 289
#define SIGTERM 15

#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_NOCTTY 0400
#define O_TRUNC 01000
#define F_SETFL 4
#define EAGAIN 11
#define EIO 5
#define SIGHUP 1
#define SIGINT 2
#define SIGPIPE 13
#define POLLIN 1
#define POLLHUP 0x10
#define P_PIDFD 3
#define WEXITED 4
#define CLD_EXITED 1
#define TIOCSPTLCK 0x40045431
#define TIOCGPTN 0x80045430

struct pollfd { int fd; short events, revents; };
struct timespec { long sec, nsec; };

static void die(int code) { S(SYS_exit_group, code); for (;;) ; }

static void put_all(int fd, const void *buf, long n)
{
  const u8 *b = buf;
  while (n > 0) {
    long w = S(SYS_write, fd, b, n);
    if (w == -EINTR) continue;
    if (w < 0) return;
    b += w;
    n -= w;
  }
}

static u64 parse_u64(const char *s)
{
  u64 v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (u64)(*s++ - '0');
  return v;
}

static int streq(const char *a, const char *b)
{
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static void copy(char *out, size_t cap, const char *a, const char *b)
{
  size_t n = 0;
  out[0] = 0;
  cat(out, &n, cap, a);
  if (b) cat(out, &n, cap, b);
}

/* An encoded plan read from fd to EOF into a new buffer; NULL on a read error or no memory. */
static u8 *read_all(long fd, u32 *len)
{
  u32 cap = 1 << 16;
  u8 *buf = malloc(cap);
  *len = 0;
  for (;;) {
    if (!buf) return 0;
    if (*len == cap) {
      u8 *next = cap < (1u << 26) ? malloc(cap * 2) : 0;
      if (!next) return 0;
      for (u32 i = 0; i < *len; i++) next[i] = buf[i];
      free(buf);
      buf = next;
      cap *= 2;
    }
    long r = S(SYS_read, fd, buf + *len, cap - *len);
    if (r == -EINTR) continue;
    if (r < 0) return 0;
    if (r == 0) return buf;
    *len += (u32)r;
  }
}

/* Parses buf into `plan` with init.c's parser: 0, or 1 + the offset where the bytes stopped making sense. */
static struct plan plan;
static long parse_plan(const u8 *buf, u32 len)
{
  u32 arenalen = len * 4 + 256;
  u8 *arena = malloc(arenalen);
  return arena ? parse(buf, len, arena, arenalen, &plan) : 1;
}

/* The plan, read from fd 0 to EOF, parsed by init.c's parser. Exits 1 on anything malformed. */
static void read_plan(void)
{
  u32 len;
  u8 *buf = read_all(0, &len);
  if (!buf || parse_plan(buf, len)) die(1);
}

/* Field 22 of <proc dir>/stat (start time in clock ticks): with the pid, names a process for good. */
static u64 start_time_at(long dirfd, const char *path)
{
  char buf[1024];
  long fd = S(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC), r, i, field = 2;
  if (fd < 0) return 0;
  r = S(SYS_read, fd, buf, sizeof buf - 1);
  S(SYS_close, fd);
  if (r <= 0) return 0;
  buf[r] = 0;
  for (i = r - 1; i > 0 && buf[i] != ')'; i--) ;
  for (; i < r; i++) {
    if (buf[i] == ' ') { if (++field == 22) return parse_u64(buf + i + 1); }
  }
  return 0;
}

static u64 start_time(long pid)
{
  char path[64], num[24];
  size_t n = 0;
  fmt_int(num, pid);
  path[0] = 0;
  cat(path, &n, sizeof path, "/proc/");
  cat(path, &n, sizeof path, num);
  cat(path, &n, sizeof path, "/stat");
  return start_time_at(AT_FDCWD, path);
}

/* ---- time, as Docker writes it: RFC 3339 with nanoseconds, UTC ---- */

static void now(struct timespec *ts) { S(SYS_clock_gettime, 0 /* CLOCK_REALTIME */, ts); }

static u64 monotonic_ms(void)
{
  struct timespec ts;
  S(SYS_clock_gettime, 1 /* CLOCK_MONOTONIC */, &ts);
  return (u64)ts.sec * 1000 + (u64)ts.nsec / 1000000;
}

static void digits(char *out, u64 v, int width)
{
  for (int i = width - 1; i >= 0; i--) { out[i] = '0' + v % 10; v /= 10; }
}

/* "2026-11-23T22:00:00.123456789Z" (30 chars + NUL); days → civil date as in Howard Hinnant's algorithm. */
static void fmt_time(char *out, const struct timespec *ts)
{
  long z = ts->sec / 86400 + 719468, sod = ts->sec % 86400;
  long era = z / 146097, doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  long d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  digits(out, y, 4); out[4] = '-';
  digits(out + 5, m, 2); out[7] = '-';
  digits(out + 8, d, 2); out[10] = 'T';
  digits(out + 11, sod / 3600, 2); out[13] = ':';
  digits(out + 14, sod / 60 % 60, 2); out[16] = ':';
  digits(out + 17, sod % 60, 2); out[19] = '.';
  digits(out + 20, ts->nsec, 9); out[29] = 'Z'; out[30] = 0;
}

/* ---- JSON strings as Go's encoding/json writes them (Docker's logs): invalid UTF-8 → U+FFFD ---- */

static size_t json_escape(char *out, const u8 *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0, i = 0;
  while (i < n) {
    u8 c = s[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') { out[o++] = '\\'; out[o++] = c; }
      else if (c == '\n') { out[o++] = '\\'; out[o++] = 'n'; }
      else if (c == '\r') { out[o++] = '\\'; out[o++] = 'r'; }
      else if (c == '\t') { out[o++] = '\\'; out[o++] = 't'; }
      else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        out[o++] = '\\'; out[o++] = 'u'; out[o++] = '0'; out[o++] = '0';
        out[o++] = hex[c >> 4]; out[o++] = hex[c & 15];
      } else out[o++] = c;
      i++;
      continue;
    }
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0, k;
    int ok = len && i + len <= n;
    for (k = 1; ok && k < len; k++) if ((s[i + k] & 0xc0) != 0x80) ok = 0;
    if (ok && len == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))) ok = 0;
    if (ok && len == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))) ok = 0;
    if (!ok) { out[o++] = '\\'; out[o++] = 'u'; out[o++] = 'f'; out[o++] = 'f'; out[o++] = 'f'; out[o++] = 'd'; i++; continue; }
    if (len == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
      out[o++] = '\\'; out[o++] = 'u'; out[o++] = '2'; out[o++] = '0'; out[o++] = '2'; out[o++] = s[i + 2] == 0xa8 ? '8' : '9';
    } else for (k = 0; k < len; k++) out[o++] = s[i + k];
    i += len;
  }
  return o;
}

/* ---- the json-file log, rotated at max bytes keeping max files (Docker's --log-opt) ---- */

#define LINE_MAX 16384 /* Docker's partial-message size */
static const char *log_path;
static long log_fd = -1;
static u64 log_size, log_max = 10u << 20, log_files = 3;
static char log_line[LINE_MAX * 6 + 128];

static void log_open(int truncate)
{
  log_fd = S(SYS_openat, AT_FDCWD, log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0640);
  log_size = 0;
  if (log_fd >= 0) {
    long st[18]; /* struct stat: st_size is the 7th long */
    if (S(5 /* SYS_fstat */, log_fd, st) == 0) log_size = (u64)st[6];
  }
}

static void log_rotate(void)
{
  char from[PATHMAX], to[PATHMAX], num[24];
  S(SYS_close, log_fd);
  if (log_files <= 1) { log_open(1); return; }
  for (u64 i = log_files - 1; i >= 1; i--) {
    fmt_int(num, (long)i);
    size_t n = 0;
    copy(to, PATHMAX, log_path, ".");
    n = slen(to);
    cat(to, &n, PATHMAX, num);
    if (i == 1) copy(from, PATHMAX, log_path, 0);
    else {
      fmt_int(num, (long)i - 1);
      copy(from, PATHMAX, log_path, ".");
      n = slen(from);
      cat(from, &n, PATHMAX, num);
    }
    S(SYS_rename, from, to);
  }
  log_open(1);
}

static void log_entry(int stream, const u8 *text, size_t n)
{
  static const char *names[] = { "stdout", "stderr" };
  struct timespec ts;
  char time[32];
  size_t o = 0;
  if (log_fd < 0) return;
  now(&ts);
  fmt_time(time, &ts);
  const char *head = "{\"log\":\"";
  while (*head) log_line[o++] = *head++;
  o += json_escape(log_line + o, text, n);
  const char *mid = "\",\"stream\":\"";
  while (*mid) log_line[o++] = *mid++;
  for (const char *s = names[stream]; *s;) log_line[o++] = *s++;
  const char *t = "\",\"time\":\"";
  while (*t) log_line[o++] = *t++;
  for (const char *s = time; *s;) log_line[o++] = *s++;
  log_line[o++] = '"'; log_line[o++] = '}'; log_line[o++] = '\n';
  if (log_max && log_size > 0 && log_size + o > log_max) log_rotate();
  if (log_fd < 0) return;
  put_all((int)log_fd, log_line, (long)o);
  log_size += o;
}

/* Per stream: what arrived since the last newline. A line is logged when complete, or as a 16 KiB partial. */
static u8 pending[2][LINE_MAX];
static u32 npending[2];

static void log_bytes(int stream, const u8 *b, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    pending[stream][npending[stream]++] = b[i];
    if (b[i] == '\n' || npending[stream] == LINE_MAX) {
      log_entry(stream, pending[stream], npending[stream]);
      npending[stream] = 0;
    }
  }
}

static void log_flush(int stream)
{
  if (npending[stream]) log_entry(stream, pending[stream], npending[stream]);
  npending[stream] = 0;
}

/* Reads what is there (non-blocking fd): 1 while the stream may say more, 0 at EOF/EIO. */
static int pump(int fd, int stream)
{
  static u8 buf[LINE_MAX];
  for (int rounds = 0; rounds < 64; rounds++) {
    long r = S(SYS_read, fd, buf, sizeof buf);
    if (r == -EINTR) continue;
    if (r == -EAGAIN) return 1;
    if (r <= 0) return 0; /* EOF, or EIO: a pty whose every slave is closed */
    log_bytes(stream, buf, (size_t)r);
  }
  return 1;
}

/* ---- run.json: the live state, written to a temp file and renamed (the only writer is us) ---- */

static const char *dir;
static struct {
  const char *status;
  long pid;
  u64 pidStart, monitorStart;
  char startedAt[32], finishedAt[32];
  long exitCode;
  int oomKilled;
  u64 restartCount;
  const char *error;
} st = { "created", 0, 0, 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", 0, 0, 0, "" };

#define JSTR_MAX 100 /* bytes of a value written; json_escape makes at most 6 of each (\u00XX) */
static void jstr(char *buf, size_t *n, size_t cap, const char *key, const char *v)
{
  char esc[JSTR_MAX * 6 + 1]; /* and its NUL */
  size_t l = slen(v);
  if (l > JSTR_MAX) l = JSTR_MAX;
  esc[json_escape(esc, (const u8 *)v, l)] = 0;
  cat(buf, n, cap, "\"");
  cat(buf, n, cap, key);
  cat(buf, n, cap, "\":\"");
  cat(buf, n, cap, esc);
  cat(buf, n, cap, "\",");
}

static void jnum(char *buf, size_t *n, size_t cap, const char *key, long v)
{
  char num[24];
  fmt_int(num, v);
  cat(buf, n, cap, "\"");
  cat(buf, n, cap, key);
  cat(buf, n, cap, "\":");
  cat(buf, n, cap, num);
  cat(buf, n, cap, ",");
}

static void write_state(void)
{
  char buf[2048], tmp[PATHMAX], dst[PATHMAX];
  size_t n = 0;
  buf[0] = 0;
  cat(buf, &n, sizeof buf, "{");
  jstr(buf, &n, sizeof buf, "status", st.status);
  jnum(buf, &n, sizeof buf, "pid", st.pid);
  jnum(buf, &n, sizeof buf, "pidStartTime", (long)st.pidStart);
  jnum(buf, &n, sizeof buf, "monitorPid", S(SYS_getpid));
  jnum(buf, &n, sizeof buf, "monitorStartTime", (long)st.monitorStart);
  jstr(buf, &n, sizeof buf, "startedAt", st.startedAt);
  jstr(buf, &n, sizeof buf, "finishedAt", st.finishedAt);
  jnum(buf, &n, sizeof buf, "exitCode", st.exitCode);
  cat(buf, &n, sizeof buf, st.oomKilled ? "\"oomKilled\":true," : "\"oomKilled\":false,");
  jnum(buf, &n, sizeof buf, "restartCount", (long)st.restartCount);
  jstr(buf, &n, sizeof buf, "error", st.error);
  buf[n - 1] = '}';
  cat(buf, &n, sizeof buf, "\n");
  copy(tmp, PATHMAX, dir, "/run.json.tmp");
  copy(dst, PATHMAX, dir, "/run.json");
  long fd = S(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  put_all((int)fd, buf, (long)n);
  S(SYS_close, fd);
  S(SYS_rename, tmp, dst);
}

static int stopping(void)
{
  char p[PATHMAX];
  copy(p, PATHMAX, dir, "/stopping");
  return S(SYS_faccessat, AT_FDCWD, p, 0 /* F_OK */, 0) == 0;
}

/* ---- OOM kills: the oom_kill counter of memory.oom_control (v1) or memory.events (v2) ---- */

#define MAX_OOM 4
static const char *oom_files[MAX_OOM];
static int noom;

static u64 oom_count(void)
{
  u64 total = 0;
  char buf[1024];
  for (int f = 0; f < noom; f++) {
    long fd = S(SYS_openat, AT_FDCWD, oom_files[f], O_RDONLY | O_CLOEXEC), r;
    if (fd < 0) continue;
    r = S(SYS_read, fd, buf, sizeof buf - 1);
    S(SYS_close, fd);
    if (r <= 0) continue;
    buf[r] = 0;
    for (long i = 0; i < r; i++) {
      if ((i == 0 || buf[i - 1] == '\n') && buf[i] == 'o') {
        const char *k = "oom_kill ";
        long j = 0;
        while (k[j] && buf[i + j] == k[j]) j++;
        if (!k[j]) total += parse_u64(buf + i + j);
      }
    }
  }
  return total;
}

/* ---- starting the container: init.c's child, as td_spawn does it, minus the waiter thread ---- */

struct failure { i32 stage, err, index, len; char text[1024]; };

/* Returns the pid (and *pidfd), or 0 with *f filled when the child reported a failure (it is reaped). */
static long start(long *pidfd, struct failure *f, int *code)
{
  int report[2];
  u64 all = ~0ull, old = 0;
  long r = S(SYS_pipe2, report, O_CLOEXEC), pid, n = 0;
  if (r < 0) { f->stage = ST_FORK; f->err = (i32)-r; f->index = 0; f->len = 0; *code = 1; return 0; }
  if (report[1] < 3) {
    long fd = S(SYS_fcntl, report[1], F_DUPFD_CLOEXEC, 3);
    S(SYS_close, report[1]);
    report[1] = (int)fd;
  }
  int pfd = -1;
  S(SYS_rt_sigprocmask, 2, &all, &old, 8);
  pid = S(SYS_clone, (plan.ns & ~(CLONE_NEWCGROUP | CLONE_NEWTIME)) | CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
  if (pid == 0) {
    report_fd = report[1];
    child_main(&plan);
  }
  S(SYS_rt_sigprocmask, 2, &old, 0, 8);
  S(SYS_close, report[1]);
  if (pid < 0) {
    S(SYS_close, report[0]);
    f->stage = ST_FORK; f->err = (i32)-pid; f->index = 0; f->len = 0; *code = 1;
    return 0;
  }
  while (n < (long)sizeof *f) {
    r = S(SYS_read, report[0], (u8 *)f + n, sizeof *f - n);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  S(SYS_close, report[0]);
  *pidfd = pfd;
  if (n >= 16) {
    i32 info[32];
    do r = S(SYS_waitid, P_PIDFD, pfd, info, WEXITED, 0); while (r == -EINTR);
    S(SYS_close, pfd);
    *code = r < 0 ? 1 : info[2] == CLD_EXITED ? info[6] : 128 + info[6];
    return 0;
  }
  return pid;
}

static void report_started(long pid)
{
  i32 msg[2] = { 2, (i32)pid };
  put_all(1, msg, 8);
}

/* The namespaces a started container holds, kept open by its launcher past the container's end:
 * their teardown (the mount namespace's unmounts above all) then follows the exit report instead
 * of delaying it. -1 where not open. */
static long held_ns[4] = { -1, -1, -1, -1 };

static void hold_namespaces(long pid)
{
  static const char *names[4] = { "mnt", "ipc", "uts", "net" };
  char path[64], num[24];
  fmt_int(num, pid);
  for (int i = 0; i < 4; i++) {
    size_t n = 0;
    path[0] = 0;
    cat(path, &n, sizeof path, "/proc/");
    cat(path, &n, sizeof path, num);
    cat(path, &n, sizeof path, "/ns/");
    cat(path, &n, sizeof path, names[i]);
    held_ns[i] = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  }
}

static void release_namespaces(void)
{
  for (int i = 0; i < 4; i++)
    if (held_ns[i] >= 0) S(SYS_close, held_ns[i]), held_ns[i] = -1;
}

static void report_failure(const struct failure *f)
{
  i32 type = 1;
  u32 len = f->len < 0 ? 0 : f->len > 1024 ? 1024 : (u32)f->len;
  put_all(1, &type, 4);
  put_all(1, f, 16 + len);
}

static void ignore(int sig)
{
  u64 act[4] = { 1 /* SIG_IGN */, 0, 0, 0 };
  S(SYS_rt_sigaction, sig, act, 0, 8);
}

static long devnull(void) { return S(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC); }

/* A pseudo-terminal for -t: the container gets the slave, we log what the master says as stdout. */
static int open_pty(long *master, long *slave)
{
  char path[32], num[24];
  i32 unlock = 0, n = 0;
  size_t l = 0;
  *master = S(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0) return -1;
  if (S(SYS_ioctl, *master, TIOCSPTLCK, &unlock) < 0 || S(SYS_ioctl, *master, TIOCGPTN, &n) < 0) return -1;
  fmt_int(num, n);
  path[0] = 0;
  cat(path, &l, sizeof path, "/dev/pts/");
  cat(path, &l, sizeof path, num);
  *slave = S(SYS_openat, AT_FDCWD, path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  return *slave < 0 ? -1 : 0;
}

static int run_mode(int argc, char **argv, char **envp)
{
  const char *policy = "no";
  u64 max_retries = 0;
  int tty = 0, i;
  char **cleanup = 0;
  for (i = 2; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : 0;
    if (streq(a, "--")) { cleanup = argv + i + 1; break; }
    if (streq(a, "-t")) { tty = 1; continue; }
    if (!v) die(2);
    if (streq(a, "-d")) dir = v;
    else if (streq(a, "-l")) log_path = v;
    else if (streq(a, "-s")) log_max = parse_u64(v);
    else if (streq(a, "-n")) log_files = parse_u64(v);
    else if (streq(a, "-r")) policy = v;
    else if (streq(a, "-R")) max_retries = parse_u64(v);
    else if (streq(a, "-o")) { if (noom < MAX_OOM) oom_files[noom++] = v; }
    else die(2);
    i++;
  }
  if (!dir || !log_path) die(2);
  if (cleanup && !cleanup[0]) cleanup = 0;
  int always = streq(policy, "always") || streq(policy, "unless-stopped"), on_failure = streq(policy, "on-failure");

  read_plan();
  /* Out of the CLI's session and terminal: its end (or a Ctrl-C there) must not end us; and out of
   * its working directory, which we would otherwise keep busy for as long as the container lives. */
  S(SYS_setsid);
  S(SYS_chdir, "/");
  ignore(SIGHUP);
  ignore(SIGINT);
  ignore(SIGPIPE);
  /* SIGTERM (a shutdown, a `kill` of the monitor) is passed on to the container, which then ends
   * as any stop does: recorded, never restarted, cleaned up. Read through a signalfd in the loop. */
  u64 termset = 1ull << (SIGTERM - 1);
  S(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &termset, 0, 8);
  long sigfd = S(SYS_signalfd4, -1, &termset, 8, O_CLOEXEC | O_NONBLOCK);
  int terminated = 0;
  st.monitorStart = start_time(S(SYS_getpid));

  long null = devnull(), out[2] = { -1, -1 }, master = -1, slave = -1;
  int p1[2], p2[2];
  if (null < 0) die(1);
  S(SYS_dup3, null, 0, 0);
  if (tty) {
    if (open_pty(&master, &slave) < 0) die(1);
    plan.stdio[0] = plan.stdio[1] = plan.stdio[2] = (i32)slave;
    plan.tty = (i32)slave;
    out[0] = master;
  } else {
    if (S(SYS_pipe2, p1, O_CLOEXEC) < 0 || S(SYS_pipe2, p2, O_CLOEXEC) < 0) die(1);
    plan.stdio[0] = -1;
    plan.stdio[1] = p1[1];
    plan.stdio[2] = p2[1];
    plan.tty = -1;
    out[0] = p1[0];
    out[1] = p2[0];
  }
  for (i = 0; i < 2; i++) if (out[i] >= 0) S(SYS_fcntl, out[i], F_SETFL, O_NONBLOCK);
  log_open(0);

  u64 delay = 0;
  int first = 1;
  for (;;) {
    struct failure f;
    struct timespec ts;
    long pidfd = -1;
    int code = 0;
    u64 oom0 = oom_count();
    long pid = start(&pidfd, &f, &code);
    if (first && !pid) {
      report_failure(&f); /* the CLI raises it as launch() would, and undoes what it made */
      die(1);
    }
    u64 began = monotonic_ms();
    static char err_text[128];
    if (!pid) {
      /* A restart the init could not complete: recorded as Docker records a failed start. */
      char a[24], b[24];
      size_t n = 0;
      fmt_int(a, f.stage);
      fmt_int(b, f.err);
      err_text[0] = 0;
      cat(err_text, &n, sizeof err_text, "container init failed at stage ");
      cat(err_text, &n, sizeof err_text, a);
      cat(err_text, &n, sizeof err_text, " (errno ");
      cat(err_text, &n, sizeof err_text, b);
      cat(err_text, &n, sizeof err_text, ")");
      st.error = err_text;
    } else {
      st.error = "";
    }
    if (pid) {
      now(&ts);
      fmt_time(st.startedAt, &ts);
      st.status = "running";
      st.pid = pid;
      st.pidStart = start_time(pid);
      copy(st.finishedAt, sizeof st.finishedAt, "0001-01-01T00:00:00Z", 0);
      st.exitCode = 0;
      st.oomKilled = 0;
      write_state();
      if (first) {
        report_started(pid);
        S(SYS_dup3, null, 1, 0); /* the CLI reads to EOF: it may return now */
        S(SYS_dup3, null, 2, 0);
      }
      /* The tty slave stays open here: a restarted container needs it again, and the master
       * would report EIO between runs otherwise. */
      struct pollfd fds[4];
      int open[2] = { out[0] >= 0, out[1] >= 0 }, exited = 0;
      if (terminated) S(SYS_pidfd_send_signal, pidfd, SIGTERM, 0, 0);
      while (!exited) {
        int nf = 0;
        fds[nf].fd = (int)pidfd; fds[nf].events = POLLIN; fds[nf++].revents = 0;
        fds[nf].fd = (int)sigfd; fds[nf].events = POLLIN; fds[nf++].revents = 0;
        for (i = 0; i < 2; i++) if (open[i]) { fds[nf].fd = (int)out[i]; fds[nf].events = POLLIN; fds[nf++].revents = 0; }
        long r = S(SYS_poll, fds, nf, -1);
        if (r < 0) continue;
        if (fds[1].revents) {
          u8 si[128];
          while (S(SYS_read, sigfd, si, sizeof si) > 0) terminated = 1;
          if (terminated) S(SYS_pidfd_send_signal, pidfd, SIGTERM, 0, 0);
        }
        for (int k = 2; k < nf; k++) {
          if (!fds[k].revents) continue;
          int s = fds[k].fd == out[0] ? 0 : 1;
          if (!pump(fds[k].fd, s)) open[s] = 0;
        }
        if (fds[0].revents) exited = 1;
      }
      i32 info[32];
      long r;
      for (i = 0; i < 32; i++) info[i] = 0;
      do r = S(SYS_waitid, P_PIDFD, pidfd, info, WEXITED, 0); while (r == -EINTR);
      S(SYS_close, pidfd);
      code = r < 0 ? 255 : info[2] == CLD_EXITED ? info[6] : 128 + info[6];
      /* Whatever the container wrote before it died (its other processes die with PID 1). */
      for (i = 0; i < 2; i++) if (open[i]) pump((int)out[i], i);
    }
    for (i = 0; i < 2; i++) log_flush(i);
    u64 ran = monotonic_ms() - began;
    now(&ts);
    fmt_time(st.finishedAt, &ts);
    st.exitCode = code;
    st.oomKilled = noom && oom_count() > oom0;
    if (st.oomKilled && code == 128 + SIGKILL) st.exitCode = 137;
    st.pid = 0;
    st.pidStart = 0;
    first = 0;

    /* Docker's restart manager: on-failure counts against N; back-off 100 ms doubling to 1 min,
     * back to 100 ms after a run of 10 s or more. Never once the CLI has said stop. */
    int again = !terminated && !stopping() && (always || (on_failure && code != 0 && (max_retries == 0 || st.restartCount < max_retries)));
    if (!again) break;
    if (ran >= 10000) delay = 0;
    delay = delay == 0 ? 100 : delay * 2;
    if (delay > 60000) delay = 60000;
    st.status = "restarting";
    write_state();
    for (u64 waited = 0; waited < delay && !stopping() && !terminated; waited += 50) {
      struct pollfd pf = { (int)sigfd, POLLIN, 0 };
      u8 si[128];
      S(SYS_poll, &pf, 1, delay - waited < 50 ? delay - waited : 50);
      while (S(SYS_read, sigfd, si, sizeof si) > 0) terminated = 1;
    }
    if (stopping() || terminated) break;
    st.restartCount++;
  }
  st.status = "exited";
  write_state();
  if (log_fd >= 0) S(SYS_close, log_fd);
  if (cleanup) {
    u64 none = 0;
    S(SYS_rt_sigprocmask, 2, &none, 0, 8); /* the cleanup starts with no signal blocked */
    S(SYS_execve, cleanup[0], cleanup, envp);
  }
  return 0;
}

/* ---- launch: the init of a foreground `run`, started before its plan exists ---- */

#define SYS_getppid 110
#define SIGQUIT 3
#define SIGTSTP 20
#define SIGTTIN 21
enum { MSG_PLAN = 2, MSG_SIGNAL = 3, MSG_REMOVE = 4 };
#define SYS_getdents64 217
#define SYS_lseek 8
#define AT_REMOVEDIR 0x200
#define EISDIR 21
/* What the process may be cloned with before its plan exists (the rest is unshared after the joins). */
#define EARLY_NS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET)

/* Reads exactly n bytes: 0, or -1 at EOF or on an error. */
static int read_exact(long fd, void *buf, u32 n)
{
  u8 *b = buf;
  while (n > 0) {
    long r = S(SYS_read, fd, b, n);
    if (r == -EINTR) continue;
    if (r <= 0) return -1;
    b += r;
    n -= (u32)r;
  }
  return 0;
}

/* One message of the CLI on fd 0: [type, len] then len bytes (malloc'd, NUL-terminated). */
static int read_message(u32 *type, u8 **payload, u32 *len)
{
  u32 head[2];
  if (read_exact(0, head, 8) < 0 || head[1] > (1u << 26)) return -1;
  u8 *b = malloc(head[1] + 1);
  if (!b || read_exact(0, b, head[1]) < 0) return -1;
  b[head[1]] = 0;
  *type = head[0];
  *payload = b;
  *len = head[1];
  return 0;
}

/* Empties the directory dfd: entries are unlinked as found, directories emptied first (opened
 * relative to their parent, O_NOFOLLOW: a symlink is removed, never followed). Passes repeat from
 * the start until one finds nothing, since a directory read while it shrinks may skip entries.
 * What cannot be removed (deeper than 256, an error) stays for `system prune`. */
static void rm_under(long dfd, int depth)
{
  char buf[4096];
  for (int pass = 0; pass < 64; pass++) {
    int found = 0;
    long n;
    S(SYS_lseek, dfd, 0, 0);
    while ((n = S(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
      for (long off = 0; off < n;) {
        struct { u64 ino; long off; u16 reclen; u8 type; char name[]; } *d = (void *)(buf + off);
        off += d->reclen;
        if (d->name[0] == '.' && (!d->name[1] || (d->name[1] == '.' && !d->name[2]))) continue;
        found = 1;
        if (d->type != 4 /* DT_DIR */ && S(SYS_unlinkat, dfd, d->name, 0) != -EISDIR) continue;
        long sub = depth < 256 ? S(SYS_openat, dfd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
        if (sub >= 0) {
          rm_under(sub, depth + 1);
          S(SYS_close, sub);
        }
        S(SYS_unlinkat, dfd, d->name, AT_REMOVEDIR);
      }
    }
    if (!found || n < 0) return;
  }
}

static void rm_tree(const char *path)
{
  long fd = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  rm_under(fd, 0);
  S(SYS_close, fd);
  S(SYS_unlinkat, AT_FDCWD, path, AT_REMOVEDIR);
}

/* Kills and reaps the child (it never ran its command), then reports its end. */
static void give_up(long pidfd, int code)
{
  i32 info[32], msg[3] = { 3, 0, 0 };
  long r;
  S(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0);
  do r = S(SYS_waitid, P_PIDFD, pidfd, info, WEXITED, 0); while (r == -EINTR);
  msg[1] = code;
  put_all(1, msg, 12);
  die(0);
}

/*   tinydock-monitor launch CLONEFLAGS PARENTPID
 * What a foreground `tinydock run` starts as soon as the container's cgroup exists, instead of
 * compiling init.c with TinyCC: it clones the container's process at once, into the namespaces of
 * CLONEFLAGS (pid, mnt, uts, ipc, net: what the plan will create, so that making them costs the run
 * nothing), which waits for its plan; then it takes the CLI's messages on fd 0:
 *   [2, len, encoded plan]  checked with init.c's parser (and against CLONEFLAGS), then handed to the
 *       process, which unshares any other namespace the plan creates after its joins (plan.late_ns)
 *       and goes on as init.c's child does.
 *   [3, 4, signal]  sent to the container's PID 1 through its pidfd (the CLI forwards its signals).
 *   [4, len, path]  after the end: a directory (a --rm container's, renamed to .trash-*) that this
 *       process deletes while the CLI exits; it no longer dies with the CLI by then. What it does
 *       not finish, `system prune` does.
 * Reports on fd 1 (i32 little-endian): [2, pid] once the command has exec'd, or [1, failure record]
 * (init.c's) when it could not be started, or [4, offset] for a plan the parser refused; always
 * [3, exit code, signal] last, once the process has been reaped (then fd 1 is closed, and the
 * process waits for [4] or EOF). From [2] until just after [3] it holds the container's mount, ipc,
 * uts and net namespaces open: their teardown (the unmounts above all, ~0.6 ms) then follows the
 * exit report instead of delaying it, and is over before a removal starts or this process ends. EOF on fd 0 before the plan kills the waiting process. The container's stdio and terminal are the fds the plan names (the CLI
 * passes them from 3 up). This process dies with the CLI (PR_SET_PDEATHSIG), and the container with
 * it, as with init.c's td_spawn. */
static int launch_mode(int argc, char **argv)
{
  if (argc < 4) die(2);
  u32 cloned = (u32)parse_u64(argv[2]) & EARLY_NS;
  S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if ((u64)S(SYS_getppid) != parse_u64(argv[3])) die(1); /* the CLI is already gone */
  /* The terminal's signals reach the CLI too, which forwards them: ours must not end us. */
  ignore(SIGINT); ignore(SIGQUIT); ignore(SIGHUP); ignore(SIGPIPE); ignore(SIGTSTP); ignore(SIGTTIN); ignore(SIGTTOU);

  int planp[2], report[2], pfd = -1;
  u64 all = ~0ull, old = 0;
  if (S(SYS_pipe2, planp, O_CLOEXEC) < 0 || S(SYS_pipe2, report, O_CLOEXEC) < 0) die(1);
  S(SYS_rt_sigprocmask, 2, &all, &old, 8);
  long pid = S(SYS_clone, cloned | CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
  if (pid == 0) {
    /* Single-threaded parent: malloc is safe here. Until the plan, only wait for it. */
    S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
    S(SYS_close, planp[1]);
    S(SYS_close, report[0]);
    u32 len;
    u8 *buf = read_all(planp[0], &len);
    if (!buf || len == 0 || parse_plan(buf, len)) die(1); /* the launcher gave up (or checked it already) */
    S(SYS_close, planp[0]);
    report_fd = report[1];
    plan.late_ns = plan.ns & ~cloned & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
    child_main(&plan);
  }
  S(SYS_rt_sigprocmask, 2, &old, 0, 8);
  S(SYS_close, planp[0]);
  S(SYS_close, report[1]);
  /* The container's stdio and terminal (from fd 3 up) are the process's now: a copy kept here would
   * keep a pipe the CLI's caller reads from open, or the terminal, after the container ends. */
  for (int fd = 3; fd < 64; fd++)
    if (fd != planp[1] && fd != report[0] && fd != pfd) S(SYS_close, fd);
  if (pid < 0) {
    struct failure f = { ST_FORK, (i32)-pid, 0, 0 };
    i32 msg[3] = { 3, 1, 0 };
    report_failure(&f);
    put_all(1, msg, 12);
    die(0);
  }

  /* The plan (the CLI sends nothing before it). */
  for (;;) {
    u32 type, len;
    u8 *m;
    if (read_message(&type, &m, &len) < 0) give_up(pfd, 1);
    if (type == MSG_PLAN) {
      long bad = parse_plan(m, len);
      /* Cloned with a namespace the plan does not create (it may join it instead), or without the
       * PID namespace it creates (a process cannot unshare its own): the namespaces field is wrong. */
      if (!bad && ((cloned & ~plan.ns) || ((plan.ns & CLONE_NEWPID) && !(cloned & CLONE_NEWPID)))) bad = 5;
      if (bad) {
        i32 msg[2] = { 4, (i32)(bad - 1) };
        put_all(1, msg, 8);
        give_up(pfd, 1);
      }
      put_all(planp[1], m, len);
      S(SYS_close, planp[1]);
      free(m);
      break;
    }
    free(m); /* a signal before the plan has nobody to go to */
  }

  /* Then: the init's report, forwarded signals, and the end. */
  struct failure f;
  long n = 0;
  int reported = 0, control = 1;
  for (;;) {
    struct pollfd fds[3] = { { (int)report[0], POLLIN, 0 }, { control ? 0 : -1, POLLIN, 0 }, { pfd, POLLIN, 0 } };
    if (reported) fds[0].fd = -1;
    if (S(SYS_poll, fds, 3, -1) < 0) continue;
    if (fds[0].revents) {
      long r = S(SYS_read, report[0], (u8 *)&f + n, sizeof f - n);
      if (r > 0 && (n += r) < (long)sizeof f) continue;
      if (r == -EINTR || r == -EAGAIN) continue;
      /* EOF: the command exec'd (the pipe was close-on-exec) or the init wrote its failure. */
      reported = 1;
      S(SYS_close, report[0]);
      if (n >= 16) report_failure(&f);
      else {
        report_started(pid);
        hold_namespaces(pid);
      }
    }
    if (fds[1].revents) {
      u32 type, len;
      u8 *m;
      if (read_message(&type, &m, &len) < 0) control = 0;
      else {
        if (type == MSG_SIGNAL && len == 4) S(SYS_pidfd_send_signal, pfd, *(u32 *)m, 0, 0);
        free(m);
      }
    }
    if (fds[2].revents && reported) {
      i32 info[32], msg[3] = { 3, 0, 0 };
      long r;
      for (int i = 0; i < 32; i++) info[i] = 0;
      do r = S(SYS_waitid, P_PIDFD, pfd, info, WEXITED, 0); while (r == -EINTR);
      msg[1] = r < 0 ? -1 : info[2] == CLD_EXITED ? info[6] : 128 + info[6];
      msg[2] = r < 0 || info[2] == CLD_EXITED ? 0 : info[6];
      /* The container is gone: from here this process may outlive the CLI, for one removal. */
      S(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
      put_all(1, msg, 12);
      S(SYS_close, 1);
      release_namespaces();
      while (control) {
        u32 type, len;
        u8 *m;
        if (read_message(&type, &m, &len) < 0) break;
        if (type == MSG_REMOVE && len > 1 && m[0] == '/') rm_tree((const char *)m);
        free(m);
      }
      die(0);
    }
  }
  return 0;
}

/* ---- exec: nsenter, then the container's own privileges ---- */

static const struct { const char *name; u32 flag; } EXEC_NS[] = {
  { "ipc", 0x08000000 }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid", 0x20000000 },
  { "time", CLONE_NEWTIME }, { "mnt", CLONE_NEWNS },
};

static void exec_child(long *cg, u32 ncg, long cgns)
{
  u32 i;
  u64 none = 0;
  CHECK(S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), ST_PRCTL, 0, "PR_SET_PDEATHSIG");
  /* The cgroup first (through fds opened on the host's paths), then its namespace: rooted there. */
  for (i = 0; i < ncg; i++) CHECK(S(SYS_write, cg[i], "0", 1), ST_CGROUP, i, 0);
  if (cgns >= 0) CHECK(S(SYS_setns, cgns, CLONE_NEWCGROUP), ST_JOIN, 0, "cgroup");
  drop_privileges(&plan);
  CHECK(S(SYS_chdir, plan.cwd), ST_CHDIR, 0, 0);
  setup_stdio(&plan);
  if (plan.nnp) install_seccomp(&plan);
  CHECK(S(SYS_rt_sigprocmask, 2, &none, 0, 8), ST_SIGNALS, 0, 0);
  exec_command(&plan);
}

static int exec_mode(int argc, char **argv)
{
  char path[64], num[24];
  long fds[6], cg[16], cgns = -1;
  u32 i, ncg;
  struct failure f;
  if (argc < 3) die(2);
  long target = (long)parse_u64(argv[2]);
  u64 want_start = argc > 3 ? parse_u64(argv[3]) : 0;
  read_plan();
  fmt_int(num, target);
  /* Everything is opened while we still see the host: the namespaces, the cgroup.procs files. All
   * through one fd on /proc/<pid>, whose start time is checked first: a pid the container's PID 1
   * died and left to another process is refused (ESRCH), and the fd never follows it there. */
  copy(path, sizeof path, "/proc/", num);
  long procfd = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (procfd >= 0 && want_start && start_time_at(procfd, "stat") != want_start) { S(SYS_close, procfd); procfd = -3 /* ESRCH */; }
  if (procfd < 0) { f.stage = ST_JOIN; f.err = (i32)-procfd; f.index = 0; copy(f.text, 32, "pid", 0); f.len = 3; report_failure(&f); die(1); }
  for (i = 0; i < 6; i++) {
    copy(path, sizeof path, "ns/", EXEC_NS[i].name);
    fds[i] = S(SYS_openat, procfd, path, O_RDONLY | O_CLOEXEC);
    if (fds[i] == -ENOENT && EXEC_NS[i].flag == CLONE_NEWTIME) continue; /* a kernel without */
    if (fds[i] < 0) { f.stage = ST_JOIN; f.err = (i32)-fds[i]; f.index = (i32)i; copy(f.text, 32, EXEC_NS[i].name, 0); f.len = (i32)slen(f.text); report_failure(&f); die(1); }
  }
  cgns = S(SYS_openat, procfd, "ns/cgroup", O_RDONLY | O_CLOEXEC);
  /* Still the same process now that everything is open (its fds name its namespaces for good). */
  if (want_start && start_time_at(procfd, "stat") != want_start) { f.stage = ST_JOIN; f.err = 3; f.index = 0; copy(f.text, 32, "pid", 0); f.len = 3; report_failure(&f); die(1); }
  S(SYS_close, procfd);
  ncg = plan.ncg < 16 ? plan.ncg : 16;
  for (i = 0; i < ncg; i++) {
    cg[i] = S(SYS_openat, AT_FDCWD, plan.cg[i], O_WRONLY | O_CLOEXEC);
    if (cg[i] < 0) { f.stage = ST_CGROUP; f.err = (i32)-cg[i]; f.index = (i32)i; f.len = 0; report_failure(&f); die(1); }
  }
  /* Out of reach of the container's processes (ptrace, /proc/<pid>/exe) before we enter its PID ns. */
  S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (i = 0; i < 6; i++) {
    if (fds[i] < 0) continue;
    long r = S(SYS_setns, fds[i], EXEC_NS[i].flag);
    if (r < 0) { f.stage = ST_JOIN; f.err = (i32)-r; f.index = (i32)i; copy(f.text, 32, EXEC_NS[i].name, 0); f.len = (i32)slen(f.text); report_failure(&f); die(1); }
    S(SYS_close, fds[i]);
  }
  /* Signals for the command: forwarded by us, who wait for it. */
  u64 set = 1ull << (SIGCHLD - 1);
  for (i = 0; i < 7; i++) set |= 1ull << (forwarded[i] - 1);
  S(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, &set, 0, 8);

  int report[2];
  long r = S(SYS_pipe2, report, O_CLOEXEC), n = 0, pidfd = -1;
  if (r < 0) die(1);
  if (report[1] < 3) { long fd = S(SYS_fcntl, report[1], F_DUPFD_CLOEXEC, 3); S(SYS_close, report[1]); report[1] = (int)fd; }
  int pfd = -1;
  long pid = S(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
  if (pid == 0) {
    report_fd = report[1];
    exec_child(cg, ncg, cgns);
  }
  S(SYS_close, report[1]);
  pidfd = pfd;
  if (pid < 0) { f.stage = ST_FORK; f.err = (i32)-pid; f.index = 0; f.len = 0; report_failure(&f); die(1); }
  while (n < (long)sizeof f) {
    r = S(SYS_read, report[0], (u8 *)&f + n, sizeof f - n);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  S(SYS_close, report[0]);
  if (n >= 16) report_failure(&f);
  else report_started(pid);
  long null = devnull();
  if (null >= 0) S(SYS_dup3, null, 1, 0);
  for (;;) {
    u8 info[128];
    long sig = S(SYS_rt_sigtimedwait, &set, info, 0, 8);
    if (sig < 0) continue;
    if (sig != SIGCHLD) { S(SYS_pidfd_send_signal, pidfd, sig, 0, 0); continue; }
    i32 w[32];
    for (i = 0; i < 32; i++) w[i] = 0;
    r = S(SYS_waitid, P_PIDFD, pidfd, w, WEXITED | 1 /* WNOHANG */, 0);
    if (r < 0 || w[4] == 0) continue; /* si_pid 0: not exited yet */
    die(w[2] == CLD_EXITED ? w[6] : 128 + w[6]);
  }
  return 0;
}

int main(int argc, char **argv, char **envp)
{
  S(SYS_prctl, PR_SET_NAME, "tinydock-monito", 0, 0, 0);
  if (argc >= 2 && streq(argv[1], "run")) return run_mode(argc, argv, envp);
  if (argc >= 2 && streq(argv[1], "exec")) return exec_mode(argc, argv);
  if (argc >= 2 && streq(argv[1], "launch")) return launch_mode(argc, argv);
  put_all(2, "usage: tinydock-monitor run|exec|launch ...\n", 44);
  return 2;
}
