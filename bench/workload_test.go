package bench

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestReadWorkload(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		ops     int
		wantErr bool
	}{
		{"one op per line with comments and blanks", "# mix\n{\"method\":\"query\",\"params\":{\"scope\":\"acc://a\"},\"weight\":3,\"priority\":1}\n\n{\"method\":\"node-info\"}\n", 2, false},
		{"params may be an array", `{"method":"m","params":[1,2]}`, 1, false},
		{"missing method is refused", `{"params":{}}`, 0, true},
		{"unknown field is refused", `{"method":"m","wieght":2}`, 0, true},
		{"negative weight is refused", `{"method":"m","weight":-1}`, 0, true},
		{"scalar params are refused", `{"method":"m","params":3}`, 0, true},
		{"two values on a line are refused", `{"method":"m"} {"method":"n"}`, 0, true},
		{"not JSON is refused", `method=query`, 0, true},
		{"empty file is refused", "# nothing\n", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ReadWorkload(strings.NewReader(tc.in))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("no error for %q", tc.in)
				}
				if !errors.Is(err, ErrBadOp) && !errors.Is(err, ErrEmptyWorkload) {
					t.Fatalf("error %v is neither ErrBadOp nor ErrEmptyWorkload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(w.Ops()); got != tc.ops {
				t.Fatalf("%d ops, want %d", got, tc.ops)
			}
		})
	}
}

func TestWorkloadPickFollowsWeights(t *testing.T) {
	w, err := NewWorkload([]Op{{Method: "a", Weight: 1}, {Method: "b", Weight: 0}, {Method: "c", Weight: 2}})
	if err != nil {
		t.Fatal(err)
	}
	// Weight 0 means 1: total 4, a in [0,1), b in [1,2), c in [2,4).
	for _, tc := range []struct {
		u    float64
		want string
	}{{0, "a"}, {0.2499, "a"}, {0.25, "b"}, {0.49, "b"}, {0.5, "c"}, {0.9999, "c"}} {
		if got := w.pick(tc.u).Method; got != tc.want {
			t.Errorf("pick(%v) = %s, want %s", tc.u, got, tc.want)
		}
	}
	if m := w.Methods(); len(m) != 3 || m[0] != "a" {
		t.Fatalf("methods %v", m)
	}
}

func TestBuiltinMix(t *testing.T) {
	for _, api := range []string{"v2", "v3"} {
		w, err := BuiltinMix(api)
		if err != nil {
			t.Fatal(err)
		}
		if len(w.Bands()) != 2 || len(w.Methods()) < 3 {
			t.Fatalf("%s: bands %v methods %v", api, w.Bands(), w.Methods())
		}
	}
	if _, err := BuiltinMix("v9"); err == nil {
		t.Fatal("v9 accepted")
	}
}

func TestNewWorkloadRejectsNaN(t *testing.T) {
	if _, err := NewWorkload([]Op{{Method: "a", Weight: math.NaN()}}); !errors.Is(err, ErrBadOp) {
		t.Fatalf("NaN weight: %v", err)
	}
	if _, err := NewWorkload([]Op{{Method: "a", Weight: math.MaxFloat64}, {Method: "b", Weight: math.MaxFloat64}}); !errors.Is(err, ErrBadOp) {
		t.Fatalf("infinite total: %v", err)
	}
}

func FuzzReadWorkload(f *testing.F) {
	f.Add("{\"method\":\"query\",\"params\":{\"scope\":\"acc://a\"},\"weight\":3,\"priority\":1}\n{\"method\":\"node-info\"}\n")
	f.Add("# c\n\n{\"method\":\"m\",\"params\":[1]}")
	f.Add(`{"method":"m","weight":1e308}` + "\n" + `{"method":"m","weight":1e308}`)
	f.Add(`{"method":"","params":null}`)
	f.Fuzz(func(t *testing.T, in string) {
		w, err := ReadWorkload(strings.NewReader(in))
		if err != nil {
			return
		}
		ops := w.Ops()
		if len(ops) == 0 {
			t.Fatal("workload without ops accepted")
		}
		for _, u := range []float64{0, 0.5, 0.999999} {
			op := w.pick(u)
			if op.Method == "" || op.Weight <= 0 {
				t.Fatalf("picked %+v", op)
			}
		}
	})
}

func TestResolveTarget(t *testing.T) {
	for _, tc := range []struct {
		target, api string
		url, gotAPI string
		loopback    bool
		wantErr     bool
	}{
		{"local", "", "http://127.0.0.1:26660/v3", "v3", true, false},
		{"local", "v2", "http://127.0.0.1:26660/v2", "v2", true, false},
		{"kermit", "", "https://kermit.accumulatenetwork.io/v3", "v3", false, false},
		{"testnet", "v2", "https://kermit.accumulatenetwork.io/v2", "v2", false, false},
		{"mainnet", "", "https://mainnet.accumulatenetwork.io/v3", "v3", false, false},
		{"fozzie", "", "https://fozzie.accumulatenetwork.io/v3", "v3", false, false},
		{"http://127.0.0.1:9/v2", "", "http://127.0.0.1:9/v2", "v2", true, false},
		{"http://localhost:9/", "", "http://localhost:9/v3", "v3", true, false},
		{"http://[::1]:9/rpc", "", "http://[::1]:9/rpc", "v3", true, false},
		{"https://node.example/v3", "", "https://node.example/v3", "v3", false, false},
		{"http://127.0.0.1:9/v2", "v3", "", "", false, true},
		{"ftp://x/v3", "", "", "", false, true},
		{"nowhere", "", "", "", false, true},
		{"local", "v4", "", "", false, true},
		{"http://x/v3?a=b", "", "", "", false, true},
	} {
		t.Run(tc.target+"/"+tc.api, func(t *testing.T) {
			got, err := ResolveTarget(tc.target, tc.api)
			if tc.wantErr {
				if !errors.Is(err, ErrBadTarget) {
					t.Fatalf("err %v, want ErrBadTarget", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != tc.url || got.API != tc.gotAPI || got.Loopback != tc.loopback {
				t.Fatalf("got %+v", got)
			}
		})
	}
}
