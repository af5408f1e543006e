package sqlite

import (
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/retention"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// The contents of testdata/legacy: databases written by the stores as they were before each
// store's schema came under goose (reads at its hand-rolled version 2, audit at its version 1,
// identity, authority and holds with no version at all). The upgrade test opens copies of those
// files with today's code and expects to find exactly this data.

var legacyT0 = time.Date(2026, 1, 7, 9, 30, 0, 0, time.UTC)

func legacyCameras() []reads.Camera {
	return []reads.Camera{
		{ID: "CAM-A", Name: "A1 Archway northbound", Road: "A1", Direction: "N", Area: "Islington", Lat: 51.5653, Lon: -0.1350},
		{ID: "CAM-B", Name: "A406 Brent Cross", Road: "A406", Direction: "E", Area: "Barnet", Lat: 51.5762, Lon: -0.2237},
	}
}

// legacyReads span three ISO weeks, so the fixture has three partitions.
func legacyReads() []reads.Read {
	return []reads.Read{
		storetest.Read("CAM-A", "AB12CDE", legacyT0),
		storetest.Read("CAM-B", "AB12CDE", legacyT0.Add(20*time.Minute)),
		storetest.Read("CAM-A", "LK19XRT", legacyT0.Add(-8*24*time.Hour)),
		storetest.Read("CAM-B", "LN68BWD", legacyT0.Add(-8*24*time.Hour+30*time.Second)),
		storetest.Read("CAM-A", "YR17KDX", legacyT0.Add(7*24*time.Hour)),
	}
}

const legacyAuditEvents = 11 // with CheckpointEvery 4: two checkpoints and a tail

// legacyAuditOptions open the fixture's audit log: its anchor beside it, its test-only key.
func legacyAuditOptions(signer note.Signer, anchor string) AuditOptions {
	return AuditOptions{Signer: signer, Anchor: audit.NewFileAnchor(anchor), CheckpointEvery: 4,
		CheckpointInterval: time.Hour, Clock: func() time.Time { return legacyT0 }}
}

func legacyReason() authz.Reason {
	return authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/4711/26", OffenceCode: "TH68010",
		Justification: "silver estate car seen leaving the burglary at 12 High Street; establish its route"}
}

func legacySession() identity.Session {
	return identity.Session{ID: "sess-legacy-1", Subject: "sub-investigator", Name: "Ida Investigator",
		Email: "investigator@anpr.example", IdPRoles: []string{"investigator"}, IdPRank: "constable",
		CSRFSecret: []byte("0123456789abcdef0123456789abcdef"), IDToken: "eyJhbGciOi.legacy.token",
		ClientAddr: "10.0.0.7", CreatedAt: legacyT0, ExpiresAt: legacyT0.Add(8 * time.Hour), LastSeenAt: legacyT0.Add(time.Minute)}
}

func legacyUser() identity.User {
	return identity.User{Subject: "sub-investigator", Name: "Ida Investigator", Email: "investigator@anpr.example",
		FirstLoginAt: legacyT0, LastLoginAt: legacyT0}
}

func legacyAPIKey() (identity.APIKey, []byte) {
	return identity.APIKey{ID: "k3y1d", Name: "camera back office", Scopes: []string{"reads:ingest"}, CreatedBy: "sub-manager",
		CreatedAt: legacyT0, ExpiresAt: legacyT0.Add(365 * 24 * time.Hour)}, []byte("0123456789abcdef0123456789abcdef")
}

func legacyGrant() identity.Grant {
	return identity.Grant{ID: "grant-1", Subject: "sub-sergeant", Role: "extended_investigator", Reason: "joined the major crime team",
		GrantedBy: "sub-manager", GrantedAt: legacyT0}
}

func legacyLoginFlow() identity.LoginFlow {
	return identity.LoginFlow{StateHash: []byte("state-hash-0123456789abcdef01234"), BindingHash: []byte("binding-hash-0123456789abcdef012"),
		Nonce: "n0nce", PKCEVerifier: "verifier", ReturnTo: "/search", CreatedAt: legacyT0, ExpiresAt: legacyT0.Add(10 * time.Minute)}
}

func legacyAuthority() authority.Authority {
	return authority.Authority{ID: "auth-1", Requester: "sub-sergeant", RequesterName: "Sam Sergeant", State: authority.Approved,
		Reason: legacyReason(),
		Scope: authority.Scope{VRMs: []string{"LD09HBR"}, From: legacyT0.Add(-200 * 24 * time.Hour), To: legacyT0.Add(-190 * 24 * time.Hour),
			SearchTypes: []string{"exact", "journey"}},
		RequestedExpiresAt: legacyT0.Add(72 * time.Hour), ExpiresAt: legacyT0.Add(48 * time.Hour), MaxUses: 5, Uses: 2,
		CreatedAt: legacyT0, DecidedBy: "sub-inspector", DecidedByName: "Ian Inspector", DecidedAt: legacyT0.Add(time.Hour),
		DecisionReason: "narrowed to two days"}
}

func legacyHold() holds.Hold {
	return holds.Hold{ID: "hold-1", CaseRef: "MPS/4711/26", Reason: legacyReason(),
		Scope:    holds.Scope{VRMs: []string{"LD09HBR"}, From: legacyT0.Add(-400 * 24 * time.Hour), To: legacyT0.Add(-300 * 24 * time.Hour)},
		ReviewAt: legacyT0.Add(90 * 24 * time.Hour), CreatedBy: "sub-manager", CreatedAt: legacyT0}
}

func legacyRun() retention.Run {
	return retention.Run{ID: "run-1", Cutoff: legacyT0.Add(-365 * 24 * time.Hour), Deleted: 1234, HeldKept: 5, Holds: 1,
		Trigger: "cli", By: "sub-manager", StartedAt: legacyT0, FinishedAt: legacyT0.Add(3 * time.Second), Status: "ok"}
}
