package codec

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves a goroutine behind: pooled
// zstd decoders run synchronously and the shared encoder only serves
// EncodeAll, so none may exist.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
