/*
 * Bad input at every entry point: each call returns its documented status,
 * never crashes, never writes an output on failure, never leaks (the driver,
 * tests/capi_c.rs, runs this under valgrind inside a private network
 * namespace).
 *
 *   bad_input            every section
 */
#include <ironicmdns.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void check_at(int line, const char *expr, zc_status got, zc_status want) {
    if (got != want) {
        char detail[512];
        zc_last_error(NULL, detail, sizeof detail);
        fprintf(stderr, "bad_input.c:%d: %s = %d (%s), want %d (%s); detail: %s\n", line, expr, (int)got,
                zc_strerror(got), (int)want, zc_strerror(want), detail);
        failures++;
    }
}
#define CHECK(expr, want) check_at(__LINE__, #expr, (expr), (want))

static void truth_at(int line, const char *expr, int ok) {
    if (!ok) {
        fprintf(stderr, "bad_input.c:%d: not true: %s\n", line, expr);
        failures++;
    }
}
#define TRUE(expr) truth_at(__LINE__, #expr, (expr) ? 1 : 0)

/* The calling thread's last detail. */
static const char *detail(void) {
    static char buf[1024];
    zc_last_error(NULL, buf, sizeof buf);
    return buf;
}

static const char NOT_UTF8[] = "bare\xc3\x28metal";
static char too_long[ZC_MAX_INPUT + 2];       /* ZC_MAX_INPUT + 1 bytes */
static char longest[ZC_MAX_INPUT + 1];        /* ZC_MAX_INPUT bytes */
/* An output the library must leave alone on failure. */
static char sentinel_byte;
#define SENTINEL ((void *)&sentinel_byte)

static void version_and_strerror(void) {
    char want[64];
    snprintf(want, sizeof want, "%d.%d.%d", ZC_VERSION_MAJOR, ZC_VERSION_MINOR, ZC_VERSION_PATCH);
    TRUE(zc_version() != NULL && strcmp(zc_version(), want) == 0);
    for (zc_status s = ZC_ERR_INTERNAL; s <= ZC_OK; s++) {
        TRUE(zc_strerror(s) != NULL && strlen(zc_strerror(s)) > 0);
        for (zc_status t = ZC_ERR_INTERNAL; t < s; t++)
            TRUE(strcmp(zc_strerror(s), zc_strerror(t)) != 0);
    }
    TRUE(strcmp(zc_strerror(1), "unknown status code") == 0);
    TRUE(strcmp(zc_strerror(-1000), "unknown status code") == 0);
}

static void count_log(int level, const char *message, void *user) {
    if (level >= ZC_LOG_DEBUG && level <= ZC_LOG_ERROR && message != NULL)
        ++*(int *)user;
}

static int messages; /* counted by count_log */

static void log_callback(void) {
    CHECK(zc_set_log_callback(count_log, &messages), ZC_OK);
    CHECK(zc_set_log_callback(NULL, NULL), ZC_OK); /* back to stderr */
    CHECK(zc_set_log_callback(count_log, &messages), ZC_OK); /* kept for the handle section */
}

static void frees_accept_null(void) {
    zc_string_free(NULL);
    zc_props_free(NULL);
    zc_options_free(NULL);
    CHECK(zc_close(NULL), ZC_OK);
}

static void detail_buffers(void) {
    char buf[8];
    size_t full;
    /* make a failure with a known detail */
    CHECK(zc_props_new(NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strcmp(detail(), "zc_props_new: out is NULL") == 0);
    full = strlen("zc_props_new: out is NULL");
    TRUE(zc_last_error(NULL, NULL, 0) == full);           /* size query */
    TRUE(zc_last_error(NULL, NULL, 100) == full);         /* NULL buffer: nothing written */
    memset(buf, 'X', sizeof buf);
    TRUE(zc_last_error(NULL, buf, 4) == full);            /* too small: cut */
    TRUE(strcmp(buf, "zc_") == 0 && buf[4] == 'X');       /* 3 bytes + NUL, no more */
    TRUE(zc_last_error(NULL, buf, 1) == full && buf[0] == '\0');
    TRUE(zc_options_last_error(NULL, buf, sizeof buf) == 0 && buf[0] == '\0');
}

static void options(void) {
    zc_options *opts = SENTINEL;
    char buf[512];
    zc_status st;

    CHECK(zc_options_new(NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_new(&opts), ZC_OK);
    TRUE(opts != SENTINEL && opts != NULL);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) == 0 && buf[0] == '\0');

    CHECK(zc_options_set(NULL, "lookup_attempts", "1"), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strcmp(detail(), "zc_options_set: opts is NULL") == 0);
    CHECK(zc_options_set(opts, NULL, "1"), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_set(opts, "lookup_attempts", NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) > 0 && strstr(buf, "value is NULL"));
    CHECK(zc_options_set(opts, NOT_UTF8, "1"), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strstr(detail(), "not valid UTF-8") != NULL);
    CHECK(zc_options_set(opts, "params", too_long), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strstr(detail(), "longer than 4096 bytes") != NULL);

    /* from here on Config::set runs */
    st = zc_options_set(opts, "lookup_attempts", "1");
    CHECK(st, ZC_OK);
    CHECK(zc_options_set(opts, "registration_attempts", "2"), ZC_OK);
    CHECK(zc_options_set(opts, "lookup_timeout", "0.2"), ZC_OK);
    CHECK(zc_options_set(opts, "params", "answer:42,foo:'b,ar'"), ZC_OK);
    CHECK(zc_options_set(opts, "interfaces", "198.18.0.1,fd00:99::1"), ZC_OK);
    CHECK(zc_options_set(opts, "no_such_option", "1"), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) > 0 && strstr(buf, "no_such_option"));
    CHECK(zc_options_set(opts, "lookup_attempts", "0"), ZC_ERR_INVALID_ARGUMENT); /* min 1 */
    CHECK(zc_options_set(opts, "lookup_attempts", "three"), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_set(opts, "registration_attempts", "-1"), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_set(opts, "interfaces", "not-an-ip"), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_set(opts, "lookup_timeout", "soon"), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_options_set(opts, "", "1"), ZC_ERR_INVALID_ARGUMENT);
    zc_options_free(opts);
}

static void options_listing(void) {
    const char *group = SENTINEL, *name = SENTINEL, *type = SENTINEL, *def = SENTINEL, *help = SENTINEL;
    const char *want[] = {"registration_attempts", "lookup_attempts", "params", "interfaces"};
    size_t count = zc_option_count();
    char *sample = SENTINEL;
    zc_status st;

    TRUE(count >= 4);
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        int seen = 0;
        for (size_t i = 0; i < count; i++) {
            CHECK(zc_option_info(i, &group, &name, &type, &def, &help), ZC_OK);
            TRUE(group && name && type && def && help && strcmp(group, "mdns") == 0 && strlen(help) > 0);
            seen += strcmp(name, want[w]) == 0;
        }
        TRUE(seen == 1);
    }
    CHECK(zc_option_info(0, NULL, NULL, NULL, NULL, NULL), ZC_OK); /* every output optional */
    group = name = SENTINEL;
    CHECK(zc_option_info(count, &group, &name, NULL, NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(group == SENTINEL && name == SENTINEL);
    CHECK(zc_option_info((size_t)-1, &group, NULL, NULL, NULL, NULL), ZC_ERR_INVALID_ARGUMENT);

    CHECK(zc_sample_config(NULL), ZC_ERR_INVALID_ARGUMENT);
    st = zc_sample_config(&sample);
    CHECK(st, ZC_OK);
    TRUE(sample != SENTINEL && strstr(sample, "[mdns]") && strstr(sample, "lookup_attempts"));
    zc_string_free(sample);
}

static void props(void) {
    zc_props *p = SENTINEL;
    const char *key = SENTINEL, *value = SENTINEL;
    size_t len = 12345;
    int has = 7;
    char big[300];

    CHECK(zc_props_new(NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_new(&p), ZC_OK);
    TRUE(zc_props_count(p) == 0);
    TRUE(zc_props_count(NULL) == 0);

    CHECK(zc_props_set(NULL, "k", "v", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, NULL, "v", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, "", "v", 1), ZC_ERR_INVALID_ARGUMENT);       /* RFC 6763 s6.4 */
    CHECK(zc_props_set(p, "a=b", "v", 1), ZC_ERR_INVALID_ARGUMENT);    /* RFC 6763 s6.4 */
    CHECK(zc_props_set(p, NOT_UTF8, "v", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, too_long, "v", 1), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_set(p, longest, "v", 1), ZC_ERR_INVALID_ARGUMENT);  /* > 255 as key=value */
    memset(big, 'v', sizeof big);
    CHECK(zc_props_set(p, "k", big, 253), ZC_OK);                      /* 1 + 1 + 253 = 255 */
    CHECK(zc_props_set(p, "k", big, 254), ZC_ERR_INVALID_ARGUMENT);    /* 256 */
    CHECK(zc_props_set(p, "k", big, (size_t)-1), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_props_count(p) == 1);

    CHECK(zc_props_set(p, "bin", "\xe2\x28\xa1\0z", 5), ZC_OK);       /* binary, NUL inside */
    CHECK(zc_props_set(p, "flag", NULL, 999), ZC_OK);                  /* no value */
    CHECK(zc_props_set(p, "empty", "", 0), ZC_OK);                     /* empty value */
    CHECK(zc_props_set(p, "k", "new", 3), ZC_OK);                      /* replaced in place */
    TRUE(zc_props_count(p) == 4);

    CHECK(zc_props_get_at(p, 0, &key, &value, &len, &has), ZC_OK);
    TRUE(strcmp(key, "k") == 0 && len == 3 && has == 1 && memcmp(value, "new", 4) == 0);
    CHECK(zc_props_get_at(p, 1, &key, &value, &len, &has), ZC_OK);
    TRUE(strcmp(key, "bin") == 0 && len == 5 && has == 1 && memcmp(value, "\xe2\x28\xa1\0z", 6) == 0);
    CHECK(zc_props_get_at(p, 2, &key, &value, &len, &has), ZC_OK);
    TRUE(strcmp(key, "flag") == 0 && value == NULL && len == 0 && has == 0);
    CHECK(zc_props_get(p, "empty", &value, &len, &has), ZC_OK);
    TRUE(value != NULL && value[0] == '\0' && len == 0 && has == 1);

    key = value = SENTINEL;
    len = 12345;
    has = 7;
    CHECK(zc_props_get_at(p, 4, &key, &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_get_at(p, (size_t)-1, &key, &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_get_at(NULL, 0, &key, &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_get(p, "missing", &value, &len, &has), ZC_ERR_NOT_FOUND);
    CHECK(zc_props_get(p, NULL, &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_get(p, NOT_UTF8, &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_props_get(NULL, "k", &value, &len, &has), ZC_ERR_INVALID_ARGUMENT);
    TRUE(key == SENTINEL && value == SENTINEL && len == 12345 && has == 7); /* untouched */
    CHECK(zc_props_get_at(p, 0, NULL, NULL, NULL, NULL), ZC_OK);           /* outputs optional */
    CHECK(zc_props_get(p, "k", NULL, NULL, NULL), ZC_OK);
    zc_props_free(p);
}

/* Bad arguments are refused before any socket is opened. */
static void handle_calls_without_handle(void) {
    zc_options *opts = NULL;
    zc_zeroconf *zc = SENTINEL;
    char *url = SENTINEL;
    zc_props *found = SENTINEL;
    char buf[256];

    CHECK(zc_options_new(&opts), ZC_OK);
    CHECK(zc_new(NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_new(opts, NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) > 0 && strcmp(buf, "zc_new: out is NULL") == 0);
    CHECK(zc_register_service(NULL, "baremetal", "http://198.18.0.2", NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strcmp(detail(), "zc_register_service: zc is NULL") == 0);
    CHECK(zc_get_endpoint(NULL, "baremetal", 1, 0, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_last_error(NULL, buf, sizeof buf) > 0 && strcmp(buf, "zc_get_endpoint: zc is NULL") == 0);
    CHECK(zc_lookup(NULL, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_lookup("baremetal", NULL, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_lookup(NOT_UTF8, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_lookup(too_long, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_lookup_with_options(opts, NULL, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_lookup_with_options(opts, "baremetal", NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) > 0 && strstr(buf, "url_out is NULL"));
    CHECK(zc_lookup_with_options(NULL, NOT_UTF8, &url, NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_wait_lost(NULL, 0, &url), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strcmp(detail(), "zc_wait_lost: zc is NULL") == 0);
    TRUE(zc == SENTINEL && url == SENTINEL && found == SENTINEL);
    zc_options_free(opts);
}

/* With a live handle (needs the private network namespace). */
static void handle_calls(void) {
    zc_options *opts = NULL;
    zc_zeroconf *zc = NULL;
    zc_props *params = NULL, *found = SENTINEL;
    char *url = SENTINEL;
    char buf[256], small[4], type64[65];
    size_t full;
    zc_status st;

    CHECK(zc_options_new(&opts), ZC_OK);
    st = zc_options_set(opts, "lookup_attempts", "1");
    CHECK(st, ZC_OK);
    CHECK(zc_options_set(opts, "lookup_timeout", "0.2"), ZC_OK);
    CHECK(zc_options_set(opts, "registration_attempts", "1"), ZC_OK);
    st = zc_new(opts, &zc);
    CHECK(st, ZC_OK);
    if (st != ZC_OK) {
        zc_options_last_error(opts, buf, sizeof buf);
        fprintf(stderr, "zc_new: %s\n", buf);
        zc_options_free(opts);
        return;
    }
    TRUE(zc_last_error(zc, buf, sizeof buf) == 0 && buf[0] == '\0');

    CHECK(zc_register_service(zc, NULL, "http://198.18.0.2", NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, "baremetal", NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, NOT_UTF8, "http://198.18.0.2", NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, "baremetal", too_long, NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, "baremetal", "not a url", NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, "baremetal", "http://", NULL), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_register_service(zc, "", "http://198.18.0.2", NULL), ZC_ERR_INVALID_ARGUMENT);
    memset(type64, 'a', 64);
    type64[64] = '\0';
    CHECK(zc_register_service(zc, type64, "http://198.18.0.2", NULL), ZC_ERR_INVALID_ARGUMENT); /* > 63 */

    /* the handle keeps the detail; snprintf-style copy */
    full = zc_last_error(zc, NULL, 0);
    TRUE(full > sizeof small);
    TRUE(zc_last_error(zc, small, sizeof small) == full && strlen(small) == sizeof small - 1);
    TRUE(zc_last_error(zc, buf, sizeof buf) == full && strncmp(buf, "zc_register_service: ", 21) == 0);

    CHECK(zc_get_endpoint(zc, NULL, 1, 0, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_get_endpoint(zc, "baremetal", 1, 0, NULL, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_get_endpoint(zc, NOT_UTF8, 1, 0, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_get_endpoint(zc, too_long, 1, 0, &url, &found), ZC_ERR_INVALID_ARGUMENT);
    CHECK(zc_get_endpoint(zc, "nobody-serves-this", 1, 0, &url, &found), ZC_ERR_NOT_FOUND);
    CHECK(zc_get_endpoint(zc, "nobody-serves-this", 0, 1, &url, NULL), ZC_ERR_NOT_FOUND); /* props optional */
    TRUE(zc_last_error(zc, buf, sizeof buf) > 0 && strstr(buf, "nobody-serves-this"));
    CHECK(zc_lookup_with_options(opts, "nobody-serves-this", &url, &found), ZC_ERR_NOT_FOUND);
    TRUE(zc_options_last_error(opts, buf, sizeof buf) > 0 && strstr(buf, "nobody-serves-this"));
    TRUE(url == SENTINEL && found == SENTINEL);

    /* browse: arguments, then an empty link */
    {
        zc_services *list = SENTINEL;
        const char *type = SENTINEL;
        CHECK(zc_browse(NULL, 100, &list), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_browse(zc, 100, NULL), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_browse(zc, 60001, &list), ZC_ERR_INVALID_ARGUMENT);
        TRUE(list == SENTINEL);
        CHECK(zc_browse(zc, 200, &list), ZC_OK);
        TRUE(list != SENTINEL && zc_services_count(list) == 0);
        CHECK(zc_services_get_at(list, 0, &type, NULL, NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
        CHECK(zc_services_get_at(NULL, 0, &type, NULL, NULL, NULL), ZC_ERR_INVALID_ARGUMENT);
        TRUE(type == SENTINEL && zc_services_count(NULL) == 0);
        zc_services_free(list);
        zc_services_free(NULL);
    }

    /* lost registrations: arguments, then nothing lost on a fresh handle */
    CHECK(zc_wait_lost(zc, 0, NULL), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strcmp(detail(), "zc_wait_lost: lost_out is NULL") == 0);
    CHECK(zc_wait_lost(zc, -1, &url), ZC_ERR_INVALID_ARGUMENT);
    TRUE(strstr(detail(), "negative") != NULL);
    CHECK(zc_wait_lost(zc, INT32_MIN, &url), ZC_ERR_INVALID_ARGUMENT);
    TRUE(url == SENTINEL);
    CHECK(zc_wait_lost(zc, 0, &url), ZC_OK);
    TRUE(url == NULL);
    CHECK(zc_wait_lost(zc, 50, &url), ZC_OK); /* waits, nothing to report */
    TRUE(url == NULL);
    url = SENTINEL;

    /* a real registration, withdrawn by zc_close */
    CHECK(zc_props_new(&params), ZC_OK);
    CHECK(zc_props_set(params, "ipa_debug", "1", 1), ZC_OK);
    messages = 0;
    CHECK(zc_register_service(zc, "baremetal", "http://198.18.0.9:8080/bm", params), ZC_OK);
    TRUE(messages > 0); /* "registering ... via mDNS" (debug) reached the callback */
    CHECK(zc_wait_lost(zc, 0, &url), ZC_OK); /* nobody else holds the name */
    TRUE(url == NULL);
    zc_props_free(params);
    CHECK(zc_close(zc), ZC_OK);
    zc = NULL;
    CHECK(zc_close(zc), ZC_OK); /* the freed handle is not closed twice */
    zc_options_free(opts);
    CHECK(zc_set_log_callback(NULL, NULL), ZC_OK);
}

int main(void) {
    memset(too_long, 'a', sizeof too_long - 1);
    memset(longest, 'a', sizeof longest - 1);

    version_and_strerror();
    frees_accept_null();
    log_callback();
    detail_buffers();
    options();
    options_listing();
    props();
    handle_calls_without_handle();
    handle_calls();

    if (failures) {
        fprintf(stderr, "bad_input: %d failure(s)\n", failures);
        return 1;
    }
    printf("bad_input: all checks passed\n");
    return 0;
}
