-- Subject links: after a move to another IdP, the ANPR manager links each new identity
-- (issuer, subject) to the previous subject the portal knew the person by. Revoked links stay, as
-- the record of who was linked to whom and when. Times are Unix microseconds, 0 for none.

-- +goose Up
CREATE TABLE identity_subject_links (
	id               TEXT PRIMARY KEY,
	issuer           TEXT NOT NULL,
	subject          TEXT NOT NULL,
	previous_issuer  TEXT NOT NULL,
	previous_subject TEXT NOT NULL,
	reason           TEXT NOT NULL,
	linked_by        TEXT NOT NULL,
	linked_us        INTEGER NOT NULL,
	revoked_us       INTEGER NOT NULL DEFAULT 0,
	revoked_by       TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
-- One live link per identity: the second insert fails, whoever makes it.
CREATE UNIQUE INDEX identity_subject_links_live ON identity_subject_links(issuer, subject) WHERE revoked_us = 0;
