/* stdin of a detached container run with -i: a FIFO, DIR/stdin, that we hold open read-write for
 * the container's life, so its reader never sees EOF between `attach`es (Docker keeps an -i
 * container's stdin open too) and a writer never blocks at open. `attach` writes the caller's
 * stdin into it (src/lifecycle/stdin.ts). Without -t the FIFO is the container's stdin; with -t
 * (`run -dit`) the container's stdin is the pty's slave, and we copy the FIFO into the master, so
 * that what `attach` writes is typed at the container's terminal. */

#define SYS_mknodat 259
#define S_IFIFO 0010000
#define POLLOUT 4
static int stdin_wanted;

/* The fd the container gets as stdin: the FIFO, or -1 (/dev/null) without -i. */
static long stdin_fd(void)
{
  char path[PATHMAX];
  if (!stdin_wanted) return -1;
  copy(path, PATHMAX, dir, "/stdin");
  S(SYS_unlinkat, AT_FDCWD, path, 0);
  if (S(SYS_mknodat, AT_FDCWD, path, S_IFIFO | 0600, 0) < 0) return -1;
  long fd = S(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC);
  return fd < 0 ? -1 : fd;
}

/* The FIFO → master copy with -t: one buffer, refilled only once written out, so a terminal whose
 * program does not read (its input queue full) holds the rest back in the FIFO and loses nothing. */
static long tty_in = -1, tty_master = -1;
static u8 tty_buf[4096];
static long tty_len, tty_off;

static void tty_input_open(long master)
{
  tty_in = stdin_fd();
  if (tty_in < 0) return;
  S(SYS_fcntl, tty_in, F_SETFL, O_NONBLOCK);
  tty_master = master;
}

/* Its poll entry: the FIFO while the buffer is empty, else the master until it takes more. */
static void tty_input_fds(struct pollfd *fds, int *nf)
{
  if (tty_in < 0) return;
  fds[*nf].fd = (int)(tty_len ? tty_master : tty_in);
  fds[*nf].events = tty_len ? POLLOUT : POLLIN;
  fds[(*nf)++].revents = 0;
}

/* Moves what it can without blocking (both ends are non-blocking). */
static void tty_input_pump(void)
{
  if (tty_in < 0) return;
  for (;;) {
    if (!tty_len) {
      long n = S(SYS_read, tty_in, tty_buf, sizeof tty_buf);
      if (n <= 0) return;
      tty_len = n;
      tty_off = 0;
    }
    long w = S(SYS_write, tty_master, tty_buf + tty_off, tty_len - tty_off);
    if (w <= 0) return;
    tty_off += w;
    if (tty_off == tty_len) tty_len = 0;
  }
}
