/* What a container can do to the terminal of whoever started it (test/adversarial/terminal.test.ts).
 * Built static by the test with musl-gcc and bind-mounted into the container. Prints one line:
 *   tty=A,B,C sti=X,Y,Z devtty=E leader=L
 * A-C: whether fds 0-2 are terminals (1/0); X-Z: ioctl(fd, TIOCSTI) of a space on each, "ok" or the
 * errno; E: open("/dev/tty"), "ok" or the errno; L: getsid(0) == getpid() (1/0). Then exits with
 * the code given as its argument (default 0). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void result(char *out, int r)
{
  if (r < 0) snprintf(out, 16, "%d", errno);
  else snprintf(out, 16, "ok");
}

int main(int argc, char **argv)
{
  char sti[3][16], devtty[16];
  int tty[3];
  for (int fd = 0; fd < 3; fd++) {
    char c = ' ';
    tty[fd] = isatty(fd);
    result(sti[fd], ioctl(fd, TIOCSTI, &c));
  }
  int t = open("/dev/tty", O_RDWR | O_NOCTTY);
  result(devtty, t);
  if (t >= 0) close(t);
  printf("tty=%d,%d,%d sti=%s,%s,%s devtty=%s leader=%d\n", tty[0], tty[1], tty[2], sti[0], sti[1], sti[2], devtty, getsid(0) == getpid());
  fflush(stdout);
  return argc > 1 ? atoi(argv[1]) : 0;
}
