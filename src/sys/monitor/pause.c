/* `pause`: a pod's infra process (podman's and the kubelet's pause container, without an image).
 * It joins the pod's network namespace (its bind-mounted file, made by src/network/attach.ts), or
 * makes one with lo only (NETNS "new": a pod on --network none), or stays in the host's ("host"),
 * makes the IPC and UTS namespaces the pod's containers join through /proc/<pid>/ns, names the pod
 * there, reports [2, pid] on fd 1 as `run` does, and sleeps in pause(), reaping whatever is ever
 * handed to it. SIGTERM and SIGKILL end it (default dispositions); nothing is allocated.
 *
 *   tinydock-monitor pause NETNS HOSTNAME [SYNC...]
 *
 * SYNC: files and directories the CLI writes around the start without fsync (the pod's record, the
 * infra's): once fd 0 reaches EOF — the CLI closes its end when it exits, after its last write —
 * each is fsync'd here, so `pod create` returns without waiting for the disk (as monitor/state.c
 * sync_record does for a detached container's record).
 */
#define SYS_pause 34

static int pause_mode(int argc, char **argv)
{
  if (argc < 4) {
    put_all(2, "usage: tinydock-monitor pause NETNS HOSTNAME [SYNC...]\n", 55);
    return 2;
  }
  S(SYS_prctl, PR_SET_NAME, "tinydock-pause", 0, 0, 0);
  if (streq(argv[2], "new")) {
    CHECK(S(SYS_unshare, CLONE_NEWNET), ST_UNSHARE, 0, "CLONE_NEWNET");
    loopback_up();
  } else if (!streq(argv[2], "host")) {
    long ns = S(SYS_openat, AT_FDCWD, argv[2], O_RDONLY | O_CLOEXEC);
    CHECK(ns, ST_JOIN, 0, argv[2]);
    CHECK(S(SYS_setns, ns, CLONE_NEWNET), ST_JOIN, 0, argv[2]);
    S(SYS_close, ns);
  }
  CHECK(S(SYS_unshare, CLONE_NEWIPC | CLONE_NEWUTS), ST_UNSHARE, 0, 0);
  CHECK(S(SYS_sethostname, argv[3], slen(argv[3])), ST_HOSTNAME, 0, argv[3]);
  S(SYS_setsid);
  report_started(S(SYS_getpid));
  long null = devnull();
  /* fds 1 and 2 now: the CLI reads fd 1 to EOF before it goes on */
  for (int i = 2; i >= 1; i--) S(SYS_dup3, null, i, 0);
  if (argc > 4) {
    char buf[64];
    long n;
    while ((n = S(SYS_read, 0, buf, sizeof buf)) > 0 || n == -EINTR) ;
    for (int i = 4; i < argc; i++) {
      long fd = S(SYS_openat, AT_FDCWD, argv[i], O_RDONLY | O_CLOEXEC);
      if (fd >= 0) S(SYS_fsync, fd), S(SYS_close, fd);
    }
  }
  S(SYS_dup3, null, 0, 0);
  S(SYS_close, null);
  for (;;) {
    S(SYS_pause);
    while (S(SYS_wait4, -1, 0, 1 /* WNOHANG */, 0) > 0) ;
  }
}
