package plate

import (
	"fmt"
	"strings"
)

// Pattern is a parsed wildcard pattern over normalised VRMs: '?' matches exactly one character,
// '*' any run including the empty one, and letters and digits match themselves. Build one with
// ParsePattern. Patterns are comparable with ==. The zero Pattern matches only the empty string,
// which is never a VRM.
type Pattern struct {
	// s is the canonical text: upper case, only A-Z 0-9 ? *, no "**", at most MaxInputLen bytes
	// (so a bit per position fits in a uint64 for Match).
	s string
}

// ParsePattern upper-cases raw, strips separators like Normalize and parses the rest as a
// Pattern. It accepts only A-Z, 0-9, '?' and '*', collapses runs of '*', and refuses a pattern
// that is empty, that has no letter or digit (it would select every plate, which is not a search
// for a vehicle) or that needs more characters than a plate can have (it could never match).
//
// One difference from Normalize: '_' is refused rather than stripped. People who know SQL type
// "AB_2" meaning "any one character"; stripping it would silently search for "AB2" instead, so
// the error points them to '?'. '%' gets the same treatment, pointing to '*'.
func ParsePattern(raw string) (Pattern, error) {
	fail := func(pos int, format string, args ...any) (Pattern, error) {
		return Pattern{}, &Error{Input: raw, Pos: pos, Reason: fmt.Sprintf(format, args...), what: "pattern"}
	}
	if len(raw) > MaxInputLen {
		return fail(-1, "input is %d bytes long; at most %d are accepted, separators included", len(raw), MaxInputLen)
	}
	if raw == "" {
		return fail(-1, "it is empty")
	}
	const rule = "a pattern has only letters A-Z, digits 0-9, ? (one character) and * (any run)"
	var buf [MaxInputLen]byte
	n, literals, stars := 0, 0, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '_':
			return fail(i, "character '_' at position %d is not a wildcard here; use ? for exactly one character", i+1)
		case c == '%':
			return fail(i, "character '%%' at position %d is not a wildcard here; use * for any run of characters", i+1)
		case isSeparator(c):
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
			literals++
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
			literals++
		case c == '?':
		case c == '*':
			if n > 0 && buf[n-1] == '*' {
				continue
			}
			stars++
		default:
			return fail(i, "%s", badChar(raw, i, rule))
		}
		buf[n] = c
		n++
	}
	switch {
	case n == 0:
		return fail(-1, "it has only separators, no letters, digits or wildcards")
	case literals == 0:
		return fail(-1, "it has no letter or digit, so it would match every plate")
	case n-stars > MaxVRMLen:
		return fail(-1, "it needs at least %d characters but a plate has at most %d, so it could never match", n-stars, MaxVRMLen)
	}
	return Pattern{s: string(buf[:n])}, nil
}

// String returns the canonical text, e.g. "AB?2*". It is also a valid SQLite GLOB and
// Elasticsearch wildcard pattern: neither needs escaping because only A-Z 0-9 ? * can occur.
func (p Pattern) String() string { return p.s }

// Match reports whether vrm matches the whole pattern. It simulates the pattern's automaton with
// one bit per pattern position, so it runs in O(len(pattern) + len(vrm)) whatever the input;
// there is no backtracking to blow up. '?' matches any single byte; VRMs are ASCII.
func (p Pattern) Match(vrm string) bool {
	var lit [36]uint64 // bit i of lit[k]: pattern position i is the literal with alnumIndex k
	var one, star uint64
	for i := 0; i < len(p.s); i++ {
		bit := uint64(1) << i
		switch c := p.s[i]; c {
		case '?':
			one |= bit
		case '*':
			star |= bit
		default:
			lit[alnumIndex(c)] |= bit
		}
	}
	// Bit i of state: vrm so far can match pattern[:i]. A star may match nothing, so a state at
	// a star also stands on the position after it; one step suffices as stars never repeat.
	state := uint64(1)
	state |= (state & star) << 1
	for i := 0; i < len(vrm); i++ {
		m := one
		if k := alnumIndex(vrm[i]); k >= 0 {
			m |= lit[k]
		}
		state = (state&m)<<1 | state&star
		state |= (state & star) << 1
		if state == 0 {
			return false
		}
	}
	return state&(uint64(1)<<len(p.s)) != 0
}

// alnumIndex maps A-Z to 0..25 and 0-9 to 26..35; anything else to -1.
func alnumIndex(c byte) int {
	switch {
	case 'A' <= c && c <= 'Z':
		return int(c - 'A')
	case '0' <= c && c <= '9':
		return 26 + int(c-'0')
	}
	return -1
}

func isWildcard(c byte) bool { return c == '?' || c == '*' }

// FixedRuns returns the maximal runs of literal characters in order, e.g. "AB?2*CD" gives
// ["AB", "2", "CD"]. Backends use them to pick index terms (trigrams need runs of three or more).
func (p Pattern) FixedRuns() []string {
	return strings.FieldsFunc(p.s, func(r rune) bool { return r == '?' || r == '*' })
}

// FixedCount returns the number of literal characters; the search service uses it to refuse
// patterns too vague to be a lawful search for one vehicle.
func (p Pattern) FixedCount() int {
	n := 0
	for i := 0; i < len(p.s); i++ {
		if !isWildcard(p.s[i]) {
			n++
		}
	}
	return n
}

// HasWildcard reports whether the pattern has a '?' or '*'; without one it names a single VRM.
func (p Pattern) HasWildcard() bool { return strings.ContainsAny(p.s, "?*") }

// MinLen returns the length of the shortest plate the pattern can match.
func (p Pattern) MinLen() int { return len(p.s) - strings.Count(p.s, "*") }

// MaxLen returns the length of the longest plate the pattern can match, or -1 when a '*' makes it
// unbounded.
func (p Pattern) MaxLen() int {
	if strings.Contains(p.s, "*") {
		return -1
	}
	return len(p.s)
}

// Anchored returns the literal prefix before the first wildcard ("" when the pattern starts with
// one), which an ordered index can turn into a range scan.
func (p Pattern) Anchored() (prefix string) {
	if i := strings.IndexAny(p.s, "?*"); i >= 0 {
		return p.s[:i]
	}
	return p.s
}

// Exact returns the single VRM the pattern matches when it has no wildcard, so callers can use
// an exact lookup instead of a pattern scan.
func (p Pattern) Exact() (vrm string, ok bool) {
	if p.s == "" || p.HasWildcard() {
		return "", false
	}
	return p.s, true
}
