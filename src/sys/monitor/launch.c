/* `launch`: the init of a foreground `run`, started before its plan exists (see launch_mode). */

#define SYS_getppid 110
#define SIGQUIT 3
#define SIGTSTP 20
#define SIGTTIN 21
/* The CLI's messages on fd 0: [type, len, payload]; src/sys/protocol.ts writes them. */
enum message { MSG_PLAN = 2, MSG_SIGNAL = 3, MSG_REMOVE = 4 };
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
  i32 info[32], msg[3] = { EV_EXITED, 0, 0 };
  S(SYS_pidfd_send_signal, pidfd, SIGKILL, 0, 0);
  reap(pidfd, info, 0);
  msg[1] = code;
  put_all(1, msg, 12);
  die(0);
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

struct waiting { int plan[2]; u32 cloned; };

/* The cloned process: waits for its plan (single-threaded parent: malloc is safe here), then goes on
 * as init.c's child does, unsharing what it was not cloned with. */
static void await_plan(void *arg)
{
  struct waiting *w = arg;
  u32 len;
  S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  S(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0);
  S(SYS_close, w->plan[1]);
  u8 *buf = read_all(w->plan[0], &len);
  if (!buf || len == 0 || parse_plan(buf, len)) die(1); /* the launcher gave up (or checked it already) */
  S(SYS_close, w->plan[0]);
  plan.late_ns = plan.ns & ~w->cloned & (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET);
  child_main(&plan);
}

/* The plan from the CLI (it sends nothing before it), checked, then handed to the waiting process. */
static void pass_plan(long pfd, u32 cloned, int to)
{
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
        i32 msg[2] = { EV_MALFORMED, (i32)(bad - 1) };
        put_all(1, msg, 8);
        give_up(pfd, 1);
      }
      put_all(to, m, len);
      S(SYS_close, to);
      free(m);
      return;
    }
    free(m); /* a signal before the plan has nobody to go to */
  }
}

/* After the end: the directories to delete (MSG_REMOVE) until EOF. */
static void remove_on_request(void)
{
  for (;;) {
    u32 type, len;
    u8 *m;
    if (read_message(&type, &m, &len) < 0) return;
    if (type == MSG_REMOVE && len > 1 && m[0] == '/') rm_tree((const char *)m);
    free(m);
  }
}

/* The container is reaped: its end reported, then this process may outlive the CLI, for one removal. */
static void report_exit(long pfd, int control)
{
  i32 info[32], msg[3] = { EV_EXITED, 0, 0 };
  long r = reap(pfd, info, 0);
  msg[1] = r < 0 ? -1 : exit_code(info);
  msg[2] = r < 0 || info[2] == CLD_EXITED ? 0 : info[6];
  S(SYS_prctl, PR_SET_PDEATHSIG, 0, 0, 0, 0);
  put_all(1, msg, 12);
  S(SYS_close, 1);
  release_namespaces();
  if (control) remove_on_request();
  die(0);
}

/* With a log (-l PATH): the container's stdout and stderr (fds 4 and 5 from the CLI) are pipes this
 * process reads, writing each chunk to the CLI's fd and to the json-file log (log.c), as a detached
 * container's monitor logs; -1 where not teed. Kept from fd 64 up, past the close loop. */
#define F_DUPFD_CLOEXEC 1030
#define TEE_FD 64
#define POLLOUT 4
static long tee_from[2] = { -1, -1 }, tee_to[2] = { -1, -1 };

/* Before the clone: fds 4 and 5 become the write ends of pipes, the CLI's fds kept above 63. */
static void tee_setup(void)
{
  for (int s = 0; s < 2; s++) {
    long keep = S(SYS_fcntl, 4 + s, F_DUPFD_CLOEXEC, TEE_FD);
    int p[2];
    if (keep < 0) continue; /* not passed: the container gets /dev/null */
    if (S(SYS_pipe2, p, O_CLOEXEC) < 0) { S(SYS_close, keep); continue; }
    tee_from[s] = S(SYS_fcntl, p[0], F_DUPFD_CLOEXEC, TEE_FD);
    S(SYS_close, p[0]);
    S(SYS_fcntl, tee_from[s], F_SETFL, O_NONBLOCK); /* the read end only: the container's stays blocking */
    S(SYS_dup3, p[1], 4 + s, 0);
    S(SYS_close, p[1]);
    tee_to[s] = keep;
  }
}

/* All of buf to the CLI's fd (waiting where it is non-blocking and full): -1 once its reader is gone. */
static int tee_write(long fd, const u8 *b, long n)
{
  while (n > 0) {
    long w = S(SYS_write, fd, b, n);
    if (w == -EINTR) continue;
    if (w == -EAGAIN) {
      struct pollfd p = { (int)fd, POLLOUT, 0 };
      S(SYS_poll, &p, 1, 1000);
      continue;
    }
    if (w < 0) return -1;
    b += w;
    n -= w;
  }
  return 0;
}

/* What there is on stream s, to the CLI's fd and the log; at EOF the stream is closed. */
static void tee_pump(int s)
{
  static u8 buf[LINE_MAX];
  for (int rounds = 0; rounds < 64; rounds++) {
    long r = S(SYS_read, tee_from[s], buf, sizeof buf);
    if (r == -EINTR) continue;
    if (r == -EAGAIN) return;
    if (r <= 0) break;
    if (tee_to[s] >= 0 && tee_write(tee_to[s], buf, r) < 0) S(SYS_close, tee_to[s]), tee_to[s] = -1; /* the reader is gone */
    log_bytes(s, buf, (size_t)r);
    if (r < (long)sizeof buf) return;
  }
  if (tee_from[s] < 0) return;
  S(SYS_close, tee_from[s]);
  tee_from[s] = -1;
  log_flush(s);
}

/* After the container's end: what it wrote, until EOF (its every process is gone with its PID
 * namespace) or 200 ms without output (a process it left behind, without one, keeps the pipe). */
static void tee_drain(void)
{
  while (tee_from[0] >= 0 || tee_from[1] >= 0) {
    struct pollfd fds[2] = { { (int)tee_from[0], POLLIN, 0 }, { (int)tee_from[1], POLLIN, 0 } };
    if (S(SYS_poll, fds, 2, 200) <= 0) break;
    for (int s = 0; s < 2; s++) if (fds[s].revents) tee_pump(s);
  }
  for (int s = 0; s < 2; s++) log_flush(s);
  if (log_fd >= 0) S(SYS_close, log_fd), log_fd = -1;
}

/* The init's report, forwarded signals, and the end. */
static void follow(long pid, long pfd, int report)
{
  struct failure f;
  long n = 0;
  int reported = 0, control = 1;
  for (;;) {
    struct pollfd fds[5] = { { report, POLLIN, 0 }, { control ? 0 : -1, POLLIN, 0 }, { (int)pfd, POLLIN, 0 },
                             { (int)tee_from[0], POLLIN, 0 }, { (int)tee_from[1], POLLIN, 0 } };
    if (reported) fds[0].fd = -1;
    if (S(SYS_poll, fds, 5, -1) < 0) continue;
    for (int s = 0; s < 2; s++) if (fds[3 + s].revents) tee_pump(s);
    if (fds[0].revents) {
      long r = S(SYS_read, report, (u8 *)&f + n, sizeof f - n);
      if (r > 0 && (n += r) < (long)sizeof f) continue;
      if (r == -EINTR || r == -EAGAIN) continue;
      /* EOF: the command exec'd (the pipe was close-on-exec) or the init wrote its failure. */
      reported = 1;
      S(SYS_close, report);
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
      tee_drain();
      report_exit(pfd, control);
    }
  }
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
  long feed = -1;
  const char *pid_ns = 0;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (streq(argv[i], "-p")) pid_ns = argv[i + 1]; /* --pid container:NAME's /proc/<pid>/ns/pid */
    else if (streq(argv[i], "-l")) log_path = argv[i + 1];
    else if (streq(argv[i], "-s")) log_max = parse_u64(argv[i + 1]);
    else if (streq(argv[i], "-n")) log_files = parse_u64(argv[i + 1]);
    else if (streq(argv[i], "-f")) feed = (long)parse_u64(argv[i + 1]);
  }
  struct waiting w;
  w.cloned = (u32)parse_u64(argv[2]) & EARLY_NS;
  if (pid_ns && !(w.cloned & CLONE_NEWPID)) clone_pid_ns = pid_ns;
  S(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if ((u64)S(SYS_getppid) != parse_u64(argv[3])) die(1); /* the CLI is already gone */
  /* The terminal's signals reach the CLI too, which forwards them: ours must not end us. */
  ignore(SIGINT); ignore(SIGQUIT); ignore(SIGHUP); ignore(SIGPIPE); ignore(SIGTSTP); ignore(SIGTTIN); ignore(SIGTTOU);

  int pfd = -1, report = -1;
  if (log_path && feed >= 3) {
    /* -t: the CLI copies the terminal and sends us a copy, logged as stdout. */
    tee_from[0] = S(SYS_fcntl, feed, F_DUPFD_CLOEXEC, TEE_FD);
    S(SYS_close, feed);
    if (tee_from[0] >= 0) S(SYS_fcntl, tee_from[0], F_SETFL, O_NONBLOCK);
  } else if (log_path) tee_setup();
  if (S(SYS_pipe2, w.plan, O_CLOEXEC) < 0) die(1);
  long pid = clone_child(w.cloned, await_plan, &w, &pfd, &report);
  S(SYS_close, w.plan[0]);
  /* The container's stdio and terminal (from fd 3 up) are the process's now: a copy kept here would
   * keep a pipe the CLI's caller reads from open, or the terminal, after the container ends. */
  for (int fd = 3; fd < 64; fd++)
    if (fd != w.plan[1] && fd != report && fd != pfd) S(SYS_close, fd);
  if (pid < 0) {
    struct failure f;
    i32 msg[3] = { EV_EXITED, 1, 0 };
    failure_record(&f, ST_FORK, pid, 0, 0);
    report_failure(&f);
    put_all(1, msg, 12);
    die(0);
  }
  pass_plan(pfd, w.cloned, w.plan[1]);
  if (log_path) log_open(0); /* the container's directory exists once its plan does */
  follow(pid, pfd, report);
  return 0;
}
