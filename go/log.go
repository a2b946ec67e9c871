package ironicmdns

/*
#include <ironicmdns.h>
*/
import "C"

import (
	"runtime/cgo"
	"sync"
)

// LogLevel is the level of a library log message.
type LogLevel int

// Log levels (ZC_LOG_*).
const (
	LogDebug   LogLevel = C.ZC_LOG_DEBUG
	LogWarning LogLevel = C.ZC_LOG_WARNING
	LogError   LogLevel = C.ZC_LOG_ERROR
)

var logMu sync.Mutex

//export ironicmdnsGoLog
func ironicmdnsGoLog(level C.int, message *C.char, handle C.uintptr_t) {
	f := cgo.Handle(handle).Value().(func(LogLevel, string))
	f(LogLevel(level), C.GoString(message))
}

// SetLogFunc sends the library's log messages, every level, to f (nil:
// back to the default, warnings and errors on stderr). Process-wide. f is
// called from library threads as well as from calling goroutines, maybe
// several at once, and must not call back into this package. Each
// replaced f stays referenced (a few bytes) so that a message in flight
// never reaches a released handle.
func SetLogFunc(f func(level LogLevel, message string)) {
	logMu.Lock()
	defer logMu.Unlock()
	if f == nil {
		setLog(0)
		return
	}
	setLog(cgo.NewHandle(f))
}
