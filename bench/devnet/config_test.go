package devnet

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"negative latency", Config{Misbehaviour: Misbehaviour{Latency: -time.Second}}, "Latency"},
		{"negative per-call latency", Config{Misbehaviour: Misbehaviour{LatencyPerCall: -1}}, "LatencyPerCall"},
		{"jitter too large", Config{Misbehaviour: Misbehaviour{LatencyJitter: 5}}, "LatencyJitter"},
		{"jitter NaN", Config{Misbehaviour: Misbehaviour{LatencyJitter: math.NaN()}}, "LatencyJitter"},
		{"negative batch size", Config{Misbehaviour: Misbehaviour{MaxBatchSize: -1}}, "MaxBatchSize"},
		{"unknown style", Config{Misbehaviour: Misbehaviour{BatchLimit: 9}}, "BatchLimit"},
		{"negative response size", Config{Misbehaviour: Misbehaviour{MaxResponseBytes: -1}}, "MaxResponseBytes"},
		{"fraction above 1", Config{Misbehaviour: Misbehaviour{RateLimitFraction: 1.5}}, "RateLimitFraction"},
		{"negative fraction", Config{Misbehaviour: Misbehaviour{MissingFraction: -0.1}}, "MissingFraction"},
		{"NaN fraction", Config{Misbehaviour: Misbehaviour{DropAfterFraction: math.NaN()}}, "DropAfterFraction"},
		{"negative rate", Config{Misbehaviour: Misbehaviour{RateLimitPerSecond: -1}}, "RateLimitPerSecond"},
		{"negative compress minimum", Config{Misbehaviour: Misbehaviour{CompressMinBytes: -1}}, "CompressMinBytes"},
		{"negative body limit", Config{MaxRequestBodyBytes: -1}, "MaxRequestBodyBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("Validate: %v, want ErrInvalidConfig naming %s", err, tt.field)
			}
			if _, err := Start(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Start: %v", err)
			}
		})
	}
	var zero Config
	if err := zero.Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
}

func TestSetMisbehaviourValidates(t *testing.T) {
	s := startServer(t, Config{Misbehaviour: Misbehaviour{MaxBatchSize: 3}})
	if err := s.SetMisbehaviour(Misbehaviour{ReorderFraction: 2}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("SetMisbehaviour: %v", err)
	}
	if err := s.Update(func(m *Misbehaviour) { m.Latency = -1 }); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Update: %v", err)
	}
	if got := s.Misbehaviour(); got.MaxBatchSize != 3 || got.ReorderFraction != 0 {
		t.Fatalf("a refused change was applied: %+v", got)
	}
	if err := s.SetMisbehaviour(Misbehaviour{}); err != nil {
		t.Fatal(err)
	}
	if got := s.Misbehaviour(); got != (Misbehaviour{}) {
		t.Fatalf("after SetMisbehaviour(zero): %+v", got)
	}
}

func TestBatchLimitStyleNames(t *testing.T) {
	for st := LimitWholeBatch; st <= LimitClose; st++ {
		got, err := ParseBatchLimitStyle(st.String())
		if err != nil || got != st {
			t.Fatalf("%v round-trips to %v, %v", st, got, err)
		}
	}
	if _, err := ParseBatchLimitStyle("nginx"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("unknown style: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	s := startServer(t, Config{})
	if _, err := Start(Config{Addr: s.Addr().String()}); err == nil {
		t.Fatal("second server on a taken port started")
	}
}

func TestRequestBodyLimit(t *testing.T) {
	s := startServer(t, Config{MaxRequestBodyBytes: 100})
	body, _ := batchBody(t, 5)
	if r := post(t, s, "/v3", body); r.status != 413 {
		t.Fatalf("status %d for a %d-byte body over a 100-byte limit, want 413", r.status, len(body))
	}
	if r := post(t, s, "/v3", `{"jsonrpc":"2.0","id":1,"method":"version"}`); r.status != 200 {
		t.Fatalf("status %d for a small body", r.status)
	}
}
