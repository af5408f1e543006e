package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

const identityLinkColumns = `id, issuer, subject, previous_issuer, previous_subject, reason, linked_by, linked_us, revoked_us, revoked_by`

func identityScanLink(sc interface{ Scan(...any) error }) (identity.SubjectLink, error) {
	var l identity.SubjectLink
	var linked, revoked int64
	if err := sc.Scan(&l.ID, &l.Issuer, &l.Subject, &l.PreviousIssuer, &l.PreviousSubject, &l.Reason, &l.LinkedBy, &linked, &revoked, &l.RevokedBy); err != nil {
		return identity.SubjectLink{}, err
	}
	l.LinkedAt, l.RevokedAt = fromUnixMicro(linked), fromUnixMicro(revoked)
	return l, nil
}

// CreateLink adds a link; the partial unique index refuses a second live link of one identity.
func (s *IdentityStore) CreateLink(ctx context.Context, l identity.SubjectLink) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identity_subject_links (`+identityLinkColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.Issuer, l.Subject, l.PreviousIssuer, l.PreviousSubject, l.Reason, l.LinkedBy, unixMicro(l.LinkedAt), unixMicro(l.RevokedAt), l.RevokedBy)
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("%q at %q is already linked (or the link id is taken): %w", l.Subject, l.Issuer, identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create link: %w", err)
	}
	return nil
}

// LiveLink returns the identity's live link.
func (s *IdentityStore) LiveLink(ctx context.Context, issuer, subject string) (identity.SubjectLink, error) {
	l, err := identityScanLink(s.db.QueryRowContext(ctx, `SELECT `+identityLinkColumns+` FROM identity_subject_links
		WHERE issuer = ? AND subject = ? AND revoked_us = 0`, issuer, subject))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.SubjectLink{}, fmt.Errorf("link of %q: %w", subject, identity.ErrNotFound)
	}
	if err != nil {
		return identity.SubjectLink{}, fmt.Errorf("read link: %w", err)
	}
	return l, nil
}

// RevokeLink marks a link revoked.
func (s *IdentityStore) RevokeLink(ctx context.Context, id, by string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_subject_links SET revoked_us = ?, revoked_by = ? WHERE id = ? AND revoked_us = 0`,
		unixMicro(at), by, id)
	if n, err := rowsAffected(res, err); err != nil {
		return fmt.Errorf("revoke link: %w", err)
	} else if n == 1 {
		return nil
	}
	var exists int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM identity_subject_links WHERE id = ?`, id).Scan(&exists); err != nil {
		return fmt.Errorf("revoke link: %w", err)
	}
	if exists == 0 {
		return fmt.Errorf("link %q: %w", id, identity.ErrNotFound)
	}
	return fmt.Errorf("link %q is already revoked: %w", id, identity.ErrConflict)
}

// ListLinks returns every link, newest first.
func (s *IdentityStore) ListLinks(ctx context.Context) ([]identity.SubjectLink, error) {
	return queryList(ctx, s.db, "list links", identity.ErrUnavailable, identityScanLink,
		`SELECT `+identityLinkColumns+` FROM identity_subject_links ORDER BY linked_us DESC, id`)
}
