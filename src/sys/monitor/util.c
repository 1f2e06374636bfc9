/* What every mode of the monitor shares: constants beyond init.c's, fd and string helpers, the
 * plan read from fd 0, process start times, Docker's time format and JSON strings, the report on fd 1. */

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

struct pollfd { int fd; short events, revents; };
struct timespec { long sec, nsec; };

static void die(int code) { S(SYS_exit_group, code); for (;;) ; }

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

static u64 start_time(long pid)
{
  char path[64];
  size_t n = 0;
  path[0] = 0;
  cat(path, &n, sizeof path, "/proc/");
  cat_int(path, &n, sizeof path, pid);
  cat(path, &n, sizeof path, "/stat");
  return start_time_at(AT_FDCWD, path);
}


/* Time as Docker writes it: RFC 3339 with nanoseconds, UTC. */
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


/* JSON strings as Go's encoding/json writes them (Docker's logs): invalid UTF-8 → U+FFFD. */
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

static void report_started(long pid)
{
  i32 msg[2] = { EV_STARTED, (i32)pid };
  put_all(1, msg, 8);
}

/* A failure record the child wrote, passed on (the monitor's own failures go through fail()). */
static void report_failure(const struct failure *f)
{
  i32 type = EV_FAILURE;
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

/* Reaps the process of pidfd into info (siginfo_t as i32s, zeroed first): waitid's result. */
static long reap(long pidfd, i32 *info, int options)
{
  long r;
  for (int i = 0; i < 32; i++) info[i] = 0;
  do r = S(SYS_waitid, P_PIDFD, pidfd, info, WEXITED | options, 0); while (r == -EINTR);
  return r;
}

/* Docker's exit code of a reaped process: its status, or 128 + the signal that killed it. */
static int exit_code(const i32 *info) { return info[2] == CLD_EXITED ? info[6] : 128 + info[6]; }

/* The child's report pipe read to EOF (close-on-exec: EOF at its execve) and closed: the bytes of
 * the failure record it wrote, or fewer than 16 when it exec'd. */
static long read_report(int fd, struct failure *f)
{
  long n = 0, r;
  while (n < (long)sizeof *f) {
    r = S(SYS_read, fd, (u8 *)f + n, sizeof *f - n);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    n += r;
  }
  S(SYS_close, fd);
  return n;
}
