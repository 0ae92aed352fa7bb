package fastpool

import (
	"context"
	"net/http"

	"github.com/valyala/fasthttp"
)

// Response is what Get, Post, Put and Delete return. It owns copies of
// everything it holds, so it stays valid after later calls.
type Response struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Header holds the response headers (canonical keys). Content-Encoding
	// is removed when the body was decompressed.
	Header http.Header
	// Body is the decompressed body.
	Body []byte
}

// Get sends a GET (idempotent: retried per Config). On a non-2xx status it
// returns the Response and a *StatusError.
func (p *Pool) Get(ctx context.Context, url string, body []byte) (*Response, error) {
	return p.simple(ctx, fasthttp.MethodGet, url, body)
}

// Post sends a POST with Content-Type application/json. POST is not
// idempotent: it is re-sent only when it provably never reached the server.
// Use Do with WithIdempotent to allow more.
func (p *Pool) Post(ctx context.Context, url string, body []byte) (*Response, error) {
	return p.simple(ctx, fasthttp.MethodPost, url, body)
}

// Put sends a PUT with Content-Type application/json (idempotent).
func (p *Pool) Put(ctx context.Context, url string, body []byte) (*Response, error) {
	return p.simple(ctx, fasthttp.MethodPut, url, body)
}

// Delete sends a DELETE (idempotent); body may be nil.
func (p *Pool) Delete(ctx context.Context, url string, body []byte) (*Response, error) {
	return p.simple(ctx, fasthttp.MethodDelete, url, body)
}

func (p *Pool) simple(ctx context.Context, method, url string, body []byte) (*Response, error) {
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI(url)
	if body != nil {
		req.SetBody(body)
		req.Header.SetContentType("application/json")
	}
	err := p.Do(ctx, req, resp)
	if err != nil {
		if _, ok := err.(*StatusError); !ok {
			return nil, err
		}
	}
	out := &Response{
		StatusCode: resp.StatusCode(),
		Header:     make(http.Header),
		Body:       append([]byte(nil), resp.Body()...),
	}
	for k, v := range resp.Header.All() {
		out.Header.Add(string(k), string(v))
	}
	return out, err
}
