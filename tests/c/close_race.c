/*
 * zc_close from any thread. Many threads sit inside blocking calls on one
 * handle (lookups with long attempts, browses, waits for losses, a
 * registration, and threads that call in a loop); another thread closes
 * the handle. Every call in progress must return
 * ZC_ERR_CLOSED within the bound (ms, argv[1], default 100) of the close
 * starting, and nothing may touch freed memory (the driver runs this also
 * under valgrind --fair-sched=yes, with a bound for valgrind's slowness).
 * Rounds: argv[2] (default 3), a new handle each.
 */
#define _POSIX_C_SOURCE 200809L
#include <ironicmdns.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOKUPS 8
#define BROWSES 4
#define WAITERS 4
#define LOOPERS 4
#define REGISTERS 2
#define THREADS (LOOKUPS + BROWSES + WAITERS + LOOPERS + REGISTERS)

static zc_zeroconf *zc;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int entered;       /* threads about to make their blocking call */
static double close_start; /* ms, monotonic; 0 until the close begins */
static int failures;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(long id, const char *what, zc_status st) {
    pthread_mutex_lock(&lock);
    fprintf(stderr, "close_race: thread %ld: %s: %d (%s)\n", id, what, (int)st, zc_strerror(st));
    failures++;
    pthread_mutex_unlock(&lock);
}

static void arrived(void) {
    pthread_mutex_lock(&lock);
    entered++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

struct result {
    zc_status st;
    double end;
};
static struct result results[THREADS];

static void *worker(void *arg) {
    long id = (long)arg;
    char type[32], *url = NULL, *lost = NULL;
    zc_props *props = NULL;
    zc_services *list = NULL;
    zc_status st;

    snprintf(type, sizeof type, "nobody-%ld", id);
    arrived();
    if (id < LOOKUPS) {
        st = zc_get_endpoint(zc, type, 1, 0, &url, &props);
        if (url != NULL || props != NULL)
            fail(id, "outputs written on failure", st);
    } else if (id < LOOKUPS + BROWSES) {
        st = zc_browse(zc, 60000, &list);
        if (st == ZC_OK)
            zc_services_free(list);
    } else if (id < LOOKUPS + BROWSES + WAITERS) {
        st = zc_wait_lost(zc, 60000, &lost);
        zc_string_free(lost);
    } else if (id < LOOKUPS + BROWSES + WAITERS + LOOPERS) {
        /* call again and again until the handle is closed */
        char buf[128];
        do {
            st = zc_get_endpoint(zc, type, 1, 0, &url, NULL);
            zc_last_error(zc, buf, sizeof buf);
        } while (st == ZC_ERR_NOT_FOUND);
    } else {
        st = zc_register_service(zc, type, "http://127.0.0.1:6385", NULL);
        /* a registration may finish before the close: then it is OK */
        if (st == ZC_OK) {
            results[id].st = ZC_ERR_CLOSED;
            results[id].end = 0;
            return NULL;
        }
    }
    results[id].st = st;
    results[id].end = now_ms();
    return NULL;
}

static void *closer(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    close_start = now_ms();
    pthread_mutex_unlock(&lock);
    if (zc_close(zc) != ZC_OK)
        fail(-1, "zc_close", ZC_ERR_INTERNAL);
    return NULL;
}

int main(int argc, char **argv) {
    double bound = argc > 1 ? atof(argv[1]) : 100.0;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    double worst = 0;

    for (int round = 0; round < rounds; round++) {
        zc_options *opts = NULL;
        pthread_t t[THREADS], c;
        struct timespec settle = {0, 300 * 1000 * 1000};

        if (zc_options_new(&opts) != ZC_OK || zc_options_set(opts, "lookup_attempts", "10") != ZC_OK ||
            zc_options_set(opts, "lookup_timeout", "0.05") != ZC_OK ||
            zc_options_set(opts, "interfaces", "127.0.0.1") != ZC_OK) {
            fprintf(stderr, "close_race: options failed\n");
            return 1;
        }
        if (zc_new(opts, &zc) != ZC_OK) {
            char detail[256];
            zc_options_last_error(opts, detail, sizeof detail);
            fprintf(stderr, "close_race: zc_new: %s\n", detail);
            zc_options_free(opts);
            return 1;
        }
        zc_options_free(opts);
        entered = 0;
        memset(results, 0, sizeof results);
        for (long i = 0; i < THREADS; i++)
            pthread_create(&t[i], NULL, worker, (void *)i);
        pthread_mutex_lock(&lock);
        while (entered < THREADS)
            pthread_cond_wait(&changed, &lock);
        pthread_mutex_unlock(&lock);
        /* let them get deep into their calls (lookups into their waits
         * between attempts, which double from 0.1 s) */
        nanosleep(&settle, NULL);
        pthread_create(&c, NULL, closer, NULL);
        for (int i = 0; i < THREADS; i++)
            pthread_join(t[i], NULL);
        pthread_join(c, NULL);
        for (long i = 0; i < THREADS; i++) {
            double late = results[i].end > 0 ? results[i].end - close_start : 0;
            if (results[i].st != ZC_ERR_CLOSED)
                fail(i, "want ZC_ERR_CLOSED", results[i].st);
            if (late > worst)
                worst = late;
            if (late > bound) {
                pthread_mutex_lock(&lock);
                fprintf(stderr, "close_race: round %d thread %ld returned %.1f ms after the close began (bound %.0f)\n",
                        round, i, late, bound);
                failures++;
                pthread_mutex_unlock(&lock);
            }
        }
    }
    printf("close_race: slowest return after the close: %.1f ms (bound %.0f)\n", worst, bound);
    if (failures) {
        fprintf(stderr, "close_race: %d failure(s)\n", failures);
        return 1;
    }
    printf("close_race: all checks passed\n");
    return 0;
}
