/* A UDP echo server for the e2e port tests, run inside a busybox container (Debian's busybox nc has
 * no -u): answers each datagram on PORT with "echo:" + its bytes. Built static by the test with
 * musl-gcc (make deps installs musl-tools) and bind-mounted into the container.
 * Usage: udp-echo PORT */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])) };
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) return 1;
  for (;;) {
    char buf[1024];
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    ssize_t n = recvfrom(s, buf + 5, sizeof buf - 5, 0, (struct sockaddr *)&peer, &len);
    if (n < 0) continue;
    memcpy(buf, "echo:", 5);
    sendto(s, buf, (size_t)n + 5, 0, (struct sockaddr *)&peer, len);
  }
}
