package elastic

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/identity"
)

// identityLinksDoc holds every link ever made for one IdP identity (issuer, subject), as a
// subject's grants share one document: "one live link per identity" is then one conditional
// write of this document, so two managers linking at once cannot both succeed.
type identityLinksDoc struct {
	Issuer  string    `json:"issuer"`
	Subject string    `json:"subject"`
	Links   []linkDoc `json:"links"`
}

type linkDoc struct {
	ID              string `json:"id"`
	PreviousIssuer  string `json:"previous_issuer"`
	PreviousSubject string `json:"previous_subject"`
	Reason          string `json:"reason"`
	LinkedBy        string `json:"linked_by"`
	LinkedUS        int64  `json:"linked_us"`
	RevokedUS       int64  `json:"revoked_us"`
	RevokedBy       string `json:"revoked_by"`
}

// linkIDDoc points from a link id to the identity whose document holds the link.
type linkIDDoc struct {
	LinkID  string `json:"link_id"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
}

func (d linkDoc) link(issuer, subject string) identity.SubjectLink {
	return identity.SubjectLink{ID: d.ID, Issuer: issuer, Subject: subject, PreviousIssuer: d.PreviousIssuer, PreviousSubject: d.PreviousSubject,
		Reason: d.Reason, LinkedBy: d.LinkedBy, LinkedAt: fromUS(d.LinkedUS), RevokedAt: fromUS(d.RevokedUS), RevokedBy: d.RevokedBy}
}

// identityKey is the _id of an identity's links document: issuer and subject, which may each
// contain anything but NUL.
func identityKey(issuer, subject string) string { return docID([]byte(issuer + "\x00" + subject)) }

// CreateLink claims the link id (op_type=create of its pointer), then adds the link to the
// identity's document unless a live one is there, conditionally on the version checked.
func (s *IdentityStore) CreateLink(ctx context.Context, l identity.SubjectLink) error {
	err := putDoc(ctx, s, s.linkIDs, docID([]byte(l.ID)), versioned[linkIDDoc]{}, linkIDDoc{LinkID: l.ID, Issuer: l.Issuer, Subject: l.Subject})
	if errors.Is(err, errStale) {
		return fmt.Errorf("create link: a link with id %q exists: %w", l.ID, identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	err = modify(ctx, s, s.links, identityKey(l.Issuer, l.Subject), func(d identityLinksDoc, _ bool) (identityLinksDoc, bool, error) {
		for _, x := range d.Links {
			if x.RevokedUS == 0 {
				return d, false, fmt.Errorf("%q at %q is already linked: %w", l.Subject, l.Issuer, identity.ErrConflict)
			}
		}
		d.Issuer, d.Subject = l.Issuer, l.Subject
		d.Links = append(d.Links, linkDoc{ID: l.ID, PreviousIssuer: l.PreviousIssuer, PreviousSubject: l.PreviousSubject, Reason: l.Reason,
			LinkedBy: l.LinkedBy, LinkedUS: us(l.LinkedAt), RevokedUS: us(l.RevokedAt), RevokedBy: l.RevokedBy})
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	return nil
}

// LiveLink is one real-time GET: it runs at every sign-in.
func (s *IdentityStore) LiveLink(ctx context.Context, issuer, subject string) (identity.SubjectLink, error) {
	v, err := getDoc[identityLinksDoc](ctx, s, s.links, identityKey(issuer, subject))
	if err != nil {
		return identity.SubjectLink{}, fmt.Errorf("read link: %w", err)
	}
	for _, x := range v.doc.Links {
		if x.RevokedUS == 0 {
			return x.link(issuer, subject), nil
		}
	}
	return identity.SubjectLink{}, fmt.Errorf("link of %q: %w", subject, identity.ErrNotFound)
}

// RevokeLink marks a link revoked in its identity's document.
func (s *IdentityStore) RevokeLink(ctx context.Context, id, by string, at time.Time) error {
	ptr, err := getDoc[linkIDDoc](ctx, s, s.linkIDs, docID([]byte(id)))
	if err != nil {
		return fmt.Errorf("revoke link: %w", err)
	}
	if !ptr.found {
		return fmt.Errorf("link %q: %w", id, identity.ErrNotFound)
	}
	err = modify(ctx, s, s.links, identityKey(ptr.doc.Issuer, ptr.doc.Subject), func(d identityLinksDoc, _ bool) (identityLinksDoc, bool, error) {
		i := slices.IndexFunc(d.Links, func(x linkDoc) bool { return x.ID == id })
		switch {
		case i < 0:
			return d, false, fmt.Errorf("link %q: %w", id, identity.ErrNotFound)
		case d.Links[i].RevokedUS != 0:
			return d, false, fmt.Errorf("link %q is already revoked: %w", id, identity.ErrConflict)
		}
		d.Links[i].RevokedUS, d.Links[i].RevokedBy = us(at), by
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("revoke link: %w", err)
	}
	return nil
}

// ListLinks searches every identity's document (after a refresh, so it sees every write).
func (s *IdentityStore) ListLinks(ctx context.Context) ([]identity.SubjectLink, error) {
	var out []identity.SubjectLink
	err := s.searchAll(ctx, s.links, &types.Query{MatchAll: &types.MatchAllQuery{}}, sortBy("issuer", "subject"), func(_ string, src json.RawMessage) error {
		var d identityLinksDoc
		if err := json.Unmarshal(src, &d); err != nil {
			return fmt.Errorf("decode links: %w", err)
		}
		for _, x := range d.Links {
			out = append(out, x.link(d.Issuer, d.Subject))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	slices.SortFunc(out, func(a, b identity.SubjectLink) int {
		return cmp.Or(b.LinkedAt.Compare(a.LinkedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
