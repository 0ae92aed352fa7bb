package codec

import (
	"errors"
	"fmt"
	"testing"
)

func TestNeverExecuted(t *testing.T) {
	tests := []struct {
		code int
		want bool
	}{
		{CodeParseError, true},
		{CodeInvalidRequest, true},
		{CodeMethodNotFound, true},
		{CodeInvalidParams, false},
		{CodeInternalError, false},
		{-32000, false},
		{-32003, false}, // go-ethereum "response too large": sent after execution
		{CodeInvalidResponse, false},
		{-33404, false},
		{0, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			if got := NeverExecuted(tt.code); got != tt.want {
				t.Fatalf("NeverExecuted(%d) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestCodeRanges(t *testing.T) {
	tests := []struct {
		code                     int
		server, general, metrics bool
		protocolStatus           int
		protocol                 bool
	}{
		{code: -32000, server: true},
		{code: -32099, server: true},
		{code: -32100},
		{code: -31999},
		{code: -32800, general: true},
		{code: -32801, general: true},
		{code: -32899, general: true},
		{code: -32900, metrics: true},
		{code: -32999, metrics: true},
		{code: -33000, protocol: true, protocolStatus: 0},
		{code: -33404, protocol: true, protocolStatus: 404},
		{code: -33999, protocol: true, protocolStatus: 999},
		{code: -34000},
		{code: CodeParseError},
		{code: CodeInvalidResponse},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			if got := IsServerError(tt.code); got != tt.server {
				t.Errorf("IsServerError = %v", got)
			}
			if got := IsAccumulateGeneral(tt.code); got != tt.general {
				t.Errorf("IsAccumulateGeneral = %v", got)
			}
			if got := IsAccumulateMetrics(tt.code); got != tt.metrics {
				t.Errorf("IsAccumulateMetrics = %v", got)
			}
			status, ok := ProtocolStatus(tt.code)
			if ok != tt.protocol || status != tt.protocolStatus {
				t.Errorf("ProtocolStatus = %d, %v", status, ok)
			}
			if ok && ProtocolCode(status) != tt.code {
				t.Errorf("ProtocolCode(%d) = %d", status, ProtocolCode(status))
			}
		})
	}
	if CodeProtocolNotFound != -33404 {
		t.Fatalf("CodeProtocolNotFound = %d", CodeProtocolNotFound)
	}
}

func TestErrorMatching(t *testing.T) {
	e := &Error{Code: CodeMethodNotFound, Message: "Method not found", Data: []byte(`"x"`)}
	if got := e.Error(); got != "jsonrpc error -32601: Method not found" {
		t.Fatalf("Error() = %q", got)
	}
	wrapped := fmt.Errorf("fastbatch: call 7: %w", e)
	var target *Error
	if !errors.As(wrapped, &target) || target != e {
		t.Fatal("errors.As must find *Error")
	}
	if !errors.Is(wrapped, &Error{Code: CodeMethodNotFound}) {
		t.Fatal("errors.Is must match an *Error of the same code")
	}
	if errors.Is(wrapped, &Error{Code: CodeInvalidParams}) {
		t.Fatal("errors.Is must not match another code")
	}

	rej := &BatchRejectedError{Err: &Error{Code: CodeInvalidRequest, Message: "batch too large"}}
	if got := rej.Error(); got != "codec: batch rejected by server: jsonrpc error -32600: batch too large" {
		t.Fatalf("BatchRejectedError.Error() = %q", got)
	}
	if !errors.As(fmt.Errorf("wrap: %w", rej), &target) || target.Code != CodeInvalidRequest {
		t.Fatal("errors.As must reach the rejected batch's *Error")
	}

	un := &UnmatchedError{Errors: []*Error{{Code: CodeParseError, Message: "Parse error"}}, Count: 1}
	if got := un.Error(); got != "codec: 1 response element without usable id: jsonrpc error -32700: Parse error" {
		t.Fatalf("UnmatchedError.Error() = %q", got)
	}
	if !errors.Is(un, &Error{Code: CodeParseError}) {
		t.Fatal("errors.Is must see through UnmatchedError")
	}
}
