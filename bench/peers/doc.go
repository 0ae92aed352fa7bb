// Package peers holds side-by-side benchmarks of batchring against peer
// libraries: Workiva's go-datastructures RingBuffer and buffered channels
// against ring.Ring, and (in endtoend_*_test.go) go-ethereum's rpc.Client
// and a plain net/http + encoding/json client against fastbatch.
//
// It is a separate Go module (bench/peers/go.mod, with a replace directive
// pointing at the repository root) so that heavy peer dependencies never
// enter the main module's go.mod. Run it with `make bench-peers`.
package peers
