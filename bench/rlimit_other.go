//go:build !unix

package bench

import "math"

// RaiseFileLimit does nothing where there is no RLIMIT_NOFILE and reports no
// limit.
func RaiseFileLimit(want uint64) (uint64, error) { return math.MaxUint64, nil }
