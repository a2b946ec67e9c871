/*
 * The C ABI's contract at its edges, one section each, run by
 * tests/capi_c.rs under valgrind in a private network namespace (one host,
 * IPv4 multicast on lo):
 *
 *   contract types      one meaning for a service type
 *   contract ifaces     no silent "registered" on an address nobody has
 *   contract options    options checked fully when set, attempts bounded
 *   contract keys       RFC 6763 s6.4 keys, port 0
 *   contract log        quiet by default (the driver reads stderr)
 *   contract            every section
 *
 * (zc_close from any thread is tests/c/close_race.c.)
 */
#include <ironicmdns.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check_at(int line, const char *expr, zc_status got, zc_status want) {
    if (got != want) {
        char detail[512];
        zc_last_error(NULL, detail, sizeof detail);
        fprintf(stderr, "contract.c:%d: %s = %d (%s), want %d (%s); detail: %s\n", line, expr, (int)got,
                zc_strerror(got), (int)want, zc_strerror(want), detail);
        failures++;
    }
}
#define CHECK(expr, want) check_at(__LINE__, #expr, (expr), (want))

static void truth_at(int line, const char *expr, int ok) {
    if (!ok) {
        fprintf(stderr, "contract.c:%d: not true: %s\n", line, expr);
        failures++;
    }
}
#define TRUE(expr) truth_at(__LINE__, #expr, (expr) ? 1 : 0)

/* Options for a quick handle on the lab's lo. */
static zc_options *quick(void) {
    zc_options *o = NULL;
    CHECK(zc_options_new(&o), ZC_OK);
    CHECK(zc_options_set(o, "lookup_attempts", "2"), ZC_OK);
    CHECK(zc_options_set(o, "lookup_timeout", "1"), ZC_OK);
    CHECK(zc_options_set(o, "registration_attempts", "1"), ZC_OK);
    CHECK(zc_options_set(o, "interfaces", "127.0.0.1"), ZC_OK);
    return o;
}

/* Whether a browse list holds `type` exactly. */
static int listed(const zc_services *list, const char *type) {
    for (size_t i = 0; i < zc_services_count(list); i++) {
        const char *t = NULL;
        if (zc_services_get_at(list, i, &t, NULL, NULL, NULL) == ZC_OK && strcmp(t, type) == 0)
            return 1;
    }
    return 0;
}

/* 1. The same string registers, looks up (the handle's own lookup and a
 * one-shot lookup from another port) and browses, and comes back the same
 * from browse; what cannot be a label is refused by all of them. */
static void types(void) {
    static const char *const good[] = {"a.b", "_x._tcp", "back\\slash", ".", "a..b", "x\\.y"};
    static const char *const bad[] = {"", "tab\there", "nl\n", "del\x7f",
                                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 64 */};
    const size_t n_good = sizeof good / sizeof good[0], n_bad = sizeof bad / sizeof bad[0];
    zc_options *o = quick();
    zc_zeroconf *zc = NULL;
    zc_services *list = NULL;
    char *url = NULL;
    char endpoint[64];

    CHECK(zc_new(o, &zc), ZC_OK);
    if (zc == NULL) {
        zc_options_free(o);
        return;
    }
    for (size_t i = 0; i < n_good; i++) {
        snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u/t%u", (unsigned)(7000 + i), (unsigned)i);
        CHECK(zc_register_service(zc, good[i], endpoint, NULL), ZC_OK);
    }
    for (size_t i = 0; i < n_good; i++) {
        char want[64];
        snprintf(want, sizeof want, "http://127.0.0.1:%u/t%u", (unsigned)(7000 + i), (unsigned)i);
        url = NULL;
        CHECK(zc_get_endpoint(zc, good[i], 0, 0, &url, NULL), ZC_OK);
        TRUE(url != NULL && strcmp(url, want) == 0);
        if (url != NULL && strcmp(url, want) != 0)
            fprintf(stderr, "contract.c: %s: got %s, want %s\n", good[i], url, want);
        zc_string_free(url);
    }
    CHECK(zc_browse(zc, 1500, &list), ZC_OK);
    for (size_t i = 0; i < n_good; i++) {
        TRUE(listed(list, good[i]));
        if (!listed(list, good[i]))
            fprintf(stderr, "contract.c: browse did not list %s\n", good[i]);
    }
    TRUE(!listed(list, "a\\.b")); /* the escaped text is another type */
    zc_services_free(list);
    for (size_t i = 0; i < n_bad; i++) {
        url = (char *)&failures;
        CHECK(zc_register_service(zc, bad[i], "http://127.0.0.1:7100", NULL), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_get_endpoint(zc, bad[i], 0, 0, &url, NULL), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_lookup_with_options(o, bad[i], &url, NULL), ZC_ERR_INVALID_ARGUMENT);
        TRUE(url == (char *)&failures);
    }
    CHECK(zc_close(zc), ZC_OK);
    zc_options_free(o);
}

/* 2. An interfaces address that no interface has, or that no interface can
 * have, never yields a handle that reports "registered". */
static void ifaces(void) {
    static const char *const nobody[] = {"198.18.0.77", "fd00:99::77", "127.0.0.1,198.18.0.77"};
    static const char *const never[] = {"0.0.0.0", "::", "224.0.0.251", "ff02::fb", "255.255.255.255"};
    zc_options *o = NULL;
    zc_zeroconf *zc = NULL;
    char buf[256];

    CHECK(zc_options_new(&o), ZC_OK);
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        CHECK(zc_options_set(o, "interfaces", never[i]), ZC_ERR_INVALID_ARGUMENT);
    for (size_t i = 0; i < sizeof nobody / sizeof nobody[0]; i++) {
        CHECK(zc_options_set(o, "interfaces", nobody[i]), ZC_OK);
        zc = (zc_zeroconf *)&failures;
        CHECK(zc_new(o, &zc), ZC_ERR_IO);
        TRUE(zc == (zc_zeroconf *)&failures);
        zc_options_last_error(o, buf, sizeof buf);
        TRUE(strstr(buf, "no interface has the address") != NULL);
    }
    /* the address that exists still works, and registers for real */
    CHECK(zc_options_set(o, "interfaces", "127.0.0.1"), ZC_OK);
    CHECK(zc_options_set(o, "registration_attempts", "1"), ZC_OK);
    CHECK(zc_new(o, &zc), ZC_OK);
    CHECK(zc_register_service(zc, "ifaces", "http://127.0.0.1:7200", NULL), ZC_OK);
    CHECK(zc_close(zc), ZC_OK);
    zc_options_free(o);
}

/* 3. A value zc_options_set accepts never fails a later call; bad values
 * and unbounded attempts are refused when set. */
static void options(void) {
    zc_options *o = NULL;
    char long_params[400];
    char buf[512];
    static const char *const refused[][2] = {
        {"lookup_timeout", "1e-10"},     {"lookup_timeout", "0"},
        {"lookup_timeout", "61"},        {"lookup_timeout", "1e308"},
        {"lookup_timeout", "nan"},       {"lookup_attempts", "11"},
        {"lookup_attempts", "1000000"},  {"registration_attempts", "99999999999"},
        {"params", "a=b:1"},             {"params", "K:1,k:2"},
        {"params", "caf\xc3\xa9:1"},     {"params", "k\x01:1"},
    };

    CHECK(zc_options_new(&o), ZC_OK);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(zc_options_set(o, refused[i][0], refused[i][1]), ZC_ERR_INVALID_ARGUMENT);
        zc_options_last_error(o, buf, sizeof buf);
        TRUE(strstr(buf, refused[i][0]) != NULL);
    }
    /* key, ':' and 300 bytes of value: more than one TXT string holds */
    memcpy(long_params, "k:", 2);
    memset(long_params + 2, 'v', 300);
    long_params[302] = '\0';
    CHECK(zc_options_set(o, "params", long_params), ZC_ERR_INVALID_ARGUMENT);
    /* the bounds themselves are accepted */
    CHECK(zc_options_set(o, "lookup_attempts", "10"), ZC_OK);
    CHECK(zc_options_set(o, "registration_attempts", "10"), ZC_OK);
    CHECK(zc_options_set(o, "lookup_timeout", "0.001"), ZC_OK);
    CHECK(zc_options_set(o, "lookup_timeout", "60"), ZC_OK);
    /* whatever was refused left the options usable: zc_new takes them */
    CHECK(zc_options_set(o, "interfaces", "127.0.0.1"), ZC_OK);
    CHECK(zc_options_set(o, "params", "Answer:42"), ZC_OK);
    {
        zc_zeroconf *zc = NULL;
        CHECK(zc_new(o, &zc), ZC_OK);
        CHECK(zc_close(zc), ZC_OK);
    }
    zc_options_free(o);
}

/* 4. Keys are case-insensitive, printable US-ASCII, no '='; the derived
 * path wins over any spelling of it; port 0 is refused. */
static void keys(void) {
    zc_props *p = NULL, *found = NULL;
    const char *key = NULL, *value = NULL;
    size_t len = 0;
    int has = 0;
    zc_options *o = quick();
    zc_zeroconf *zc = NULL;
    char *url = NULL;

    CHECK(zc_props_new(&p), ZC_OK);
    CHECK(zc_props_set(p, "dup", "1", 1), ZC_OK);
    CHECK(zc_props_set(p, "Dup", "2", 1), ZC_OK);
    TRUE(zc_props_count(p) == 1);
    CHECK(zc_props_get(p, "DUP", &value, &len, &has), ZC_OK);
    TRUE(has == 1 && len == 1 && value[0] == '2');
    CHECK(zc_props_get_at(p, 0, &key, NULL, NULL, NULL), ZC_OK);
    TRUE(strcmp(key, "Dup") == 0);
    CHECK(zc_props_set(p, "caf\xc3\xa9", "x", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, "tab\t", "x", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, "del\x7f", NULL, 0), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, "a=b", "x", 1), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_props_count(p) == 1);
    /* {PATH: /evil} with URL path /real: one path, the real one */
    CHECK(zc_props_set(p, "PATH", "/evil", 5), ZC_OK);
    CHECK(zc_props_set(p, "Protocol", "gopher", 6), ZC_OK);

    CHECK(zc_new(o, &zc), ZC_OK);
    if (zc != NULL) {
        CHECK(zc_register_service(zc, "keys", "http://127.0.0.1:0", p), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_register_service(zc, "keys", "http://127.0.0.1:7300/real", p), ZC_OK);
        CHECK(zc_get_endpoint(zc, "keys", 0, 0, &url, &found), ZC_OK);
        TRUE(url != NULL && strcmp(url, "http://127.0.0.1:7300/real") == 0);
        if (url != NULL && strcmp(url, "http://127.0.0.1:7300/real") != 0)
            fprintf(stderr, "contract.c: keys: got %s\n", url);
        CHECK(zc_props_get(found, "path", NULL, NULL, NULL), ZC_ERR_NOT_FOUND);
        CHECK(zc_props_get(found, "protocol", NULL, NULL, NULL), ZC_ERR_NOT_FOUND);
        CHECK(zc_props_get(found, "dup", &value, &len, &has), ZC_OK);
        TRUE(has == 1 && len == 1 && value[0] == '2');
        zc_string_free(url);
        zc_props_free(found);
        CHECK(zc_close(zc), ZC_OK);
    }
    zc_props_free(p);
    zc_options_free(o);
}

/* 6. A registration logs a debug line: with no callback it goes to stderr
 * only when IRONICMDNS_LOG asks (the driver checks stderr). */
static void log_section(void) {
    zc_options *o = quick();
    zc_zeroconf *zc = NULL;
    CHECK(zc_new(o, &zc), ZC_OK);
    CHECK(zc_register_service(zc, "logged", "http://127.0.0.1:7400", NULL), ZC_OK);
    CHECK(zc_close(zc), ZC_OK);
    zc_options_free(o);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : NULL;
    struct {
        const char *name;
        void (*run)(void);
    } sections[] = {
        {"types", types}, {"ifaces", ifaces}, {"options", options}, {"keys", keys}, {"log", log_section},
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (only == NULL || strcmp(only, sections[i].name) == 0)
            sections[i].run();
    if (failures) {
        fprintf(stderr, "contract: %d failure(s)\n", failures);
        return 1;
    }
    printf("contract: all checks passed\n");
    return 0;
}
