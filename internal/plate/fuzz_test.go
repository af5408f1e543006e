package plate

import (
	"errors"
	"strings"
	"testing"
)

// The seeds run as ordinary test cases under plain `go test`; `go test -fuzz=FuzzX` explores
// from them.

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"", " ", "A", "AB", "ABC", "AB12 CDE", "ab12-cde", "A 1", "12345", "ABCDE123456",
		"AB12£CD", "АB12CDE", "AB\x0012", "AB\xff12", strings.Repeat(" ", 30) + "A1",
		strings.Repeat("A", 33), "AB.12_CD/E\t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		checkNormalize(t, raw)
	})
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []struct{ pattern, vrm string }{
		{"AB?2*", "AB12CDE"},
		{"*CDE", "AB12CDE"},
		{"A**B", "AXB"},
		{"*A*A*A*B", "AAAAAAAAAB"},
		{"?", "A"},
		{"*", ""},
		{"", ""},
		{"AB_2", "AB12"},
		{"ab 12 *", "AB12"},
		{"A?????????B", "A123456789B"},
		{"AB£", "AB£"},
		{"?*?", "A\xffB"},
	} {
		f.Add(s.pattern, s.vrm)
	}
	f.Fuzz(func(t *testing.T, raw, vrm string) {
		p, err := ParsePattern(raw)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Input != raw || pe.Reason == "" || pe.Pos < -1 || pe.Pos >= len(raw) {
				t.Fatalf("ParsePattern(%q) gave a malformed error %#v", raw, err)
			}
			return
		}
		s := p.String()
		if again, err := ParsePattern(s); err != nil || again != p {
			t.Fatalf("ParsePattern(%q) = %q, which reparses to %q, %v", raw, s, again.String(), err)
		}
		if s == "" || strings.Contains(s, "**") || strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789?*") != "" {
			t.Fatalf("ParsePattern(%q) = %q is not canonical", raw, s)
		}
		runs := p.FixedRuns()
		if p.FixedCount() != len(strings.Join(runs, "")) || p.FixedCount() == 0 {
			t.Fatalf("%q: FixedCount %d disagrees with FixedRuns %q", s, p.FixedCount(), runs)
		}
		if p.MinLen() > MaxVRMLen || !strings.HasPrefix(s, p.Anchored()) {
			t.Fatalf("%q: MinLen %d, Anchored %q", s, p.MinLen(), p.Anchored())
		}
		if p.HasWildcard() != strings.ContainsAny(s, "?*") {
			t.Fatalf("%q: HasWildcard %v", s, p.HasWildcard())
		}
		got := checkMatch(t, p, vrm)
		if got && (len(vrm) < p.MinLen() || p.MaxLen() >= 0 && len(vrm) > p.MaxLen()) {
			t.Fatalf("%q matched %q outside lengths [%d,%d]", s, vrm, p.MinLen(), p.MaxLen())
		}
		// The plate built by filling every wildcard must match.
		filled := strings.NewReplacer("?", "X", "*", "").Replace(s)
		if !p.Match(filled) {
			t.Fatalf("%q does not match its own filling %q", s, filled)
		}
	})
}

func FuzzCompare(f *testing.F) {
	for _, s := range [][2]string{
		{"AB12CDE", "AB12CDE"},
		{"AB12CDE", "A812C0E"},
		{"AB12CDE", "AB12CD"},
		{"", "AB"},
		{"O0", "0"},
		{"OOOO", "0D0Q"},
		{"AB12CDE", "XY98ZZZ"},
		{"\xff", "\xfe\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, query, candidate string) {
		// Compare is quadratic and documented for VRM-sized input; longer strings only slow the
		// fuzzer without reaching new code.
		if len(query) > 40 || len(candidate) > 40 {
			return
		}
		checkCompare(t, query, candidate)
	})
}
