package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/authz"
)

func defaultRules(t testing.TB) *authz.ReasonRules {
	t.Helper()
	var rr authz.ReasonRules
	if err := rr.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	return &rr
}

func goodReason(justification string) authz.Reason {
	return authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/12345/26", OffenceCode: "TH68010", Justification: justification}
}

func TestValidateAcceptsSpecificJustifications(t *testing.T) {
	rr := defaultRules(t)
	for _, j := range []string{
		"Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue; establish its route and earlier visits",
		"Victim reports a red Ford Focus followed her home from Romford station on three evenings; identify the driver",
		"Vehicle AB12CDE used in the robbery of a jeweller in Hatton Garden, trace its movements before and after",
		"Missing 15 year old girl believed to be travelling in her uncle's blue van towards Kent; locate the van",
		"Suspect's registered car may have been cloned: compare sightings with his phone location on 3 March",
		"Witness saw false plates fitted to a black BMW near Wembley stadium; find where the car came from",
		"Fahrzeug des Verdächtigen wurde vor dem Überfall in Croydon gesehen; Route rekonstruieren bitte",
	} {
		if err := rr.Validate(goodReason(j)); err != nil {
			t.Errorf("Validate(%q) = %v, want nil", j, err)
		}
	}
}

// TestValidateRejectsVagueJustifications shows each lazy justification refused with a message
// that names what is wrong.
func TestValidateRejectsVagueJustifications(t *testing.T) {
	rr := defaultRules(t)
	tests := []struct {
		justification string
		wantInMessage string
	}{
		{"", "is missing"},
		{"   \n\t ", "is missing"},
		{"investigation", "too vague"},
		{"Investigation.", "too vague"},
		{"check", "too vague"},
		{"CHECK", "too vague"},
		{"intel", "too vague"},
		{"test", "too vague"},
		{"enquiries", "too vague"},
		{"ongoing", "too vague"},
		{"ongoing investigation", "too vague"},
		{"intel check", "too vague"},
		{"routine check as requested", "too vague"},
		{"as above", "too vague on its own"},
		{"As above.", "too vague on its own"},
		{"see above", "too vague on its own"},
		{"n/a", "too vague on its own"},
		{"N/A", "too vague on its own"},
		{"not applicable", "too vague on its own"},
		{"...", "0 meaningful word"},
		{"12345 67890", "0 meaningful word"},
		{"checking vehicle for ongoing investigation", "1 meaningful word"},
		{"vehicle of interest to the enquiry", "2 meaningful word"},
		{"suspect vehicle seen near scene", "5 meaningful word"},
		{"burglary burglary burglary burglary burglary burglary", `repeats "burglary"`},
		{"test test test test test test test", `repeats "test"`},
		{"car car car car car seen near station", `repeats "car"`},
		{"asdfgh", "keyboard mash"},
		{"qwerty qwerty", "keyboard mash"},
		{"aaaaaaa", "keyboard mash"},
		{"xxxxxxxxx", "keyboard mash"},
		{"jdhfksjdhfksdjhf", "keyboard mash"},
		{"sdkfjh sdkfjh sdkfjh", "keyboard mash"},
		{"suspect vehicle seen near the robbery scene zzzzzz last Tuesday evening", "keyboard mash"},
		{strings.Repeat("suspect vehicle seen near robbery scene last Tuesday. ", 60), "limit is 2000"},
		{"suspect vehicle seen near the robbery\x00 scene last Tuesday evening", "control characters"},
		{"suspect vehicle seen near the robbery \xff scene last Tuesday evening", "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(clipName(tt.justification), func(t *testing.T) {
			err := rr.Validate(goodReason(tt.justification))
			var re *authz.ReasonError
			if !errors.As(err, &re) || !errors.Is(err, authz.ErrInvalid) {
				t.Fatalf("Validate = %v, want a *ReasonError wrapping ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.wantInMessage) {
				t.Errorf("message %q does not contain %q", err, tt.wantInMessage)
			}
			for _, p := range re.Problems {
				if p.Field != "justification" {
					t.Errorf("unexpected problem with %s: %s", p.Field, p.Message)
				}
			}
		})
	}
}

func TestValidateStructuredFields(t *testing.T) {
	rr := defaultRules(t)
	good := "Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue; establish its route"
	tests := []struct {
		name   string
		reason authz.Reason
		want   map[string]string // field -> substring of its message
	}{
		{"missing purpose lists the allowed", authz.Reason{CaseRef: "MPS/12345/26", Justification: good},
			map[string]string{"purpose": "is missing; choose one of: serious_crime, major_crime"}},
		{"unknown purpose lists the allowed", authz.Reason{Purpose: "curiosity", CaseRef: "MPS/12345/26", Justification: good},
			map[string]string{"purpose": `"curiosity" is not a configured purpose; choose one of:`}},
		{"missing case ref shows an example", authz.Reason{Purpose: "missing_person", Justification: good},
			map[string]string{"case_ref": "missing; expected a reference like MPS/12345/26"}},
		{"malformed case ref shows an example", authz.Reason{Purpose: "missing_person", CaseRef: "12345", Justification: good},
			map[string]string{"case_ref": `"12345" is not a case or crime reference in the expected format; expected a reference like MPS/12345/26`}},
		{"offence code required for the purpose", authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/12345/26", Justification: good},
			map[string]string{"offence_code": "required for purpose serious_crime; expected a code like TH68010"}},
		{"malformed offence code", authz.Reason{Purpose: "missing_person", CaseRef: "MPS/12345/26", OffenceCode: "theft", Justification: good},
			map[string]string{"offence_code": `"THEFT" is not an offence code`}},
		{"everything wrong at once", authz.Reason{Purpose: "x", CaseRef: "y", OffenceCode: "z", Justification: "intel"},
			map[string]string{"purpose": "not a configured purpose", "case_ref": "expected format", "offence_code": "expected format", "justification": "too vague"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var re *authz.ReasonError
			if err := rr.Validate(tt.reason); !errors.As(err, &re) {
				t.Fatalf("Validate = %v, want *ReasonError", err)
			}
			got := map[string]string{}
			for _, p := range re.Problems {
				got[p.Field] += p.Message
			}
			if len(got) != len(tt.want) {
				t.Errorf("problems with %v, want %v", got, tt.want)
			}
			for field, sub := range tt.want {
				if !strings.Contains(got[field], sub) {
					t.Errorf("%s: %q does not contain %q", field, got[field], sub)
				}
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	rr := defaultRules(t)
	r := authz.Reason{Purpose: " serious_crime ", CaseRef: " mps/12345/26 ", OffenceCode: "th68010", Justification: "  Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue  "}
	if err := rr.Validate(r); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	n := rr.Normalize(r)
	if n.CaseRef != "MPS/12345/26" || n.OffenceCode != "TH68010" || n.Purpose != "serious_crime" || strings.HasPrefix(n.Justification, " ") {
		t.Errorf("Normalize = %+v", n)
	}
	if (authz.Reason{}).IsZero() != true || n.IsZero() {
		t.Error("IsZero wrong")
	}
}

func TestReasonRulesConfigured(t *testing.T) {
	rr := authz.ReasonRules{
		Purposes:       []authz.Purpose{{Name: "theft", Class: authz.ClassGeneral, NeedsOffenceCode: false}},
		CaseRefPattern: `^CR-\d{6}$`,
		CaseRefExample: "CR-123456",
		MinWords:       3,
	}
	if err := rr.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	if err := rr.Validate(authz.Reason{Purpose: "theft", CaseRef: "CR-123456", Justification: "stolen bicycle courier van"}); err != nil {
		t.Errorf("configured rules: %v", err)
	}
	err := rr.Validate(authz.Reason{Purpose: "theft", CaseRef: "MPS/12345/26", Justification: "stolen bicycle courier van"})
	if err == nil || !strings.Contains(err.Error(), "like CR-123456") {
		t.Errorf("configured case ref pattern not applied: %v", err)
	}
}

func TestReasonRulesConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		rr   authz.ReasonRules
		want string
	}{
		{"no purposes", authz.ReasonRules{Purposes: []authz.Purpose{}}, "no purposes"},
		{"duplicate purpose", authz.ReasonRules{Purposes: []authz.Purpose{{Name: "a", Class: authz.ClassGeneral}, {Name: "a", Class: authz.ClassGeneral}}}, "listed twice"},
		{"purpose without class", authz.ReasonRules{Purposes: []authz.Purpose{{Name: "a"}}}, "class"},
		{"bad regexp", authz.ReasonRules{CaseRefPattern: "([", CaseRefExample: "x"}, "case reference pattern"},
		{"example does not match", authz.ReasonRules{CaseRefPattern: `^\d+$`, CaseRefExample: "abc"}, "must match"},
		{"negative min words", authz.ReasonRules{MinWords: -1}, "min words"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.rr.CheckAndSetDefaults()
			if !errors.Is(err, authz.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	var unset authz.ReasonRules
	if err := unset.Validate(goodReason("anything")); !errors.Is(err, authz.ErrInvalid) {
		t.Errorf("Validate before CheckAndSetDefaults = %v, want ErrInvalid (fail closed)", err)
	}
}

// FuzzValidateReason: never panics, is deterministic, agrees with Normalize, and every rejection
// names known fields with a message.
func FuzzValidateReason(f *testing.F) {
	f.Add("serious_crime", "MPS/12345/26", "TH68010", "Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue")
	f.Add("", "", "", "")
	f.Add("missing_person", "mps/1/26", "", "n/a")
	f.Add("x", "\xff", "TH", "aaaa qwerty ✓✓✓✓ 日本語の文章です")
	rr := defaultRules(f)
	fields := map[string]bool{"purpose": true, "case_ref": true, "offence_code": true, "justification": true}
	f.Fuzz(func(t *testing.T, purpose, caseRef, offence, justification string) {
		r := authz.Reason{Purpose: purpose, CaseRef: caseRef, OffenceCode: offence, Justification: justification}
		err := rr.Validate(r)
		err2 := rr.Validate(rr.Normalize(r))
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) {
			t.Fatalf("Validate and Validate(Normalize) disagree: %v vs %v", err, err2)
		}
		if err == nil {
			return
		}
		var re *authz.ReasonError
		if !errors.As(err, &re) || len(re.Problems) == 0 {
			t.Fatalf("err = %v, want *ReasonError with problems", err)
		}
		for _, p := range re.Problems {
			if !fields[p.Field] || p.Message == "" {
				t.Fatalf("bad problem %+v", p)
			}
		}
	})
}

func clipName(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}
