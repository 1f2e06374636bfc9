/* The json-file log, rotated at max bytes keeping max files (Docker's --log-opt). */

#define LINE_MAX 16384 /* Docker's partial-message size */
static const char *log_path;
static long log_fd = -1;
static u64 log_size, log_max = 10u << 20, log_files = 3;
static char log_line[LINE_MAX * 6 + 128];
/* Entries of one chunk read are written together and stamped with its time (they arrived together):
 * one write and one clock read per chunk instead of per line (20000 short lines: 161 → ~110 ms of CPU). */
static char log_out[1 << 16];
static size_t log_nout;
static struct timespec log_now;

static void log_write_out(void)
{
  if (log_nout && log_fd >= 0) put_all((int)log_fd, log_out, (long)log_nout);
  log_nout = 0;
}

static void log_open(int truncate)
{
  if (!log_path[0]) return; /* --log-driver none: no file, the output only drained */
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
  char time[32];
  size_t o = 0;
  if (log_fd < 0) return;
  fmt_time(time, &log_now);
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
  if (log_max && log_size > 0 && log_size + o > log_max) {
    log_write_out();
    log_rotate();
  }
  if (log_fd < 0) return;
  if (log_nout + o > sizeof log_out) log_write_out();
  if (o > sizeof log_out) put_all((int)log_fd, log_line, (long)o);
  else {
    for (size_t i = 0; i < o; i++) log_out[log_nout + i] = log_line[i];
    log_nout += o;
  }
  log_size += o;
}

/* Per stream: what arrived since the last newline. A line is logged when complete, or as a 16 KiB partial. */
static u8 pending[2][LINE_MAX];
static u32 npending[2];

static void log_bytes(int stream, const u8 *b, size_t n)
{
  now(&log_now);
  for (size_t i = 0; i < n; i++) {
    pending[stream][npending[stream]++] = b[i];
    if (b[i] == '\n' || npending[stream] == LINE_MAX) {
      log_entry(stream, pending[stream], npending[stream]);
      npending[stream] = 0;
    }
  }
  log_write_out();
}

static void log_flush(int stream)
{
  now(&log_now);
  if (npending[stream]) log_entry(stream, pending[stream], npending[stream]);
  npending[stream] = 0;
  log_write_out();
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
