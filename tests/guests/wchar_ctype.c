/* Locale-free character handling in the "C" locale: ctype classification over all bytes,
 * toupper/tolower, wide-character strings (wcslen/wcscmp/wcschr/wcstol), mbrtowc/wcrtomb
 * of ASCII, and swprintf. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

int main(void) {
    for (int c = 0; c < 256; c += 1) {
        int mask = (isalpha(c) ? 1 : 0) | (isdigit(c) ? 2 : 0) | (isspace(c) ? 4 : 0) | (ispunct(c) ? 8 : 0) |
                   (isupper(c) ? 16 : 0) | (islower(c) ? 32 : 0) | (isxdigit(c) ? 64 : 0) | (iscntrl(c) ? 128 : 0) |
                   (isprint(c) ? 256 : 0) | (isgraph(c) ? 512 : 0) | (isalnum(c) ? 1024 : 0) | (isblank(c) ? 2048 : 0);
        printf("%03x%c", mask, (c % 16 == 15) ? '\n' : ' ');
    }
    char s[] = "Hello, World! 123 abc XYZ";
    for (char *p = s; *p; p++) *p = (char)(islower((unsigned char)*p) ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
    printf("swapcase: %s\n", s);

    wchar_t w[64];
    wcscpy(w, L"wide string test");
    wcscat(w, L" 42");
    printf("wcslen %zu wcscmp %d %d wcschr %ld\n", wcslen(w), wcscmp(w, L"wide") > 0, wcscmp(L"a", L"b") < 0,
           (long)(wcschr(w, L's') - w));
    wchar_t *end;
    long v = wcstol(L"  -12345xyz", &end, 10);
    printf("wcstol %ld rest %ls\n", v, end);
    double d = wcstod(L"2.5e3!", &end);
    printf("wcstod %g rest %ls\n", d, end);
    wchar_t out[64];
    int n = swprintf(out, 64, L"%d-%ls-%x", 7, L"abc", 255);
    printf("swprintf %d '%ls'\n", n, out);
    int cls = 0;
    for (wint_t c = 0; c < 128; c++) cls += (iswalpha(c) ? 1 : 0) + (iswdigit(c) ? 100 : 0) + (iswspace(c) ? 10000 : 0);
    printf("isw classes %d towupper(q)=%lc\n", cls, (wint_t)towupper(L'q'));

    mbstate_t ms;
    memset(&ms, 0, sizeof ms);
    const char *mb = "ascii!";
    size_t total = 0;
    wchar_t wc;
    for (const char *p = mb; *p;) {
        size_t r = mbrtowc(&wc, p, strlen(p), &ms);
        if (r == (size_t)-1 || r == (size_t)-2 || r == 0) break;
        total += (size_t)wc;
        p += r;
    }
    char mbo[8];
    size_t r = wcrtomb(mbo, L'Z', &ms);
    printf("mbrtowc sum %zu wcrtomb %zu '%c' MB_CUR_MAX %zu\n", total, r, mbo[0], (size_t)MB_CUR_MAX);
    size_t bad = mbstowcs(NULL, "\xff\xfe", 0);
    printf("high bytes in C locale: %s\n", bad == (size_t)-1 ? "rejected" : "accepted");
    char conv[64];
    size_t cn = wcstombs(conv, L"back to narrow", sizeof conv);
    printf("wcstombs %zu '%s'\n", cn, conv);
    printf("atoi %d strtoul %lu\n", atoi("  +77abc"), strtoul("zz", NULL, 36));
    return 0;
}
