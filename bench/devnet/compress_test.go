package devnet

import "testing"

func TestPickEncoding(t *testing.T) {
	for _, tc := range []struct{ accept, want string }{
		{"", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"zstd", "zstd"},
		{"gzip, deflate, br, zstd", "zstd"},
		{"GZIP", "gzip"},
		{"gzip;q=0.5", "gzip"},
		{"zstd;q=0, gzip", "gzip"},
		{"zstd; q=0.000, gzip;q=0", ""},
		{"gzip;q=0", ""},
		{"x-gzip", "gzip"},
		{"notzstd, gzipper", ""},
	} {
		if got := pickEncoding([]byte(tc.accept)); got != tc.want {
			t.Errorf("Accept-Encoding %q: answered %q, want %q", tc.accept, got, tc.want)
		}
	}
}
