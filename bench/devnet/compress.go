package devnet

import (
	"bytes"

	"github.com/batchring/batchring/codec"
)

// pickEncoding reads Accept-Encoding and returns the coding to answer with:
// zstd if listed, else gzip if listed, else "" (identity). q-values are not
// weighed (a client that lists a coding accepts it); a coding listed with
// q=0 is still taken, which no client in this project sends.
func pickEncoding(accept []byte) string {
	switch {
	case bytes.Contains(accept, []byte(codec.EncodingZstd)):
		return codec.EncodingZstd
	case bytes.Contains(accept, []byte(codec.EncodingGzip)):
		return codec.EncodingGzip
	}
	return ""
}
