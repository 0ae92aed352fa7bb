// Command loadgen measures how fast a JSON-RPC 2.0 node — an Accumulate
// network, your own node, or the local stand-in (cmd/devnet) — answers a
// workload, and how much batching buys: latency percentiles from intended
// send times (open loop, no coordinated omission) or at fixed concurrency
// (closed loop), throughput, errors by kind, a JSON result, an .hgrm
// percentile file and a plot.
//
//	loadgen --target local --mode compare --duration 10s --plot out/plot.png
//	loadgen --target http://127.0.0.1:26660/v3 --rate 2000 --duration 30s --out run.json
//	loadgen --target kermit --rate 5            # someone else's node: be gentle
//	loadgen report a.json b.json --plot all.png # merge results from several machines
//
// Run loadgen -h for every flag.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first Ctrl-C loadgen stops sending and prints what it
		// measured; a second one kills it at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, isTerminal(os.Stderr))
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit code and prints every
// failure as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, tty bool) int {
	var err error
	if len(args) > 0 && args[0] == "report" {
		err = runReport(args[1:], stdout, stderr)
	} else {
		err = runLoad(ctx, args, stdout, stderr, tty)
	}
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "loadgen: %v (see loadgen -h)\n", err)
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "loadgen: interrupted")
		return exitInterrupted
	default:
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return exitFailure
	}
}

// errUsage marks a bad command line.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
func (e usageError) Is(target error) bool {
	return target == errUsage
}

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }
