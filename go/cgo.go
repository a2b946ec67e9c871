package ironicmdns

// The C library comes from pkg-config (ironicmdns.pc, installed by `make
// install`, or the one scripts/tests.d/30-go.sh writes for this tree).
// Build with `-tags ironicmdns_static` to link libironicmdns.a into the
// binary instead of loading libironicmdns.so.0 at run time.

/*
#cgo !ironicmdns_static pkg-config: ironicmdns
#cgo ironicmdns_static pkg-config: --static ironicmdns
#cgo ironicmdns_static LDFLAGS: -Wl,-Bstatic -lironicmdns -Wl,-Bdynamic -Wl,--as-needed
#include <stdint.h>
#include <stdlib.h>
#include <ironicmdns.h>

extern void ironicmdnsGoLog(int level, char *message, uintptr_t handle);

// The library hands back the user pointer it was given; it holds the
// cgo.Handle value (an integer, never a Go pointer), which goes to Go as
// the integer it is.
static void ironicmdns_log_trampoline(int level, const char *message, void *user) {
	ironicmdnsGoLog(level, (char *)message, (uintptr_t)user);
}

static zc_status ironicmdns_set_log(uintptr_t handle) {
	if (handle == 0) {
		return zc_set_log_callback(NULL, NULL);
	}
	return zc_set_log_callback(ironicmdns_log_trampoline, (void *)handle);
}
*/
import "C"

import "runtime/cgo"

func setLog(h cgo.Handle) C.zc_status { return C.ironicmdns_set_log(C.uintptr_t(h)) }
