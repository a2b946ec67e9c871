/*
 * One handle shared by several threads (the header's threading rules):
 * concurrent lookups, a registration, detail reads and property sets on the
 * same zc_zeroconf, then zc_close once every thread is done. Run by
 * tests/capi_c.rs under valgrind in a private network namespace.
 */
#define _POSIX_C_SOURCE 200809L
#include <ironicmdns.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 6

static zc_zeroconf *zc;
static int failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, zc_status st) {
    pthread_mutex_lock(&lock);
    fprintf(stderr, "threads: %s: %d (%s)\n", what, (int)st, zc_strerror(st));
    failures++;
    pthread_mutex_unlock(&lock);
}

static void *worker(void *arg) {
    long id = (long)arg;
    char type[32], buf[256];
    char *url = NULL;
    zc_props *found = NULL, *own = NULL;
    zc_status st;

    if (id == 0) {
        /* one thread registers while the others look up */
        if ((st = zc_props_new(&own)) != ZC_OK || (st = zc_props_set(own, "thread", "0", 1)) != ZC_OK)
            fail("props", st);
        st = zc_register_service(zc, "baremetal", "http://198.18.0.9:6385", own);
        if (st != ZC_OK)
            fail("register", st);
        zc_props_free(own);
        return NULL;
    }
    snprintf(type, sizeof type, "nobody-%ld", id);
    for (int round = 0; round < 2; round++) {
        st = zc_get_endpoint(zc, type, 1, 0, &url, &found);
        if (st != ZC_ERR_NOT_FOUND)
            fail("get_endpoint", st);
        if (url != NULL || found != NULL)
            fail("outputs written on failure", st);
        /* the handle's detail is whole: some thread's full message */
        zc_last_error(zc, buf, sizeof buf);
        if (strncmp(buf, "zc_", 3) != 0)
            fail("detail", ZC_OK);
    }
    return NULL;
}

int main(void) {
    zc_options *opts = NULL;
    pthread_t t[THREADS];
    zc_status st;

    if (zc_options_new(&opts) != ZC_OK || zc_options_set(opts, "lookup_attempts", "1") != ZC_OK ||
        zc_options_set(opts, "lookup_timeout", "0.2") != ZC_OK ||
        zc_options_set(opts, "registration_attempts", "1") != ZC_OK) {
        fprintf(stderr, "threads: options failed\n");
        return 1;
    }
    st = zc_new(opts, &zc);
    if (st != ZC_OK) {
        char detail[256];
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "threads: zc_new: %s\n", detail);
        zc_options_free(opts);
        return 1;
    }
    zc_options_free(opts); /* zc_new copied what it needs */
    for (long i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    st = zc_close(zc);
    if (st != ZC_OK)
        fail("close", st);
    if (failures) {
        fprintf(stderr, "threads: %d failure(s)\n", failures);
        return 1;
    }
    printf("threads: all checks passed\n");
    return 0;
}
