package config

import "fmt"

// Readiness tunes what /readyz checks beyond the stores answering, and what serve does at start
// when the identity provider does not answer.
type Readiness struct {
	// MinFreeBytes is the free space below which a directory the portal writes to (the SQLite
	// databases, the audit anchor, images) makes it not ready. Default 64 MiB: room for the next
	// WAL checkpoint and a few ingest batches, so an orchestrator takes traffic away before writes
	// start failing rather than after.
	MinFreeBytes int64 `yaml:"min_free_bytes"`
	// RequireIdentityProvider makes serve exit non-zero at start when the identity provider's
	// discovery document or signing keys cannot be fetched. Default false: serve logs one warning
	// and keeps retrying with backoff, serving API-key clients meanwhile, and /readyz reports the
	// provider as not ready until it answers.
	RequireIdentityProvider bool `yaml:"require_identity_provider"`
}

// DefaultMinFreeBytes is Readiness.MinFreeBytes unless configured.
const DefaultMinFreeBytes = 64 << 20

func (r Readiness) validate() []error {
	if r.MinFreeBytes < 0 {
		return []error{fmt.Errorf("readiness.min_free_bytes: must not be negative")}
	}
	return nil
}
