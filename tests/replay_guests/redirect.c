/* Redirects stdout to a file and back, and writes through duplicates of stdout/stderr:
 * a replay must re-emit exactly what reached the terminal streams, not what went to the file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void say(int fd, const char *s) {
    if (write(fd, s, strlen(s)) != (ssize_t)strlen(s)) _exit(9);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    say(1, "on stdout\n");
    int saved = dup(1);
    int file = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || file < 0) return 3;
    dup2(file, 1);
    say(1, "into the file\n");
    int alias = fcntl(1, F_DUPFD_CLOEXEC, 10);
    say(alias, "into the file through an alias\n");
    close(alias);
    int err = dup(2);
    say(err, "on stderr through a duplicate\n");
    dup2(saved, 1);
    close(saved);
    say(1, "back on stdout\n");
    close(file);
    /* A new file takes the number `saved` had: it is not stdout any more. */
    int again = open(argv[1], O_WRONLY | O_APPEND);
    say(again, "appended to the file\n");
    say(err, "stderr again\n");
    return 0;
}
