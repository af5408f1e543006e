package plate

import (
	"errors"
	"math/rand/v2"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestParsePatternAccepts(t *testing.T) {
	tests := []struct {
		raw, want string
		runs      []string
		fixed     int
		wildcard  bool
		minLen    int
		maxLen    int
		prefix    string
	}{
		{"AB?2*CD", "AB?2*CD", []string{"AB", "2", "CD"}, 5, true, 6, -1, "AB"},
		{"ab 12 *", "AB12*", []string{"AB12"}, 4, true, 4, -1, "AB12"},
		{"A**B", "A*B", []string{"A", "B"}, 2, true, 2, -1, "A"},
		{"A* -*B", "A*B", []string{"A", "B"}, 2, true, 2, -1, "A"},
		{"*AB*", "*AB*", []string{"AB"}, 2, true, 2, -1, ""},
		{"?B12CDE", "?B12CDE", []string{"B12CDE"}, 6, true, 7, 7, ""},
		{"??12???", "??12???", []string{"12"}, 2, true, 7, 7, ""},
		{"AB12 CDE", "AB12CDE", []string{"AB12CDE"}, 7, false, 7, 7, "AB12CDE"},
		{"AB-12.CD/E", "AB12CDE", []string{"AB12CDE"}, 7, false, 7, 7, "AB12CDE"},
		{"ABCDEFGHIJ*", "ABCDEFGHIJ*", []string{"ABCDEFGHIJ"}, 10, true, 10, -1, "ABCDEFGHIJ"},
		{"A", "A", []string{"A"}, 1, false, 1, 1, "A"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			p, err := ParsePattern(tt.raw)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.raw, err)
			}
			if p.String() != tt.want {
				t.Errorf("String() = %q, want %q", p.String(), tt.want)
			}
			if got := p.FixedRuns(); !slices.Equal(got, tt.runs) {
				t.Errorf("FixedRuns() = %q, want %q", got, tt.runs)
			}
			if got := p.FixedCount(); got != tt.fixed {
				t.Errorf("FixedCount() = %d, want %d", got, tt.fixed)
			}
			if got := p.HasWildcard(); got != tt.wildcard {
				t.Errorf("HasWildcard() = %v, want %v", got, tt.wildcard)
			}
			if got := p.MinLen(); got != tt.minLen {
				t.Errorf("MinLen() = %d, want %d", got, tt.minLen)
			}
			if got := p.MaxLen(); got != tt.maxLen {
				t.Errorf("MaxLen() = %d, want %d", got, tt.maxLen)
			}
			if got := p.Anchored(); got != tt.prefix {
				t.Errorf("Anchored() = %q, want %q", got, tt.prefix)
			}
			vrm, ok := p.Exact()
			if ok == tt.wildcard || ok && vrm != tt.want {
				t.Errorf("Exact() = %q, %v; want the text exactly when there is no wildcard", vrm, ok)
			}
			if again, err := ParsePattern(p.String()); err != nil || again != p {
				t.Errorf("reparsing %q gave %q, %v", p.String(), again.String(), err)
			}
		})
	}
}

func TestParsePatternRejects(t *testing.T) {
	tests := []struct {
		name, raw string
		pos       int
		reason    string
	}{
		{"empty", "", -1, "empty"},
		{"only separators", " - ", -1, "only separators"},
		{"only a star", "*", -1, "no letter or digit"},
		{"only wildcards", "??*?", -1, "no letter or digit"},
		{"SQL underscore", "AB_2", 2, "use ? for exactly one character"},
		{"SQL percent", "AB%", 2, "use * for any run"},
		{"bracket class", "AB[12]", 2, "character '[' at position 3"},
		{"regexp dot-star is a separator then a star, but + is refused", "AB.+", 3, "character '+' at position 4"},
		{"non-ASCII", "AB£", 2, "'£' (U+00A3) at position 3 is not ASCII"},
		{"control", "AB\x01", 2, "control character U+0001"},
		{"invalid UTF-8", "A\xc3", 1, "not valid UTF-8"},
		{"longer than any plate", "ABCDEFGHJK1", -1, "needs at least 11 characters"},
		{"question marks make it too long", "A?????????B*", -1, "needs at least 11 characters"},
		{"too long before stripping", "A" + strings.Repeat("*", 32), -1, "33 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePattern(tt.raw)
			if err == nil {
				t.Fatalf("ParsePattern(%q) = %q, want an error", tt.raw, p.String())
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *Error", err)
			}
			if pe.Input != tt.raw || pe.Pos != tt.pos {
				t.Errorf("Input, Pos = %q, %d; want %q, %d", pe.Input, pe.Pos, tt.raw, tt.pos)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tt.reason)
			}
		})
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, vrm string
		want         bool
	}{
		{"AB12CDE", "AB12CDE", true},
		{"AB12CDE", "AB12CD", false},
		{"AB12CDE", "AB12CDEF", false},
		{"AB?2CDE", "AB12CDE", true},
		{"AB?2CDE", "AB2CDE", false}, // ? is exactly one character
		{"AB*", "AB", true},          // * may be empty
		{"AB*", "AB12CDE", true},
		{"*CDE", "AB12CDE", true},
		{"*CDE", "AB12CDF", false},
		{"*12*", "AB12CDE", true},
		{"*12*", "12", true},
		{"*12*", "1X2", false},
		{"A*B*C", "ABC", true},
		{"A*B*C", "AXXBXXC", true},
		{"A*B*C", "AXXCXXB", false},
		{"A*A", "A", false},
		{"A*A", "AA", true},
		{"A*?", "AB", true},
		{"A*?", "A", false},
		{"AB*", "ab12", false}, // Match takes normalised VRMs
		{"A?", "A£", false},    // '?' is one byte; '£' is two
		{"*?*1", "A1", true},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Match(tt.vrm); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.vrm, got, tt.want)
		}
	}
	if (Pattern{}).Match("AB12CDE") || !(Pattern{}).Match("") {
		t.Error("the zero Pattern must match only the empty string")
	}
}

// TestPatternMatchLongInput is the input that makes backtracking glob matchers quadratic or
// worse. It checks the answer, not the time: Match's automaton does one step per byte.
func TestPatternMatchLongInput(t *testing.T) {
	p, err := ParsePattern("*A*A*A*A*A*B")
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("A", 100000)
	if p.Match(long) {
		t.Fatal("matched a plate without B")
	}
	if !p.Match(long + "B") {
		t.Fatal("did not match a plate ending in B")
	}
}

// TestPatternMatchAgreesWithReferences compares Match with two independent matchers, regexp and
// path.Match, on random patterns and plates over a small alphabet (so matches are common).
func TestPatternMatchAgreesWithReferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	matched := 0
	for range 20000 {
		raw := randString(rng, "AB1??**", 1+rng.IntN(8))
		p, err := ParsePattern(raw)
		if err != nil {
			continue
		}
		for range 5 {
			vrm := randString(rng, "AB1C", rng.IntN(9))
			got := checkMatch(t, p, vrm)
			if got {
				matched++
			}
		}
	}
	if matched < 5000 {
		t.Fatalf("only %d matches; the generator is too weak", matched)
	}
}

// checkMatch compares p.Match(vrm) with regexp and path.Match and returns the result; shared
// with FuzzParsePattern.
func checkMatch(t *testing.T, p Pattern, vrm string) bool {
	t.Helper()
	got := p.Match(vrm)
	// Match works on bytes and regexp on runes. A pattern's literals are ASCII, so replacing each
	// non-ASCII byte with '#' (which no pattern contains) keeps Match's answer and lets the
	// rune-based references see one character per byte.
	ascii := []byte(vrm)
	for i, c := range ascii {
		if c >= 0x80 {
			ascii[i] = '#'
		}
	}
	if want := refRegexp(p).Match(ascii); got != want {
		t.Fatalf("%q.Match(%q) = %v, regexp says %v", p.String(), vrm, got, want)
	}
	// path.Match treats '/' specially and '\\' as an escape; compare only where neither occurs.
	if !strings.ContainsAny(vrm, "/\\") {
		want, err := path.Match(p.String(), string(ascii))
		if err != nil || got != want {
			t.Fatalf("%q.Match(%q) = %v, path.Match says %v, %v", p.String(), vrm, got, want, err)
		}
	}
	return got
}

// refRegexp translates a pattern into an anchored regular expression.
func refRegexp(p Pattern) *regexp.Regexp {
	r := strings.NewReplacer("?", ".", "*", ".*").Replace(p.String())
	return regexp.MustCompile(`(?s)^` + r + `$`)
}
