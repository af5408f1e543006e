package authz

import (
	"errors"
	"fmt"
)

// ErrInvalid marks bad input to this package: an unknown action, role, band or rank, a reason
// that fails validation, or bad configuration. HTTP maps it to 400; a refused but well-formed
// request is a Decision with Allowed false, not an error.
var ErrInvalid = errors.New("invalid")

// Config is everything the Authorizer needs besides the policy files and a clock. api/app.go maps
// internal/config onto it (Data.Band1 and Data.Retention onto Bands).
type Config struct {
	Bands   Bands
	Reasons ReasonRules
	// MinApproverRank is the lowest rank that may approve an authority (default inspector). It is
	// a rule outside Casbin because rank is an attribute of the person, not a role.
	MinApproverRank Rank
}

// CheckAndSetDefaults fills zero fields with the default rules and reports every problem.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	if err := c.Bands.CheckAndSetDefaults(); err != nil {
		errs = append(errs, fmt.Errorf("bands: %w", err))
	}
	if err := c.Reasons.CheckAndSetDefaults(); err != nil {
		errs = append(errs, fmt.Errorf("reasons: %w", err))
	}
	if c.MinApproverRank == RankNone {
		c.MinApproverRank = Inspector
	}
	if c.MinApproverRank.Level() < 0 {
		errs = append(errs, fmt.Errorf("%w: min approver rank %q is not a known rank", ErrInvalid, c.MinApproverRank))
	}
	return errors.Join(errs...)
}
