package authz

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Reason is the structured justification every search carries (docs/architecture.md, section
// 8). It is stored with the audit event, so its fields are what an auditor later reads.
type Reason struct {
	// Purpose is the Name of one configured Purpose.
	Purpose string `json:"purpose"`
	// CaseRef is the case or crime reference; it must match ReasonRules.CaseRefPattern.
	CaseRef string `json:"case_ref"`
	// OffenceCode is required when the purpose says so, and must then match
	// ReasonRules.OffenceCodePattern.
	OffenceCode string `json:"offence_code,omitempty"`
	// Justification is free text saying why this search, now, helps the case.
	Justification string `json:"justification"`
}

// IsZero reports whether no field is set: the caller gave no reason at all.
func (r Reason) IsZero() bool { return r == Reason{} }

// Purpose is one entry of the configured list of purposes.
type Purpose struct {
	Name        string
	Description string
	// Class decides what the policy lets the purpose reach (band 2 needs ClassSerious).
	Class PurposeClass
	// NeedsOffenceCode makes OffenceCode mandatory for this purpose.
	NeedsOffenceCode bool
}

// DefaultPurposes is the purpose list used when none is configured. The choice follows the MPS
// Retrospective ANPR Privacy Impact Assessment (2018, /work/shared/seeds/002_*): ANPR is used for
// "finding vulnerable missing people, locating wanted suspects and stolen vehicles, investigations
// of all levels of crimes", for "Interception, Intelligence Development and Investigation" and in
// "Counter Terrorism operations", within the MoPI policing purposes it quotes ("the protecting of
// life and property ... bringing offenders to justice"). Only serious crime, major crime and
// counter-terrorism reach band 2, as the band 2 rule requires. The oversight purposes exist so
// that auditors and the ANPR manager record reasons too, without being able to search with them.
func DefaultPurposes() []Purpose {
	return []Purpose{
		{"serious_crime", "investigation of a serious offence (robbery, burglary, serious acquisitive crime, drug supply, serious violence)", ClassSerious, true},
		{"major_crime", "homicide, kidnap or another major investigation", ClassSerious, true},
		{"counter_terrorism", "counter-terrorism operation or investigation", ClassSerious, false},
		{"crime_investigation", "investigation of any other offence", ClassGeneral, true},
		{"stolen_vehicle", "locating a stolen vehicle or one used in an offence", ClassGeneral, true},
		{"road_traffic", "road traffic offence or fatal/serious collision", ClassGeneral, true},
		{"wanted_person", "locating a person wanted on warrant or circulated as wanted", ClassGeneral, false},
		{"missing_person", "finding a missing or vulnerable person", ClassGeneral, false},
		{"threat_to_life", "an immediate threat to life or of serious harm", ClassGeneral, false},
		{"intelligence_development", "developing intelligence about a named vehicle or person of interest", ClassGeneral, false},
		{"audit_review", "reviewing portal use (dip sampling, complaint, professional standards)", ClassOversight, false},
		{"data_protection", "subject access, correction or erasure request", ClassOversight, false},
	}
}

// ReasonRules configures reason validation. The zero value becomes the defaults through
// CheckAndSetDefaults.
type ReasonRules struct {
	Purposes []Purpose
	// CaseRefPattern is a regular expression the whole (trimmed, upper-cased) case reference must
	// match; CaseRefExample is shown in errors and must match it.
	CaseRefPattern string
	CaseRefExample string
	// OffenceCodePattern and OffenceCodeExample do the same for offence codes (default: a CJS
	// offence code such as TH68010).
	OffenceCodePattern string
	OffenceCodeExample string
	// MinWords is how many distinct meaningful words a justification needs (stop words, vague
	// words, numbers and keyboard mash do not count).
	MinWords int
	// MaxChars bounds the justification, since it is stored in every audit event.
	MaxChars int
	// VagueWords say nothing on their own ("investigation", "check", ...); they never count as
	// meaningful, and a justification of only these is rejected as vague.
	VagueWords []string

	caseRef, offenceCode *regexp.Regexp
	vague, stop          map[string]bool
}

// Defaults for ReasonRules.
const (
	DefaultCaseRefPattern     = `^[A-Z]{2,4}/\d{2,8}/\d{2}$`
	DefaultCaseRefExample     = "MPS/12345/26"
	DefaultOffenceCodePattern = `^[A-Z]{2}\d{5}[A-Z]?$`
	DefaultOffenceCodeExample = "TH68010"
	DefaultMinWords           = 6
	DefaultMaxChars           = 2000
)

// DefaultVagueWords is the default VagueWords list: filler that appears in lazy justifications.
func DefaultVagueWords() []string {
	return []string{
		"investigation", "investigations", "investigate", "investigating", "enquiry", "enquiries",
		"inquiry", "inquiries", "check", "checks", "checking", "checked", "intel", "intelligence",
		"test", "tests", "testing", "ongoing", "routine", "general", "misc", "miscellaneous", "info",
		"information", "research", "job", "work", "case", "crime", "police", "policing",
		"operational", "purpose", "purposes", "reason", "reasons", "matter", "issue", "tbc", "tba",
		"na", "same", "above", "before", "previous", "see", "refer", "ref", "required", "request",
		"requested", "urgent", "asap", "anpr", "search", "searches", "searching", "lookup", "data",
		"details", "vrm", "query", "ok", "none", "nil", "null", "blah", "stuff", "things",
	}
}

// CheckAndSetDefaults fills zero fields, compiles the patterns and checks every problem at once.
func (rr *ReasonRules) CheckAndSetDefaults() error {
	if rr.Purposes == nil {
		rr.Purposes = DefaultPurposes()
	}
	if rr.CaseRefPattern == "" {
		rr.CaseRefPattern, rr.CaseRefExample = DefaultCaseRefPattern, DefaultCaseRefExample
	}
	if rr.OffenceCodePattern == "" {
		rr.OffenceCodePattern, rr.OffenceCodeExample = DefaultOffenceCodePattern, DefaultOffenceCodeExample
	}
	if rr.MinWords == 0 {
		rr.MinWords = DefaultMinWords
	}
	if rr.MaxChars == 0 {
		rr.MaxChars = DefaultMaxChars
	}
	if rr.VagueWords == nil {
		rr.VagueWords = DefaultVagueWords()
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...))
	}
	if len(rr.Purposes) == 0 {
		bad("no purposes configured")
	}
	seen := map[string]bool{}
	for i, p := range rr.Purposes {
		switch {
		case p.Name == "" || strings.TrimSpace(p.Name) != p.Name:
			bad("purpose %d: name %q is empty or padded", i, p.Name)
		case seen[p.Name]:
			bad("purpose %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Class == ClassNone || !p.Class.known() {
			bad("purpose %q: class %q must be one of general, serious, oversight", p.Name, p.Class)
		}
	}
	var err error
	if rr.caseRef, err = compileWhole("case reference", rr.CaseRefPattern, rr.CaseRefExample); err != nil {
		errs = append(errs, err)
	}
	if rr.offenceCode, err = compileWhole("offence code", rr.OffenceCodePattern, rr.OffenceCodeExample); err != nil {
		errs = append(errs, err)
	}
	if rr.MinWords < 1 {
		bad("min words %d must be at least 1", rr.MinWords)
	}
	if rr.MaxChars < 1 {
		bad("max chars %d must be at least 1", rr.MaxChars)
	}
	rr.vague = make(map[string]bool, len(rr.VagueWords))
	for _, w := range rr.VagueWords {
		rr.vague[strings.ToLower(w)] = true
	}
	rr.stop = stopWords()
	return errors.Join(errs...)
}

func compileWhole(what, pattern, example string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%w: %s pattern %q: %v", ErrInvalid, what, pattern, err)
	}
	if example == "" || !re.MatchString(example) {
		return nil, fmt.Errorf("%w: %s example %q must match the pattern %q (it is shown to users)", ErrInvalid, what, example, pattern)
	}
	return re, nil
}

// Purpose returns the configured purpose called name.
func (rr *ReasonRules) Purpose(name string) (Purpose, bool) {
	i := slices.IndexFunc(rr.Purposes, func(p Purpose) bool { return p.Name == name })
	if i < 0 {
		return Purpose{}, false
	}
	return rr.Purposes[i], true
}

// PurposeNames lists the configured purpose names in configured order.
func (rr *ReasonRules) PurposeNames() []string {
	out := make([]string, len(rr.Purposes))
	for i, p := range rr.Purposes {
		out[i] = p.Name
	}
	return out
}

// Normalize trims every field and upper-cases the references, so that what is validated is what
// is stored. Callers should audit the normalised reason.
func (rr *ReasonRules) Normalize(r Reason) Reason {
	return Reason{
		Purpose:       strings.TrimSpace(r.Purpose),
		CaseRef:       strings.ToUpper(strings.TrimSpace(r.CaseRef)),
		OffenceCode:   strings.ToUpper(strings.TrimSpace(r.OffenceCode)),
		Justification: strings.TrimSpace(r.Justification),
	}
}

// Problem is one thing wrong with a reason, named by the JSON field it concerns.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ReasonError lists everything wrong with a reason, so the user can fix it in one go. It wraps
// ErrInvalid.
type ReasonError struct{ Problems []Problem }

func (e *ReasonError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Message
	}
	return "reason rejected: " + strings.Join(parts, "; ")
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ReasonError) Unwrap() error { return ErrInvalid }

// Validate checks r (after Normalize) and returns nil or a *ReasonError saying exactly what is
// missing or vague. rr must have been through CheckAndSetDefaults.
func (rr *ReasonRules) Validate(r Reason) error {
	if rr.caseRef == nil {
		// A programming error, but failing closed beats panicking inside a request.
		return fmt.Errorf("%w: reason rules used before CheckAndSetDefaults", ErrInvalid)
	}
	r = rr.Normalize(r)
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{field, fmt.Sprintf(format, args...)})
	}
	purpose, ok := rr.Purpose(r.Purpose)
	switch {
	case r.Purpose == "":
		add("purpose", "is missing; choose one of: %s", strings.Join(rr.PurposeNames(), ", "))
	case !ok:
		add("purpose", "%q is not a configured purpose; choose one of: %s", clip(r.Purpose), strings.Join(rr.PurposeNames(), ", "))
	}
	switch {
	case r.CaseRef == "":
		add("case_ref", "the case or crime reference is missing; expected a reference like %s", rr.CaseRefExample)
	case !rr.caseRef.MatchString(r.CaseRef):
		add("case_ref", "%q is not a case or crime reference in the expected format; expected a reference like %s", clip(r.CaseRef), rr.CaseRefExample)
	}
	switch {
	case r.OffenceCode == "" && ok && purpose.NeedsOffenceCode:
		add("offence_code", "an offence code is required for purpose %s; expected a code like %s", purpose.Name, rr.OffenceCodeExample)
	case r.OffenceCode != "" && !rr.offenceCode.MatchString(r.OffenceCode):
		add("offence_code", "%q is not an offence code in the expected format; expected a code like %s", clip(r.OffenceCode), rr.OffenceCodeExample)
	}
	for _, msg := range rr.justificationProblems(r.Justification) {
		add("justification", "%s", msg)
	}
	if len(ps) > 0 {
		return &ReasonError{Problems: ps}
	}
	return nil
}

// clip keeps echoed user input short in messages.
func clip(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}
