// Package policies holds the portal's authorisation policy as reviewable text: the Casbin model
// (model.conf), the rules (policy.csv) and, in testdata/decisions.csv, the table of expected
// decisions that a test checks against the real enforcer. internal/authz evaluates them.
package policies

import _ "embed"

var (
	//go:embed model.conf
	model string
	//go:embed policy.csv
	rules string
)

// Model returns the text of model.conf.
func Model() string { return model }

// Rules returns the text of policy.csv.
func Rules() string { return rules }
