package dextest

// Roles carried by the demo users' `anpr:<role>` groups. They are the portal's role names
// (docs/architecture.md, section 1); the portal's claim mapping turns the groups into these roles.
const (
	RoleInvestigator         = "investigator"
	RoleExtendedInvestigator = "extended_investigator"
	RoleAuthorisingOfficer   = "authorising_officer"
	RoleAuditor              = "auditor"
	RoleANPRManager          = "anpr_manager"
)

// User is one demo account in deploy/dex/config.yaml.tmpl. Log in with Email and Password.
type User struct {
	Username string // short handle; Dex's preferred_username claim
	Email    string // the login name and the email claim
	Password string
	Name     string // display name; Dex's name claim
	UserID   string // stable Dex user id (part of the encoded sub claim)
	Role     string // one of the Role* constants
	Rank     string // police rank, e.g. "Inspector"; empty for police staff
	Groups   []string
}

// DemoUsers returns the demo accounts, one per role and two authorising officers (an Inspector and
// a Superintendent, so tests can exercise rank rules and "approver is not the requester"). It
// returns a fresh slice each time so no caller can change another's view.
//
// These must match deploy/dex/config.yaml.tmpl; this package's tests log in as every one of them
// and compare the claims Dex issues, so a drift fails there.
func DemoUsers() []User {
	return []User{
		{
			Username: "investigator", Email: "investigator@anpr.example", Password: "investigator-demo",
			Name: "DC Ivy Ingram", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0001",
			Role: RoleInvestigator, Rank: "Constable",
			Groups: []string{"anpr:investigator", "rank:constable"},
		},
		{
			Username: "extended", Email: "extended@anpr.example", Password: "extended-demo",
			Name: "DS Ezra Ellis", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0002",
			Role: RoleExtendedInvestigator, Rank: "Sergeant",
			Groups: []string{"anpr:extended_investigator", "rank:sergeant"},
		},
		{
			Username: "inspector", Email: "inspector@anpr.example", Password: "inspector-demo",
			Name: "Insp Aisha Adams", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0003",
			Role: RoleAuthorisingOfficer, Rank: "Inspector",
			Groups: []string{"anpr:authorising_officer", "rank:inspector"},
		},
		{
			Username: "superintendent", Email: "superintendent@anpr.example", Password: "superintendent-demo",
			Name: "Supt Sam Shaw", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0004",
			Role: RoleAuthorisingOfficer, Rank: "Superintendent",
			Groups: []string{"anpr:authorising_officer", "rank:superintendent"},
		},
		{
			Username: "auditor", Email: "auditor@anpr.example", Password: "auditor-demo",
			Name: "Audrey Hale", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0005",
			Role:   RoleAuditor,
			Groups: []string{"anpr:auditor"},
		},
		{
			Username: "manager", Email: "manager@anpr.example", Password: "manager-demo",
			Name: "Max Mercer", UserID: "5a0c1e6e-2f36-4d0e-9b8a-0b1f6d6a0006",
			Role:   RoleANPRManager,
			Groups: []string{"anpr:anpr_manager"},
		},
	}
}
