package authz

import (
	"fmt"
	"slices"
)

// Action is something a user or machine client asks to do. HTTP routes declare the Action they
// perform, so this file is the one list of them; policies/policy.csv refers to the same strings.
type Action string

// The actions. Search and read actions touch dated reads, so the data-age band of what they touch
// is part of the decision; the others do not (their band is BandNone, which the policy ignores).
const (
	SearchExact         Action = "search.exact"
	SearchPartial       Action = "search.partial"
	SearchMisread       Action = "search.misread"
	SearchJourney       Action = "search.journey"
	SearchHistogram     Action = "search.histogram"
	SearchArea          Action = "search.area"
	SearchConvoy        Action = "search.convoy"
	SearchMultiLocation Action = "search.multi_location"
	ReadView            Action = "read.view"
	ReadImage           Action = "read.image"
	Export              Action = "export"
	AuthorityRequest    Action = "authority.request"
	AuthorityApprove    Action = "authority.approve"
	AuthorityRevoke     Action = "authority.revoke"
	AuditRead           Action = "audit.read"
	AuditExport         Action = "audit.export"
	AdminCameras        Action = "admin.cameras"
	AdminGrants         Action = "admin.grants"
	AdminAPIKeys        Action = "admin.apikeys"
	AdminHolds          Action = "admin.holds"
	AdminRetention      Action = "admin.retention"
	ReadsIngest         Action = "reads.ingest"
	DataCorrect         Action = "data.correct"
	DataErase           Action = "data.erase"
	SARReport           Action = "sar.report"
)

// ActionInfo describes one Action for documentation, the API and the decision table.
type ActionInfo struct {
	Action      Action
	Description string
	// Dated is true when the action reads dated ANPR data, so the caller must pass the band of the
	// oldest data touched (BandOf) rather than BandNone.
	Dated bool
	// Sensitive marks search types that need a prior authority in every band (docs/architecture.md, section 8).
	// It is informational: the policy rows are what enforce it, so a force can change them.
	Sensitive bool
}

// actionInfos is returned by copy only (Actions), so nothing can change it.
var actionInfos = []ActionInfo{
	{SearchExact, "search reads of one exact VRM", true, false},
	{SearchPartial, "search reads of a partial VRM with ? and * wildcards", true, false},
	{SearchMisread, "search reads of VRMs a camera may have misread for the given one", true, false},
	{SearchJourney, "ordered reads of one VRM (journey, first and last seen)", true, false},
	{SearchHistogram, "counts of reads over time for a query", true, false},
	{SearchArea, "every vehicle that passed given cameras or an area (who passed here)", true, true},
	{SearchConvoy, "vehicles repeatedly seen with a target vehicle (convoy analysis)", true, true},
	{SearchMultiLocation, "vehicles seen at all of several places and windows", true, true},
	{ReadView, "view one read record", true, false},
	{ReadImage, "view the plate or overview image of a read", true, false},
	{Export, "export search results as a file", true, false},
	{AuthorityRequest, "ask for a prior authority to search aged data or sensitive search types", true, false},
	{AuthorityApprove, "approve or reject someone else's authority request", true, false},
	{AuthorityRevoke, "revoke an approved authority", false, false},
	{AuditRead, "read audit events", false, false},
	{AuditExport, "export a signed extract of the audit log", false, false},
	{AdminCameras, "register, edit or retire cameras", false, false},
	{AdminGrants, "grant or remove another user's roles", false, false},
	{AdminAPIKeys, "issue or revoke API keys for machine clients", false, false},
	{AdminHolds, "place or lift a preservation hold on data", false, false},
	{AdminRetention, "view and run retention (deletion of data past its period)", false, false},
	{ReadsIngest, "push reads into the store (machine clients)", false, false},
	{DataCorrect, "correct a wrong read (for example a confirmed misread)", false, false},
	{DataErase, "erase reads or audit payloads under a lawful erasure", false, false},
	{SARReport, "compile the reads held about a VRM for a subject access request", false, false},
}

// Actions lists every action with its description, in a stable order.
func Actions() []ActionInfo { return slices.Clone(actionInfos) }

// Info returns the description of a, and false when a is not a known action.
func (a Action) Info() (ActionInfo, bool) {
	for _, in := range actionInfos {
		if in.Action == a {
			return in, true
		}
	}
	return ActionInfo{}, false
}

// Role is a portal role (docs/architecture.md, section 1). Roles come from the IdP claim mapping and from grants.
type Role string

// The roles.
const (
	Investigator         Role = "investigator"
	ExtendedInvestigator Role = "extended_investigator"
	AuthorisingOfficer   Role = "authorising_officer"
	Auditor              Role = "auditor"
	ANPRManager          Role = "anpr_manager"
	Ingest               Role = "ingest"
)

var roleInfos = []struct {
	Role        Role
	Description string
}{
	{Investigator, "searches band 1 data for a recorded policing purpose"},
	{ExtendedInvestigator, "as investigator, plus band 2 and held data for serious purposes under an authority"},
	{AuthorisingOfficer, "approves other people's authority requests (rank checked separately)"},
	{Auditor, "reads and exports the audit log; never searches reads"},
	{ANPRManager, "runs cameras, grants, API keys, holds, retention, corrections and subject access"},
	{Ingest, "machine client that pushes reads"},
}

// Roles lists every role in a stable order.
func Roles() []Role {
	out := make([]Role, len(roleInfos))
	for i, r := range roleInfos {
		out[i] = r.Role
	}
	return out
}

// Description says what the role is for ("" for an unknown role).
func (r Role) Description() string {
	for _, in := range roleInfos {
		if in.Role == r {
			return in.Description
		}
	}
	return ""
}

// ParseRole accepts only the known role names, so a misspelt claim mapping fails at start.
func ParseRole(s string) (Role, error) {
	if Role(s).Description() == "" {
		return "", fmt.Errorf("%w: unknown role %q (known: %v)", ErrInvalid, s, Roles())
	}
	return Role(s), nil
}

// Band is the data-age band of the oldest data an action touches (see BandOf).
type Band string

// The bands. BandNone is for actions that touch no dated reads; the policy never lets a dated
// action through with it, so forgetting to compute the band fails closed.
const (
	BandNone    Band = "none"
	Band1       Band = "band1"
	Band2       Band = "band2"
	BandExpired Band = "expired"
)

// AllBands lists the bands in the order of the decision table.
func AllBands() []Band { return []Band{BandNone, Band1, Band2, BandExpired} }

// AuthorityState says whether the caller presents a prior authority that the authority service has
// already checked against its scope (requester, VRMs, window, search type, expiry, uses).
type AuthorityState string

// The authority states. AuthorityHold is an approved authority that names a preservation hold
// covering the data; it also satisfies anything a plain valid authority does.
const (
	AuthorityNone  AuthorityState = "none"
	AuthorityValid AuthorityState = "valid"
	AuthorityHold  AuthorityState = "hold"
)

// AllAuthorityStates lists the states in the order of the decision table.
func AllAuthorityStates() []AuthorityState {
	return []AuthorityState{AuthorityNone, AuthorityValid, AuthorityHold}
}

// PurposeClass groups purposes for the policy, so a force can add a purpose in configuration
// without touching policy.csv.
type PurposeClass string

// The purpose classes.
const (
	// ClassNone: no reason given. No dated action allows it.
	ClassNone PurposeClass = "none"
	// ClassGeneral: policing purposes that justify band 1 searches only.
	ClassGeneral PurposeClass = "general"
	// ClassSerious: purposes that may reach band 2 and held data (serious crime, major crime,
	// counter-terrorism by default).
	ClassSerious PurposeClass = "serious"
	// ClassOversight: audit review, data protection work; never a reason to search reads.
	ClassOversight PurposeClass = "oversight"
)

// AllPurposeClasses lists the classes in the order of the decision table.
func AllPurposeClasses() []PurposeClass {
	return []PurposeClass{ClassNone, ClassGeneral, ClassSerious, ClassOversight}
}

// Rank is a police rank, used for the minimum rank of an authorising officer. Which ranks exist
// and their order are configuration (Config.Ranks); these are the defaults.
type Rank string

// The default ranks, lowest first. RankNone is a user with no recorded rank (civilian staff,
// machines).
const (
	RankNone            Rank = ""
	Constable           Rank = "constable"
	Sergeant            Rank = "sergeant"
	Inspector           Rank = "inspector"
	ChiefInspector      Rank = "chief_inspector"
	Superintendent      Rank = "superintendent"
	ChiefSuperintendent Rank = "chief_superintendent"
)

// DefaultRanks is the rank order when none is configured, lowest first.
func DefaultRanks() []Rank {
	return []Rank{Constable, Sergeant, Inspector, ChiefInspector, Superintendent, ChiefSuperintendent}
}

// rankLevel orders r within ranks (lowest first): 0 for RankNone, 1 for the lowest rank, -1 for
// a rank the order does not know.
func rankLevel(ranks []Rank, r Rank) int {
	if r == RankNone {
		return 0
	}
	if i := slices.Index(ranks, r); i >= 0 {
		return i + 1
	}
	return -1
}

func (b Band) known() bool { return slices.Contains(AllBands(), b) }

func (s AuthorityState) known() bool { return slices.Contains(AllAuthorityStates(), s) }

func (c PurposeClass) known() bool { return slices.Contains(AllPurposeClasses(), c) }
