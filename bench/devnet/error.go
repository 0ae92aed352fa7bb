package devnet

import "strconv"

// Error is a JSON-RPC error object as the server sends it.
type Error struct {
	Code    int
	Message string
	Data    []byte // raw JSON; nil when absent
}

// Error implements error.
func (e *Error) Error() string {
	return "devnet: json-rpc error " + strconv.Itoa(e.Code) + ": " + e.Message
}

func (e *rpcError) export() *Error {
	out := &Error{Code: e.code, Message: e.message}
	if e.data != nil {
		out.Data = append([]byte(nil), e.data...)
	}
	return out
}
