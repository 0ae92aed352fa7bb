package devnet

import (
	"bytes"
	"strconv"

	"github.com/batchring/batchring/codec"
)

// pickEncoding reads Accept-Encoding and returns the coding to answer with:
// zstd if the client accepts it, else gzip if it accepts that, else ""
// (identity). Codings are matched case-insensitively (RFC 9110 §8.4.1), and
// a coding the client refuses with q=0 is not used (RFC 9110 §12.5.3:
// "gzip;q=0" means "not gzip"). Other q-values are not weighed: the server
// prefers zstd among the codings a client accepts, as a server may.
func pickEncoding(accept []byte) string {
	zstd, gzip := false, false
	for len(accept) > 0 {
		var item []byte
		if i := bytes.IndexByte(accept, ','); i >= 0 {
			item, accept = accept[:i], accept[i+1:]
		} else {
			item, accept = accept, nil
		}
		name, params, _ := bytes.Cut(item, []byte(";"))
		name = bytes.TrimSpace(name)
		if refused(params) {
			continue
		}
		switch {
		case bytes.EqualFold(name, []byte(codec.EncodingZstd)):
			zstd = true
		case bytes.EqualFold(name, []byte(codec.EncodingGzip)), bytes.EqualFold(name, []byte("x-gzip")):
			gzip = true
		}
	}
	switch {
	case zstd:
		return codec.EncodingZstd
	case gzip:
		return codec.EncodingGzip
	}
	return ""
}

// refused reports whether a coding's parameters carry a q-value of 0.
func refused(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		if i := bytes.IndexByte(params, ';'); i >= 0 {
			p, params = params[:i], params[i+1:]
		} else {
			p, params = params, nil
		}
		k, v, ok := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			continue
		}
		q, err := strconv.ParseFloat(string(bytes.TrimSpace(v)), 64)
		return err == nil && q <= 0
	}
	return false
}
