// Package bench will hold the load-generation engine (open and closed loop,
// HDR histograms, reports) used by cmd/loadgen and the end-to-end benchmarks.
//
// Not implemented yet (issue 8).
package bench
