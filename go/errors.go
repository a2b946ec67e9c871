package ironicmdns

/*
#include <ironicmdns.h>
*/
import "C"

import "errors"

// Sentinels, one per status of the C library, for errors.Is. ErrLookup
// matches every lookup failure (ErrNotFound, ErrNoValidAddress, ErrDecode)
// and ErrRegistration a name conflict as well.
var (
	ErrInvalidArgument = errors.New("invalid argument")
	ErrRegistration    = errors.New("registration failed")
	ErrNameConflict    = errors.New("registration failed: name conflict")
	ErrLookup          = errors.New("lookup failed")
	ErrNotFound        = errors.New("not found")
	ErrNoValidAddress  = errors.New("no valid address")
	ErrDecode          = errors.New("cannot decode")
	ErrIO              = errors.New("I/O error")
	ErrClosed          = errors.New("closed")
	ErrPoisoned        = errors.New("poisoned")
	ErrInternal        = errors.New("internal error")
	ErrAuth            = errors.New("unauthenticated DNS answer")
	// ErrCancelled: the call's cancel token was triggered. The package
	// triggers it when the call's context ends and returns ctx.Err() then,
	// so callers see it only from calls cancelled some other way.
	ErrCancelled = errors.New("cancelled")
)

var sentinels = map[int]error{
	int(C.ZC_ERR_INVALID_ARGUMENT): ErrInvalidArgument,
	int(C.ZC_ERR_REGISTRATION):     ErrRegistration,
	int(C.ZC_ERR_NAME_CONFLICT):    ErrNameConflict,
	int(C.ZC_ERR_NOT_FOUND):        ErrNotFound,
	int(C.ZC_ERR_NO_VALID_ADDRESS): ErrNoValidAddress,
	int(C.ZC_ERR_DECODE):           ErrDecode,
	int(C.ZC_ERR_IO):               ErrIO,
	int(C.ZC_ERR_CLOSED):           ErrClosed,
	int(C.ZC_ERR_POISONED):         ErrPoisoned,
	int(C.ZC_ERR_INTERNAL):         ErrInternal,
	int(C.ZC_ERR_AUTH):             ErrAuth,
	int(C.ZC_ERR_CANCELLED):        ErrCancelled,
}

// Error is a failed call: Status is the library's ZC_ERR_* code, Detail its
// text (read from the handle or options the call was given; when several
// goroutines fail on one handle at once, the text may be another's, the
// Status never is).
type Error struct {
	Op     string
	Status int
	Detail string
}

func newError(op string, st C.zc_status, detail string) *Error {
	if detail == "" {
		detail = C.GoString(C.zc_strerror(st))
	}
	return &Error{Op: op, Status: int(st), Detail: detail}
}

func (e *Error) Error() string { return "ironicmdns: " + e.Op + ": " + e.Detail }

// Is makes errors.Is(err, ErrNotFound) and friends work.
func (e *Error) Is(target error) bool {
	s := sentinels[e.Status]
	switch {
	case s == nil:
		return false
	case target == s:
		return true
	case target == ErrLookup:
		return s == ErrNotFound || s == ErrNoValidAddress || s == ErrDecode
	case target == ErrRegistration:
		return s == ErrNameConflict
	case target == ErrClosed:
		return s == ErrPoisoned
	}
	return false
}
