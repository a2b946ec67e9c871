/*
 * lookup: find an OpenStack service over mDNS and print its endpoint.
 *
 *   lookup [--interface IP] [-o NAME=VALUE]... TYPE
 *   lookup -o lookup_attempts=1 -o lookup_timeout=0.5 baremetal
 *
 * Prints the URL on the first line, then one property per line: KEY=VALUE,
 * or KEY alone for a property without value (bytes that are not printable
 * ASCII are written \xNN). Exits 0 when found, 1 when not found, 2 on any
 * other failure, with the reason on stderr. Without options it is the
 * one-shot zc_lookup (all defaults); with options, zc_lookup_with_options.
 * Build: cc lookup.c $(pkg-config --cflags --libs ironicmdns)
 */
#include <ironicmdns.h>

#include <stdio.h>
#include <string.h>

static int usage(void) {
    fprintf(stderr, "usage: lookup [--interface IP] [-o NAME=VALUE]... TYPE\n");
    return 2;
}

static int set_option(zc_options *opts, const char *name, const char *value) {
    zc_status st = zc_options_set(opts, name, value);
    if (st != ZC_OK) {
        char detail[512];
        zc_options_last_error(opts, detail, sizeof detail);
        fprintf(stderr, "lookup: option %s: %s (%s)\n", name, zc_strerror(st), detail);
        return 1;
    }
    return 0;
}

static void print_bytes(const char *p, size_t n) {
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[k];
        if (c >= 0x20 && c < 0x7f && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

int main(int argc, char **argv) {
    zc_options *opts = NULL;
    zc_props *props = NULL;
    char *url = NULL;
    char detail[512];
    int i = 1, rc = 2;
    zc_status st;

    if (zc_options_new(&opts) != ZC_OK) {
        fprintf(stderr, "lookup: out of memory\n");
        return 2;
    }
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--interface") == 0 && i + 1 < argc) {
            if (set_option(opts, "interfaces", argv[++i]))
                goto out;
        } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            char *eq = strchr(argv[++i], '=');
            if (!eq) {
                rc = usage();
                goto out;
            }
            *eq = '\0';
            if (set_option(opts, argv[i], eq + 1))
                goto out;
        } else {
            rc = usage();
            goto out;
        }
    }
    if (argc - i != 1) {
        rc = usage();
        goto out;
    }

    if (i == 1) {
        st = zc_lookup(argv[i], &url, &props);
        if (st != ZC_OK)
            zc_last_error(NULL, detail, sizeof detail); /* this thread's detail */
    } else {
        st = zc_lookup_with_options(opts, argv[i], &url, &props);
        if (st != ZC_OK)
            zc_options_last_error(opts, detail, sizeof detail);
    }
    if (st != ZC_OK) {
        fprintf(stderr, "lookup: %s: %s (%s)\n", argv[i], zc_strerror(st), detail);
        rc = st == ZC_ERR_NOT_FOUND ? 1 : 2;
        goto out;
    }
    printf("%s\n", url);
    for (size_t k = 0; k < zc_props_count(props); k++) {
        const char *key, *value;
        size_t len;
        int has_value;
        if (zc_props_get_at(props, k, &key, &value, &len, &has_value) != ZC_OK)
            break;
        fputs(key, stdout);
        if (has_value) {
            putchar('=');
            print_bytes(value, len);
        }
        putchar('\n');
    }
    rc = 0;
out:
    zc_string_free(url);
    zc_props_free(props);
    zc_options_free(opts);
    return rc;
}
