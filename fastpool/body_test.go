package fastpool

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
)

// serveRaw answers every connection's first request with answer, then
// closes it.
func serveRaw(t *testing.T, answer []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var req fasthttp.Request
			if err := req.Read(bufio.NewReader(c)); err == nil {
				_, _ = c.Write(answer)
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestLyingLengthDoesNotAllocateClaim: a server claims a 32 MiB body (in
// Content-Length, or as one chunk size), sends 1 KiB and closes. The
// request fails, and the client must not have allocated anything near the
// claim (fasthttp's ReadLimitBody allocates it as soon as the header is
// read: 3.2 GiB for 100 such connections).
func TestLyingLengthDoesNotAllocateClaim(t *testing.T) {
	const claim = 32 << 20
	junk := strings.Repeat("x", 1024)
	for _, tc := range []struct{ name, answer string }{
		{"content-length", fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", claim, junk)},
		{"chunk size", fmt.Sprintf("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s", claim, junk)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := serveRaw(t, []byte(tc.answer))
			p := newPool(t, Config{MaxRetries: -1}) // MaxResponseBodySize: the 32 MiB default
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url + "/")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := p.Do(context.Background(), req, resp)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("want an unexpected-EOF error, got %v", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Fatalf("allocated %d bytes for a %d-byte claim with 1 KiB sent; want < 1 MiB", got, claim)
			}
		})
	}
}

// TestBodyFramings reads bodies of every framing through the growing
// reader: large fixed-length, many chunks with an extension and a trailer,
// connection-close delimited, and the limit on each.
func TestBodyFramings(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB
	srv := startNet(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fixed":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			_, _ = w.Write(big)
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			for i := 0; i < len(big); i += 100_000 {
				_, _ = w.Write(big[i:min(i+100_000, len(big))])
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "ok")
		}
	})
	p := newPool(t, Config{})
	small := newPool(t, Config{MaxResponseBodySize: 1 << 20, MaxRetries: -1})
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for _, path := range []string{"/fixed", "/chunked"} {
		req.SetRequestURI(srv.URL + path)
		if err := p.Do(context.Background(), req, resp); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !bytes.Equal(resp.Body(), big) {
			t.Fatalf("%s: body %d bytes differs", path, len(resp.Body()))
		}
		if err := small.Do(context.Background(), req, resp); !errors.Is(err, ErrBodyTooLarge) {
			t.Fatalf("%s over the limit: want ErrBodyTooLarge, got %v", path, err)
		}
	}
	ext := serveRaw(t, []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"))
	req.SetRequestURI(ext + "/")
	if err := p.Do(context.Background(), req, resp); err != nil || string(resp.Body()) != "abcde" {
		t.Fatalf("chunk extension and trailer: %v %q", err, resp.Body())
	}
	closeDelim := serveRaw(t, []byte("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close"))
	req.SetRequestURI(closeDelim + "/")
	if err := p.Do(context.Background(), req, resp); err != nil || string(resp.Body()) != "until close" {
		t.Fatalf("close-delimited: %v %q", err, resp.Body())
	}
}

// FuzzReadResponse: responses come from the network. The growing reader
// must never panic, never accept more than the limit, and agree with
// fasthttp's ReadLimitBody whenever both accept an input.
func FuzzReadResponse(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 ;x\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\nidentity body",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	} {
		f.Add([]byte(s), 64)
	}
	f.Fuzz(func(t *testing.T, in []byte, limit int) {
		if limit <= 0 || limit > 1<<20 {
			return
		}
		var ours, theirs fasthttp.Response
		errOurs := readResponse(bufio.NewReader(bytes.NewReader(in)), &ours, limit)
		errTheirs := theirs.ReadLimitBody(bufio.NewReader(bytes.NewReader(in)), limit)
		if errOurs == nil && len(ours.Body()) > limit {
			t.Fatalf("%d body bytes over the %d limit", len(ours.Body()), limit)
		}
		if errOurs == nil && errTheirs == nil && !bytes.Equal(ours.Body(), theirs.Body()) {
			t.Fatalf("bodies differ: %q vs fasthttp %q", ours.Body(), theirs.Body())
		}
	})
}

// A request bigger than the 4 KiB connection buffer (a batch of 40+ calls)
// leaves in one write call, not a buffer's worth and then the rest; one
// over maxWriteBuf still goes out whole, in pieces.
func TestLargeRequestIsOneWrite(t *testing.T) {
	var got atomic.Int64
	srv := startFast(t, func(ctx *fasthttp.RequestCtx) {
		got.Store(int64(len(ctx.PostBody())))
		ctx.SetBodyString("ok")
	})
	defer srv.Stop()
	p := newPool(t, Config{})
	url := "http://" + srv.Addr + "/v3"
	for _, tc := range []struct {
		size       int
		wantWrites func(int) bool
	}{
		{100, func(n int) bool { return n == 1 }},
		{20 << 10, func(n int) bool { return n == 1 }},
		{100 << 10, func(n int) bool { return n == 1 }},
		{maxWriteBuf + 1, func(n int) bool { return n >= 2 }},
	} {
		body := bytes.Repeat([]byte("x"), tc.size)
		before := connWrites(p)
		if status, _, err := doPost(context.Background(), p, url, body); err != nil || status != 200 {
			t.Fatalf("%d-byte body: status %d, %v", tc.size, status, err)
		}
		if got.Load() != int64(tc.size) {
			t.Fatalf("server got %d bytes, sent %d", got.Load(), tc.size)
		}
		if n := connWrites(p) - before; !tc.wantWrites(n) {
			t.Fatalf("%d-byte body took %d write calls", tc.size, n)
		}
	}
}

// connWrites sums the write calls of every open connection of p.
func connWrites(p *Pool) int {
	n := 0
	for _, h := range *p.hosts.Load() {
		h.mu.Lock()
		for c := range h.conns {
			n += c.writes
		}
		h.mu.Unlock()
	}
	return n
}
