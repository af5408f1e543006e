package authz

import (
	"errors"
	"fmt"
	"slices"
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
	// Ranks is the force's rank order, lowest first (default DefaultRanks()). The identity
	// service maps IdP claims onto the same order; a rank outside it is below every rank.
	Ranks []Rank
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
	if len(c.Ranks) == 0 {
		c.Ranks = DefaultRanks()
	}
	for i, r := range c.Ranks {
		if r == RankNone || slices.Contains(c.Ranks[:i], r) {
			errs = append(errs, fmt.Errorf("%w: rank order: %q is empty or listed twice", ErrInvalid, r))
		}
	}
	if c.MinApproverRank == RankNone {
		c.MinApproverRank = Inspector
	}
	if rankLevel(c.Ranks, c.MinApproverRank) < 0 {
		errs = append(errs, fmt.Errorf("%w: min approver rank %q is not in the rank order %v", ErrInvalid, c.MinApproverRank, c.Ranks))
	}
	return errors.Join(errs...)
}
