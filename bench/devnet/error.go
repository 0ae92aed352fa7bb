package devnet

import "github.com/batchring/batchring/codec"

// Error is the JSON-RPC error object type Expected returns: codec.Error, so
// tests compare what a client decoded with what the server sent directly.
type Error = codec.Error

func (e *rpcError) export() *Error {
	out := &Error{Code: e.code, Message: e.message}
	if e.data != nil {
		out.Data = append([]byte(nil), e.data...)
	}
	return out
}
