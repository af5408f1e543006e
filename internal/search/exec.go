package search

import (
	"context"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
)

// decided is what the shared flow of the non-paged search types needs: what to decide, what to
// record and what the authority must cover.
type decided struct {
	auditType string       // the search type the audit event records
	action    authz.Action // the policy action decided
	from      time.Time    // the oldest part of the searched window: it decides the band
	reason    authz.Reason
	query     string   // canonical query text for the audit payload
	vrms      []string // plates the search names, for the audit payload
	use       AuthorityUse
}

// execute runs one non-paged search end to end: decide (with the authority, if any, checked and
// spent), durable intent, run, durable outcome with the count and digest of the ids shown, then
// return. run gets the band; digest stores the digest in the result.
func execute[T any](ctx context.Context, s *Service, c Caller, d decided, run func(ctx context.Context, band authz.Band) (T, []string, error), digest func(*T, audit.Digest)) (T, error) {
	var zero T
	band := s.az.BandOf(d.from)
	reason := s.az.ReasonRules().Normalize(d.reason)
	base := c.event(audit.ActionSearch)
	base.SearchType, base.Band = d.auditType, bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{VRMs: d.vrms, Query: d.query, Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	dec, err := s.authorise(ctx, &base, payload, authz.Request{Subject: c.subject(), Action: d.action, Band: band, Reason: reason}, d.use, true)
	if err != nil {
		return zero, err
	}
	base.Decision, base.Rule = audit.EffectAllow, dec.Rule
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (T, audit.Outcome, error) {
		res, ids, err := run(ctx, band)
		if err != nil {
			return zero, audit.Outcome{ErrorClass: errorClass(err)}, err
		}
		dg := audit.DigestIDs(ids)
		digest(&res, dg)
		return res, audit.Outcome{Count: int64(len(ids)), Digest: dg}, nil
	})
}
