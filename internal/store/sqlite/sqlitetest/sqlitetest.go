// Package sqlitetest gives the tests of other packages a real, signed SQLite audit log in a temp
// directory, so that every test needing one does not repeat the key and log set-up.
package sqlitetest

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// AuditLog creates a signing key under dir/keys (where audit.LoadKeyring finds it) and opens
// dir/audit.db signed with it; opts.Signer is set here. The log closes when the test ends.
func AuditLog(tb testing.TB, dir string, opts sqlite.AuditOptions) *sqlite.AuditLog {
	tb.Helper()
	keys := filepath.Join(dir, "keys")
	if _, err := audit.InitKeys(keys, audit.DefaultKeyName, rand.Reader); err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	signer, err := audit.LoadSigner(keys)
	if err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	opts.Signer = signer
	l, err := sqlite.OpenAuditLog(context.Background(), filepath.Join(dir, "audit.db"), opts)
	if err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// Records is the log's events, oldest first (one page of at most audit.MaxPageSize).
func Records(tb testing.TB, l *sqlite.AuditLog) []audit.Record {
	tb.Helper()
	p, err := l.Read(context.Background(), audit.Filter{Limit: audit.MaxPageSize})
	if err != nil {
		tb.Fatalf("sqlitetest: read the audit log: %v", err)
	}
	return p.Records
}
