#include "mini.h"
int main(int argc, char **argv) {
    kv("argc", argc);
    ks("argv0", argv[0]);
    kv("neg", -1234567);
    kv("zero", 0);
    return 3;
}
