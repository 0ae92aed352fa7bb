package devnet

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// encoding is a response content coding the server can apply.
type encoding uint8

const (
	encIdentity encoding = iota
	encGzip
	encZstd
)

// pickEncoding reads Accept-Encoding: zstd if listed, else gzip if listed.
// q-values are not weighed (a client that lists a coding accepts it); a
// coding listed with q=0 is still taken, which no client in this project
// sends.
func pickEncoding(accept []byte) encoding {
	switch {
	case bytes.Contains(accept, []byte("zstd")):
		return encZstd
	case bytes.Contains(accept, []byte("gzip")):
		return encGzip
	}
	return encIdentity
}

// compressor holds pooled encoders. The zstd encoder is used only through
// EncodeAll, which is safe for concurrent use and starts no goroutines.
type compressor struct {
	gz   sync.Pool // *gzip.Writer
	zstd *zstd.Encoder
}

func newCompressor() (*compressor, error) {
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	return &compressor{zstd: z}, nil
}

// appendCompressed appends src encoded with e to dst.
func (c *compressor) appendCompressed(dst, src []byte, e encoding) []byte {
	switch e {
	case encZstd:
		return c.zstd.EncodeAll(src, dst)
	case encGzip:
		buf := bytes.NewBuffer(dst)
		w, _ := c.gz.Get().(*gzip.Writer)
		if w == nil {
			w, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed)
		} else {
			w.Reset(buf)
		}
		_, _ = w.Write(src) // a bytes.Buffer does not fail
		_ = w.Close()
		c.gz.Put(w)
		return buf.Bytes()
	}
	return append(dst, src...)
}

func (c *compressor) close() { _ = c.zstd.Close() }
