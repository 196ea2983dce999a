/* Writes to stdout (write and writev) and reports each result on stderr. Recorded with
 * stdout on /dev/full, every write fails (ENOSPC): a replay must not re-emit that data. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
    char msg[128];
    long r = write(1, "first line\n", 11);
    int n = snprintf(msg, sizeof msg, "write: %ld (%s)\n", r, r < 0 ? strerror(errno) : "ok");
    write(2, msg, n);
    struct iovec iov[2] = {{"second ", 7}, {"line\n", 5}};
    r = writev(1, iov, 2);
    n = snprintf(msg, sizeof msg, "writev: %ld (%s)\n", r, r < 0 ? strerror(errno) : "ok");
    write(2, msg, n);
    return 0;
}
