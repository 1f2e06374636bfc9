/* The engine's event stream (`tinydock events`): one JSON line per event appended to a file under
 * the root, in Docker's shape. The monitor writes what only it sees (start after a restart, die,
 * oom, health_status); the CLI writes the rest (src/lifecycle/events.ts, which reads them back).
 * One write() per line on an O_APPEND fd: lines of concurrent writers never interleave. Past
 * EVENTS_MAX bytes the file becomes <file>.1 (the one older file kept). */

#define EVENTS_MAX (4u << 20)
static const char *events_path, *events_name = "", *events_image = "";
/* The container's labels as JSON members, each with its comma ("\"k\":\"v\","), rendered by the
 * CLI: Docker puts them in the attributes of every container event (`events --filter label=`). */
static const char *events_labels = "";

/* The container's id: the last component of its directory. */
static const char *events_id(void)
{
  const char *id = dir;
  for (const char *p = dir; *p; p++) if (*p == '/' && p[1]) id = p + 1;
  return id;
}

static void events_rotate(long fd)
{
  long stat[18];
  char old[PATHMAX];
  if (S(5 /* SYS_fstat */, fd, stat) != 0 || (u64)stat[6] < EVENTS_MAX) return;
  copy(old, PATHMAX, events_path, ".1");
  S(SYS_rename, events_path, old);
}

static void events_jstr(char *buf, size_t *n, size_t cap, const char *key, const char *v, int comma)
{
  char esc[256 * 6 + 1];
  size_t l = slen(v);
  if (l > 256) l = 256;
  esc[json_escape(esc, (const u8 *)v, l)] = 0;
  cat(buf, n, cap, "\"");
  cat(buf, n, cap, key);
  cat(buf, n, cap, "\":\"");
  cat(buf, n, cap, esc);
  cat(buf, n, cap, comma ? "\"," : "\"");
}

/* The name now: DIR/name once `rename` wrote one, else the one we were started with. */
static const char *events_current_name(char *buf, size_t cap)
{
  char path[PATHMAX];
  copy(path, PATHMAX, dir, "/name");
  long fd = S(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return events_name;
  long r = S(SYS_read, fd, buf, cap - 1);
  S(SYS_close, fd);
  if (r <= 0) return events_name;
  buf[r] = 0;
  return buf;
}

/* action: "start", "die", "oom", "health_status: healthy"…; exit_code < 0: no exitCode attribute. */
static void event_append(const char *action, long exit_code)
{
  char buf[8192], num[24], nano[12], name[256];
  size_t n = 0;
  struct timespec ts;
  if (!events_path) return;
  now(&ts);
  buf[0] = 0;
  cat(buf, &n, sizeof buf, "{");
  events_jstr(buf, &n, sizeof buf, "status", action, 1);
  events_jstr(buf, &n, sizeof buf, "id", events_id(), 1);
  events_jstr(buf, &n, sizeof buf, "from", events_image, 1);
  cat(buf, &n, sizeof buf, "\"Type\":\"container\",");
  events_jstr(buf, &n, sizeof buf, "Action", action, 1);
  cat(buf, &n, sizeof buf, "\"Actor\":{");
  events_jstr(buf, &n, sizeof buf, "ID", events_id(), 1);
  cat(buf, &n, sizeof buf, "\"Attributes\":{");
  cat(buf, &n, sizeof buf, events_labels);
  if (exit_code >= 0) {
    fmt_int(num, exit_code);
    events_jstr(buf, &n, sizeof buf, "exitCode", num, 1);
  }
  events_jstr(buf, &n, sizeof buf, "image", events_image, 1);
  events_jstr(buf, &n, sizeof buf, "name", events_current_name(name, sizeof name), 0);
  cat(buf, &n, sizeof buf, "}},\"scope\":\"local\",\"time\":");
  fmt_int(num, ts.sec);
  cat(buf, &n, sizeof buf, num);
  cat(buf, &n, sizeof buf, ",\"timeNano\":");
  cat(buf, &n, sizeof buf, num);
  digits(nano, (u64)ts.nsec, 9);
  nano[9] = 0;
  cat(buf, &n, sizeof buf, nano);
  cat(buf, &n, sizeof buf, "}\n");
  long fd = S(SYS_openat, AT_FDCWD, events_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return;
  events_rotate(fd);
  S(SYS_write, fd, buf, n);
  S(SYS_close, fd);
}
