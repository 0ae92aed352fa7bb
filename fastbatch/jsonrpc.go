package fastbatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/batchring/batchring/codec"
	"github.com/batchring/batchring/fastpool"
)

// JSONRPCClient is the plain, unbatched JSON-RPC 2.0 client: Call sends one
// call, Batch sends the calls it is given as one HTTP request. It shares
// Client's decoding, retry and split rules (a batch the server refuses as a
// whole is split and re-sent; writes are re-sent only when provably unsent)
// but has no queue, no dedup and no goroutines of its own. Safe for
// concurrent use.
type JSONRPCClient struct {
	snd     *sender
	owned   *fastpool.Pool
	cancel  context.CancelFunc
	workers sync.Pool
	close   sync.Once
}

// NewJSONRPCClient returns a client for cfg.Endpoint; of cfg it uses
// Endpoint, IsWrite, MaxBatchSize (0 = no limit) and the retry settings. A
// nil pool means a private fastpool.Pool closed by Close.
func NewJSONRPCClient(cfg Config, pool Doer) (*JSONRPCClient, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set := cfg.settings()
	j := &JSONRPCClient{}
	if pool == nil {
		p, err := fastpool.New(fastpool.Config{})
		if err != nil {
			return nil, fmt.Errorf("fastbatch: private pool: %w", err)
		}
		if err := p.Start(); err != nil {
			return nil, fmt.Errorf("fastbatch: private pool: %w", err)
		}
		j.owned = p
		pool = p
	}
	lifeCtx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	j.snd = &sender{
		pool:     pool,
		set:      &set,
		endpoint: []byte(set.endpoint),
		counters: newShardedCounters(),
		lifeCtx:  lifeCtx,
		start:    time.Now(),
		idemOpts: []fastpool.RequestOption{fastpool.WithIdempotent()},
	}
	if cfg.MaxBatchSize > 0 {
		j.snd.learned.Store(int64(cfg.MaxBatchSize))
	}
	j.workers.New = func() any { return newWorker(j.snd, nil) }
	return j, nil
}

// Call sends one call and decodes its result into result (nil discards it).
// Errors are as for Client.Submit.
func (j *JSONRPCClient) Call(ctx context.Context, method string, params, result any) error {
	res, err := j.Batch(ctx, []Request{{Method: method, Params: params}})
	if err != nil {
		return err
	}
	if res[0].Err != nil {
		return res[0].Err
	}
	return unmarshalResult(res[0].Result, result)
}

// Batch sends reqs as one JSON-RPC batch request and returns one Result
// per request, in request order. It sends more than one request when reqs
// holds more than Config.MaxBatchSize calls (chunks of that size, in
// order), or when the server refuses a batch as a whole and it has to be
// split; a batch limit learned that way lowers the chunk size for the
// client's lifetime (JSONRPCClient has no LearnedLimitTTL). The error is
// non-nil only for a closed client (ErrStopped) or a ctx that ended before
// anything was sent; per-call failures are in the Results.
func (j *JSONRPCClient) Batch(ctx context.Context, reqs []Request) ([]Result, error) {
	if j.snd.lifeCtx.Err() != nil {
		return nil, ErrStopped
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxError(err)
	}
	results := make([]Result, len(reqs))
	calls := make([]*call, 0, len(reqs))
	index := make([]int, 0, len(reqs))
	for i, r := range reqs {
		p, err := codec.EncodeParams(r.Params)
		if err != nil {
			results[i].Err = fmt.Errorf("fastbatch: %s: encode params: %w", r.Method, err)
			continue
		}
		cl := getCall()
		cl.ctx = ctx
		cl.method = r.Method
		cl.params = p
		cl.write = j.snd.set.isWrite(r.Method)
		cl.idempotent = r.Idempotent
		calls = append(calls, cl)
		index = append(index, i)
	}
	if len(calls) > 0 {
		// The worker reorders its slice while it works; keep our own order.
		work := append([]*call(nil), calls...)
		// Requests end when the caller's ctx or Close does: this runs on
		// the caller's goroutine, so nothing else could return it early.
		base, cancel := context.WithCancel(ctx)
		stopWatch := context.AfterFunc(j.snd.lifeCtx, cancel)
		w := j.workers.Get().(*worker)
		w.base = base
		w.process(work)
		w.base = nil
		j.workers.Put(w)
		stopWatch()
		cancel()
		for k, cl := range calls {
			// Every call is resolved by now; wait only collects it.
			res, err := cl.wait(context.Background())
			results[index[k]] = Result{Result: res, Err: err}
		}
	}
	return results, nil
}

// Close cancels requests in flight and closes the private pool, if any;
// later calls return ErrStopped. It
// is idempotent.
func (j *JSONRPCClient) Close() error {
	var err error
	j.close.Do(func() {
		j.cancel()
		if j.owned != nil {
			err = j.owned.Close()
		}
	})
	return err
}
