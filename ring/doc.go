// Package ring will hold a generic disruptor-style ring buffer: many
// producers claim slots with one atomic add, one consumer drains everything
// available in one pass, with pluggable wait strategies.
//
// Not implemented yet (issue 3).
package ring
