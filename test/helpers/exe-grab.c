/* CVE-2019-5736's move against a container engine's binary (test/adversarial/exe-seal.test.ts).
 * Built static by the test with musl-gcc and bind-mounted into the container.
 *   exe-grab list        for every process visible, open(/proc/PID/exe, O_WRONLY): prints
 *                        "exe PID size=BYTES write=ok|ERRNO" per process
 *   exe-grab send SOCK   list, then passes an O_PATH fd of /proc/1/exe over the unix socket SOCK
 *   exe-grab recv SOCK   (outside) takes that fd, and once nothing executes the file any more
 *                        (ETXTBSY ends; at most 10 s) opens it for writing through /proc/self/fd:
 *                        "received size=BYTES write=ok|ERRNO". It never writes a byte. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void result(char *out, int fd)
{
  if (fd < 0) snprintf(out, 16, "%d", errno);
  else { snprintf(out, 16, "ok"); close(fd); }
}

static long size_of(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void list(void)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char path[64], w[16];
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    snprintf(path, sizeof path, "/proc/%s/exe", e->d_name);
    result(w, open(path, O_WRONLY));
    printf("exe %s size=%ld write=%s\n", e->d_name, size_of(path), w);
  }
  if (d) closedir(d);
  fflush(stdout);
}

static int unix_socket(const char *path, struct sockaddr_un *a)
{
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  strncpy(a->sun_path, path, sizeof a->sun_path - 1);
  return socket(AF_UNIX, SOCK_STREAM, 0);
}

int main(int argc, char **argv)
{
  struct sockaddr_un a;
  char cbuf[CMSG_SPACE(sizeof(int))], byte = 'x';
  struct iovec iov = { &byte, 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
  if (argc == 2 && !strcmp(argv[1], "list")) { list(); return 0; }
  if (argc != 3) return 2;
  if (!strcmp(argv[1], "send")) {
    list();
    int exe = open("/proc/1/exe", O_PATH), s = unix_socket(argv[2], &a);
    if (exe < 0) { printf("open /proc/1/exe: %d\n", errno); return 1; }
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0) { printf("connect: %d\n", errno); return 1; }
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &exe, sizeof exe);
    if (sendmsg(s, &m, 0) < 0) { printf("sendmsg: %d\n", errno); return 1; }
    printf("sent\n");
    return 0;
  }
  if (!strcmp(argv[1], "recv")) {
    int s = unix_socket(argv[2], &a), c;
    alarm(60);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0 || (c = accept(s, 0, 0)) < 0) { printf("listen: %d\n", errno); return 1; }
    if (recvmsg(c, &m, 0) < 0 || !CMSG_FIRSTHDR(&m)) { printf("recvmsg: %d\n", errno); return 1; }
    int fd;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof fd);
    char path[64], w[16];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    for (int i = 0; i < 100; i++) {
      int r = open(path, O_WRONLY);
      result(w, r);
      if (r >= 0 || errno != ETXTBSY) break;
      usleep(100000);
    }
    printf("received size=%ld write=%s\n", size_of(path), w);
    return 0;
  }
  return 2;
}
