/* run.json: the live state, written to a temp file and renamed (the only writer is us); and OOM kills,
 * from the oom_kill counter of memory.oom_control (v1) or memory.events (v2). */

static const char *dir;

/* DIR/<name> replaced whole by `buf`: written to <name>.tmp, then renamed over it, so a reader never
 * sees it half-written. */
static void write_record(const char *name, const char *buf, long n)
{
  char tmp[PATHMAX], dst[PATHMAX];
  size_t tn = 0, dn = 0;
  tmp[0] = dst[0] = 0;
  cat(tmp, &tn, PATHMAX, dir); cat(tmp, &tn, PATHMAX, "/"); cat(tmp, &tn, PATHMAX, name); cat(tmp, &tn, PATHMAX, ".tmp");
  cat(dst, &dn, PATHMAX, dir); cat(dst, &dn, PATHMAX, "/"); cat(dst, &dn, PATHMAX, name);
  long fd = S(SYS_openat, AT_FDCWD, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  put_all((int)fd, buf, n);
  S(SYS_close, fd);
  S(SYS_rename, tmp, dst);
}
/* DIR/state.json, which a detached run's CLI renames into place without fsync so that it need not
 * wait for the disk: made durable here, once the CLI has heard of the start. A crash before then
 * leaves it torn or missing, which the store reads as no container and reconcile as an orphan. */
static void sync_record(void)
{
  char p[PATHMAX];
  copy(p, PATHMAX, dir, "/state.json");
  long fd = S(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) S(SYS_fsync, fd), S(SYS_close, fd);
  fd = S(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) S(SYS_fsync, fd), S(SYS_close, fd);
}

static struct {
  const char *status;
  long pid;
  u64 pidStart, monitorStart;
  char startedAt[32], finishedAt[32];
  long exitCode;
  int oomKilled;
  u64 restartCount;
  /* While "restarting": the back-off's wait (ms) and when it ends. */
  u64 restartDelay;
  char restartAt[32];
  const char *error;
  /* A restart the init could not complete, as it reported it: src/lifecycle/monitor.ts names the
   * operation from the saved plan (as launch() does for a first start). NULL otherwise. */
  const struct failure *failure;
} st = { "created", 0, 0, 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", 0, 0, 0, 0, "", "", 0 };

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
  char buf[2048];
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
  if (streq(st.status, "restarting")) {
    jstr(buf, &n, sizeof buf, "restartAt", st.restartAt);
    jnum(buf, &n, sizeof buf, "restartDelay", (long)st.restartDelay);
  }
  jstr(buf, &n, sizeof buf, "error", st.error);
  if (st.failure) {
    char detail[JSTR_MAX + 1];
    u32 len = st.failure->len < 0 ? 0 : st.failure->len > JSTR_MAX ? JSTR_MAX : (u32)st.failure->len;
    for (u32 i = 0; i < len; i++) detail[i] = st.failure->text[i];
    detail[len] = 0;
    cat(buf, &n, sizeof buf, "\"initFailure\":{");
    jnum(buf, &n, sizeof buf, "stage", st.failure->stage);
    jnum(buf, &n, sizeof buf, "errno", st.failure->err);
    jnum(buf, &n, sizeof buf, "index", st.failure->index);
    jstr(buf, &n, sizeof buf, "detail", detail);
    buf[n - 1] = '}';
    cat(buf, &n, sizeof buf, ",");
  }
  buf[n - 1] = '}';
  cat(buf, &n, sizeof buf, "\n");
  write_record("run.json", buf, (long)n);
}

static int stopping(void)
{
  char p[PATHMAX];
  copy(p, PATHMAX, dir, "/stopping");
  return S(SYS_faccessat, AT_FDCWD, p, 0 /* F_OK */, 0) == 0;
}

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
