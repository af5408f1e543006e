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

// subjectGrantsDoc holds every grant a subject was ever given. One document per subject is what
// makes "no two active grants of one role" enforceable: the check and the write are one
// conditional write of this document, so two managers granting at once cannot both succeed.
// A person's grants are few (a handful of roles, granted and revoked now and then), so the
// document stays small; the per-request lookup of a caller's grants is one real-time GET of it.
type subjectGrantsDoc struct {
	Subject string     `json:"subject"`
	Grants  []grantDoc `json:"grants"`
}

type grantDoc struct {
	ID        string `json:"id"`
	Role      string `json:"role"`
	Rank      string `json:"rank"`
	Reason    string `json:"reason"`
	GrantedBy string `json:"granted_by"`
	GrantedUS int64  `json:"granted_us"`
	ExpiresUS int64  `json:"expires_us"`
	RevokedUS int64  `json:"revoked_us"`
	RevokedBy string `json:"revoked_by"`
}

// grantIDDoc points from a grant id to the subject whose document holds the grant.
type grantIDDoc struct {
	GrantID string `json:"grant_id"`
	Subject string `json:"subject"`
}

func (d grantDoc) grant(subject string) identity.Grant {
	return identity.Grant{ID: d.ID, Subject: subject, Role: d.Role, Rank: d.Rank, Reason: d.Reason, GrantedBy: d.GrantedBy,
		GrantedAt: fromUS(d.GrantedUS), ExpiresAt: fromUS(d.ExpiresUS), RevokedAt: fromUS(d.RevokedUS), RevokedBy: d.RevokedBy}
}

// activeAt is identity.Grant.Active in stored units.
func (d grantDoc) activeAt(t int64) bool {
	return d.RevokedUS == 0 && (d.ExpiresUS == 0 || d.ExpiresUS > t)
}

// CreateGrant adds a grant unless the subject already holds that role by a grant active at
// g.GrantedAt. First the grant id is claimed (op_type=create of its pointer, so an id is used
// once), then the subject's document is rewritten conditionally on the version whose grants were
// checked. A pointer left behind by a refused or failed create points at a document without the
// grant, which reads as "not found", so it is harmless; it is deleted where possible.
func (s *IdentityStore) CreateGrant(ctx context.Context, g identity.Grant) error {
	ptrID := docID([]byte(g.ID))
	err := putDoc(ctx, s, s.grantIDs, ptrID, versioned[grantIDDoc]{}, grantIDDoc{GrantID: g.ID, Subject: g.Subject})
	if errors.Is(err, errStale) {
		return fmt.Errorf("create grant: a grant with id %q exists: %w", g.ID, identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	at := us(g.GrantedAt)
	err = modify(ctx, s, s.grants, docID([]byte(g.Subject)), func(d subjectGrantsDoc, found bool) (subjectGrantsDoc, bool, error) {
		for _, x := range d.Grants {
			if x.Role == g.Role && x.activeAt(at) {
				return d, false, fmt.Errorf("%q already holds an active %s grant: %w", g.Subject, g.Role, identity.ErrConflict)
			}
		}
		d.Subject = g.Subject
		d.Grants = append(d.Grants, grantDoc{ID: g.ID, Role: g.Role, Rank: g.Rank, Reason: g.Reason, GrantedBy: g.GrantedBy,
			GrantedUS: at, ExpiresUS: us(g.ExpiresAt), RevokedUS: us(g.RevokedAt), RevokedBy: g.RevokedBy})
		return d, true, nil
	})
	if err != nil {
		if _, derr := s.es.Delete(s.grantIDs, ptrID).Do(context.WithoutCancel(ctx)); derr != nil {
			err = errors.Join(err, fmt.Errorf("release grant id %q: %w", g.ID, derr))
		}
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

// subjectOf follows a grant id's pointer; ErrNotFound if there is none.
func (s *IdentityStore) subjectOf(ctx context.Context, id string) (string, error) {
	v, err := getDoc[grantIDDoc](ctx, s, s.grantIDs, docID([]byte(id)))
	if err != nil {
		return "", err
	}
	if !v.found {
		return "", fmt.Errorf("grant %q: %w", id, identity.ErrNotFound)
	}
	return v.doc.Subject, nil
}

// GetGrant returns one grant.
func (s *IdentityStore) GetGrant(ctx context.Context, id string) (identity.Grant, error) {
	subject, err := s.subjectOf(ctx, id)
	if err != nil {
		return identity.Grant{}, fmt.Errorf("get grant: %w", err)
	}
	v, err := getDoc[subjectGrantsDoc](ctx, s, s.grants, docID([]byte(subject)))
	if err != nil {
		return identity.Grant{}, fmt.Errorf("get grant: %w", err)
	}
	for _, x := range v.doc.Grants {
		if x.ID == id {
			return x.grant(subject), nil
		}
	}
	return identity.Grant{}, fmt.Errorf("grant %q: %w", id, identity.ErrNotFound)
}

// RevokeGrant marks a grant revoked, by a conditional write of its subject's document: of two
// racing revocations one succeeds and the other gets ErrConflict.
func (s *IdentityStore) RevokeGrant(ctx context.Context, id, by string, at time.Time) error {
	subject, err := s.subjectOf(ctx, id)
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	err = modify(ctx, s, s.grants, docID([]byte(subject)), func(d subjectGrantsDoc, _ bool) (subjectGrantsDoc, bool, error) {
		i := slices.IndexFunc(d.Grants, func(x grantDoc) bool { return x.ID == id })
		switch {
		case i < 0:
			return d, false, fmt.Errorf("grant %q: %w", id, identity.ErrNotFound)
		case d.Grants[i].RevokedUS != 0:
			return d, false, fmt.Errorf("grant %q is already revoked: %w", id, identity.ErrConflict)
		}
		d.Grants[i].RevokedUS, d.Grants[i].RevokedBy = us(at), by
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

// ListGrants returns grants matching f, newest first. With a subject (every authenticated request
// asks for the caller's active grants) it is one real-time GET; without, a search of all
// subjects' documents.
func (s *IdentityStore) ListGrants(ctx context.Context, f identity.GrantFilter) ([]identity.Grant, error) {
	var docs []subjectGrantsDoc
	if f.Subject != "" {
		v, err := getDoc[subjectGrantsDoc](ctx, s, s.grants, docID([]byte(f.Subject)))
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		if v.found {
			docs = append(docs, v.doc)
		}
	} else {
		err := s.searchAll(ctx, s.grants, &types.Query{MatchAll: &types.MatchAllQuery{}}, sortBy("subject"), func(_ string, src json.RawMessage) error {
			var d subjectGrantsDoc
			if err := json.Unmarshal(src, &d); err != nil {
				return fmt.Errorf("decode grants: %w", err)
			}
			docs = append(docs, d)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
	}
	var out []identity.Grant
	at := us(f.ActiveAt)
	for _, d := range docs {
		for _, x := range d.Grants {
			if f.ActiveAt.IsZero() || (x.GrantedUS <= at && x.activeAt(at)) {
				out = append(out, x.grant(d.Subject))
			}
		}
	}
	slices.SortFunc(out, func(a, b identity.Grant) int {
		return cmp.Or(b.GrantedAt.Compare(a.GrantedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}
