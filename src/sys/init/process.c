/* The process itself: its stdio and terminal, the command (execvp without malloc) and the --init reaper. */

static const char *env_get(struct plan *p, const char *key)
{
  u32 i;
  size_t k = slen(key), j;
  for (i = 0; i < p->envc; i++) {
    const char *e = p->envp[i];
    for (j = 0; j < k && e[j] == key[j]; j++) ;
    if (j == k && e[k] == '=') return e + k + 1;
  }
  return 0;
}

/* execvp without malloc: argv[0] without a slash is searched in the plan's PATH. */
static void exec_command(struct plan *p)
{
  const char *file = p->argv[0], *s;
  char buf[PATHMAX];
  long r;
  for (s = file; *s && *s != '/'; s++) ;
  if (*s == '/') {
    r = S(SYS_execve, file, p->argv, p->envp);
    fail(ST_EXEC, r, 0, file);
  }
  const char *path = env_get(p, "PATH");
  int eacces = 0;
  if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!*file) fail(ST_EXEC, -ENOENT, 1, file);
  for (;;) {
    const char *end = path;
    size_t n = 0;
    while (*end && *end != ':') end++;
    if (end == path) buf[n++] = '.';
    while (path < end && n < PATHMAX - 2) buf[n++] = *path++;
    buf[n++] = '/';
    buf[n] = 0;
    if (cat(buf, &n, PATHMAX, file) == 0) {
      r = S(SYS_execve, buf, p->argv, p->envp);
      if (r == -EACCES) eacces = 1;
      else if (r != -ENOENT && r != -ENOTDIR) fail(ST_EXEC, r, 1, file);
    }
    if (!*end) break;
    path = end + 1;
  }
  fail(ST_EXEC, eacces ? -EACCES : -ENOENT, 1, file);
}

/* The --init reaper never execs: without this, `ps` in the container would show tinydock's command
 * line, -e secrets included. PR_SET_MM would need CAP_SYS_RESOURCE; overwriting our copy of the
 * argv strings (arg_start..arg_end, fields 48-49 of /proc/self/stat) needs nothing. */
static void hide_command_line(void)
{
  static const char name[] = "tinydock-init";
  char buf[1024];
  unsigned long v[2] = { 0, 0 };
  long fd = S(SYS_openat, AT_FDCWD, "/proc/self/stat", O_RDONLY | O_CLOEXEC), n, i, field = 2;
  S(SYS_prctl, PR_SET_NAME, name, 0, 0, 0);
  if (fd < 0) return;
  n = S(SYS_read, fd, buf, sizeof buf - 1);
  S(SYS_close, fd);
  if (n <= 0) return;
  buf[n] = 0;
  for (i = n - 1; i > 0 && buf[i] != ')'; i--) ; /* the name may hold anything, even ") " */
  for (; i < n && field < 50; i++) {
    if (buf[i] == ' ') { field++; continue; }
    if (field == 48 || field == 49) v[field - 48] = v[field - 48] * 10 + (buf[i] - '0');
  }
  if (!v[0] || v[1] <= v[0] || v[1] - v[0] > (1 << 20)) return;
  char *arg = (char *)v[0];
  for (i = 0; i < (long)(v[1] - v[0]); i++) arg[i] = i < (long)sizeof name - 1 ? name[i] : 0;
  arg[v[1] - v[0] - 1] = 0;
}

static const int forwarded[] = { 1, 2, 3, 10, 12, 15, 28 }; /* HUP INT QUIT USR1 USR2 TERM WINCH */

/* --init: PID 1 stays this code, reaps every zombie and forwards signals to the one child it runs;
 * it exits as that child did (128+N for a signal). Signals are still blocked from td_spawn. */
static void reaper(long child)
{
  u64 set = 1ull << (SIGCHLD - 1);
  int i, status;
  u8 info[128];
  for (i = 0; i < 7; i++) set |= 1ull << (forwarded[i] - 1);
  S(SYS_close_range, 0, ~0u, 0);
  for (;;) {
    long sig = S(SYS_rt_sigtimedwait, &set, info, 0, 8);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      S(SYS_kill, child, sig);
      continue;
    }
    for (;;) {
      long pid = S(SYS_wait4, -1, &status, 1 /* WNOHANG */, 0);
      if (pid <= 0) break;
      if (pid != child) continue;
      int code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f);
      S(SYS_exit_group, code);
    }
  }
}

/* The controlling terminal, fds 0-2, everything else close-on-exec, then no_new_privs. */
static void setup_stdio(struct plan *p)
{
  u32 i;
  /* Always a session of its own: in the caller's session it could open /dev/tty (the caller's
   * terminal, TIOCSTI into its shell) and signal the caller's process group, pty or not. */
  CHECK(S(SYS_setsid), ST_TTY, 0, "setsid");
  if (p->tty >= 0) CHECK(S(SYS_ioctl, p->tty, TIOCSCTTY, 0), ST_TTY, 0, "TIOCSCTTY");
  {
    /* Through fds above 2 first, so that a source that is itself 0, 1 or 2 is never clobbered. */
    long tmp[3];
    for (i = 0; i < 3; i++) {
      long src = p->stdio[i];
      if (src < 0) {
        src = S(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC);
        if (src < 0) fail(ST_STDIO, src, i, "/dev/null");
      }
      tmp[i] = S(SYS_fcntl, src, F_DUPFD_CLOEXEC, 3);
      if (tmp[i] < 0) fail(ST_STDIO, tmp[i], i, 0);
    }
    for (i = 0; i < 3; i++) CHECK(S(SYS_dup3, tmp[i], i, 0), ST_STDIO, i, 0);
  }
  /* Everything else closes at execve; the report pipe stays usable until then. */
  {
    long r = S(SYS_close_range, 3, ~0u, CLOSE_RANGE_CLOEXEC);
    if (r == -ENOSYS || r == -EINVAL)
      for (i = 3; i < 65536; i++) S(SYS_fcntl, i, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
    else if (r < 0) fail(ST_CLOSE_FDS, r, 0, 0);
  }
  if (p->nnp) CHECK(S(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ST_NO_NEW_PRIVS, 0, 0);
}
