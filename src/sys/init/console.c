/* -t: the container's terminal lives in the container, as runc makes it with its console socket.
 * Once /dev/pts (a devpts of its own, newinstance) is mounted and the root pivoted, the init opens
 * /dev/ptmx there, sizes the pty, takes the slave as /dev/console and its controlling terminal, and
 * sends the master back through the plan's console socket (SCM_RIGHTS) to whoever copies the
 * terminal: the CLI for a foreground run or exec, the monitor for a detached one. Inside, ttyname()
 * then names /dev/pts/0, and `ps` shows pts/0. */

#define SYS_sendmsg 46
#define SYS_fchown 93
#define O_NOCTTY 0400
#define TIOCSWINSZ 0x5414
#define TIOCSPTLCK 0x40045431
#define TIOCGPTN 0x80045430
#define TIOCGPTPEER 0x5441
#define SOL_SOCKET 1
#define SCM_RIGHTS 1
#define MSG_NOSIGNAL 0x4000

struct iovec { void *base; u64 len; };
struct msghdr { void *name; u32 namelen; struct iovec *iov; u64 iovlen; void *control; u64 controllen; i32 flags; };

/* One byte with fd attached, on a connected unix socket: 0 or -errno. */
static long send_fd(long sock, long fd)
{
  struct { u64 len; i32 level, type, fd, pad; } cm = { 20 /* CMSG_LEN(4) */, SOL_SOCKET, SCM_RIGHTS, (i32)fd, 0 };
  char byte = 0;
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { 0, 0, &iov, 1, &cm, 24 /* CMSG_SPACE(4) */, 0 };
  long r;
  do r = S(SYS_sendmsg, sock, &m, MSG_NOSIGNAL);
  while (r == -EINTR);
  return r < 0 ? r : 0;
}

/* The pty, in this process's mount namespace (the container's, after pivot_root or setns): the
 * master is sent back through p->tty, the slave becomes p->tty and the process's stdio. */
static void open_console(struct plan *p, int mount_console)
{
  i32 unlock = 0, n = 0;
  long master = S(SYS_openat, AT_FDCWD, "/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(ST_TTY, master, 0, "open /dev/ptmx");
  CHECK(S(SYS_ioctl, master, TIOCSPTLCK, &unlock), ST_TTY, 0, "unlock the pty");
  CHECK(S(SYS_ioctl, master, TIOCGPTN, &n), ST_TTY, 0, "TIOCGPTN");
  if (p->rows || p->cols) {
    u16 ws[4] = { (u16)p->rows, (u16)p->cols, 0, 0 };
    CHECK(S(SYS_ioctl, master, TIOCSWINSZ, ws), ST_TTY, 0, "set the window size");
  }
  long slave = S(SYS_ioctl, master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) fail(ST_TTY, slave, 0, "open the pty's slave");
  /* The command's user owns its terminal, the group (tty) kept: runc's fixStdioPermissions. */
  CHECK(S(SYS_fchown, slave, p->uid, -1), ST_TTY, 0, "chown the pty's slave");
  if (mount_console) {
    /* The slave also as /dev/console, as runc mounts it (in the container's /dev, a tmpfs of its own). */
    char path[32];
    size_t l = 0;
    path[0] = 0;
    cat(path, &l, sizeof path, "/dev/pts/");
    cat_int(path, &l, sizeof path, n);
    long fd = S(SYS_openat, AT_FDCWD, "/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail(ST_TTY, fd, 0, "create /dev/console");
    S(SYS_close, fd);
    CHECK(S(SYS_mount, path, "/dev/console", 0, MS_BIND, 0), ST_TTY, 0, "bind /dev/console");
  }
  CHECK(send_fd(p->tty, master), ST_TTY, 0, "send the pty's master");
  S(SYS_close, master);
  S(SYS_close, p->tty);
  p->tty = (i32)slave;
  p->stdio[0] = p->stdio[1] = p->stdio[2] = (i32)slave;
}
