/* --link's containers (-K DIR -k MESSAGE, in pairs, from src/lifecycle/run.ts detachedRequest).
 * Docker's restart manager starts the container again through containerStart, whose
 * setupLinkedContainers refuses a link to a container that is not running ("Cannot link to a non
 * running container: /b AS /a/b"): the restart fails, the container stays exited with the exit it
 * had, its RestartCount counted and State.Error saying why, and its policy restarts it no more. A
 * linked container runs when its run.json says running or restarting (paused is running there
 * too) and the monitor that wrote it is still alive, as src/lifecycle/state.ts liveState reads it. */

#define LINK_MAX 16
static struct {
  const char *dir[LINK_MAX], *msg[LINK_MAX];
  int nd, nm;
} links;

/* The value of "key" in a one-level JSON object as text: a string's contents (no escapes are
 * expected in the fields read here) or a number's digits; "" when absent. */
static void json_field(const char *buf, const char *key, char *out, size_t cap)
{
  char pat[40];
  size_t n = 0, k = 0;
  pat[0] = 0;
  cat(pat, &n, sizeof pat, "\"");
  cat(pat, &n, sizeof pat, key);
  cat(pat, &n, sizeof pat, "\":");
  out[0] = 0;
  for (const char *p = buf; *p; p++) {
    size_t i = 0;
    while (pat[i] && p[i] == pat[i]) i++;
    if (pat[i]) continue;
    p += i;
    if (*p == '"') p++;
    while (*p && *p != '"' && *p != ',' && *p != '}' && k + 1 < cap) out[k++] = *p++;
    out[k] = 0;
    return;
  }
}

static int link_running(const char *d)
{
  char p[PATHMAX], status[32], pid[24], start[24];
  u32 len;
  copy(p, PATHMAX, d, "/run.json");
  long fd = S(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0; /* never started, or removed */
  u8 *buf = read_all(fd, &len);
  S(SYS_close, fd);
  if (!buf) return 1; /* unreadable now: not a reason to refuse */
  if (len == 0) { free(buf); return 0; }
  buf[len] = 0; /* read_all returns with room past len */
  json_field((const char *)buf, "status", status, sizeof status);
  json_field((const char *)buf, "monitorPid", pid, sizeof pid);
  json_field((const char *)buf, "monitorStartTime", start, sizeof start);
  free(buf);
  if (!streq(status, "running") && !streq(status, "restarting")) return 0;
  u64 mpid = parse_u64(pid);
  return mpid > 0 && start_time((long)mpid) == parse_u64(start);
}

/* Docker's error for the first linked container that is not running, or 0 when all run. */
static const char *link_down(void)
{
  for (int i = 0; i < links.nd && i < links.nm; i++)
    if (!link_running(links.dir[i])) return links.msg[i];
  return 0;
}
