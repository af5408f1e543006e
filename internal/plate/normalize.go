package plate

import (
	"fmt"
	"unicode/utf8"
)

// Limits on a plate.
const (
	// MinVRMLen and MaxVRMLen bound a normalised VRM. Two characters covers the shortest UK
	// dateless marks ("A1", "1A"); ten covers the longest foreign plates we expect in reads (most
	// European plates have at most eight significant characters) with room to spare.
	MinVRMLen = 2
	MaxVRMLen = 10
	// MinLettersOnlyLen is the shortest plate without a digit that we accept. See Normalize.
	MinLettersOnlyLen = 3
	// MaxInputLen bounds raw input, before separators are stripped, so a hostile caller cannot
	// make us scan megabytes of spaces to find ten characters.
	MaxInputLen = 32
)

// Error is the error Normalize and ParsePattern return, always as *Error, so callers use
//
//	var pe *plate.Error
//	if errors.As(err, &pe) { ... pe.Pos ... }
//
// Reason is a human sentence; Pos is the 0-based byte index in Input of the offending character,
// or -1 when no single character is to blame. Input is the caller's string, unmodified.
type Error struct {
	Input  string
	Pos    int
	Reason string

	what string // "plate" or "pattern"; the zero value reads as "plate"
}

// Error implements error. The input is quoted (so control characters are visible) and cut short
// when it is long, because these messages end up in logs and problem+json responses.
func (e *Error) Error() string {
	what := e.what
	if what == "" {
		what = "plate"
	}
	in := e.Input
	if len(in) > MaxInputLen {
		in = in[:MaxInputLen] + "..."
	}
	return fmt.Sprintf("invalid %s %q: %s", what, in, e.Reason)
}

// Normalize upper-cases raw, strips separators (space, tab, '-', '.', '_', '/') and returns the
// normalised VRM, or an *Error that says why raw is not a plausible plate.
//
// Plausibility rule: after normalising, MinVRMLen..MaxVRMLen characters of A-Z and 0-9, and
// either at least one digit or at least MinLettersOnlyLen letters. Every UK mark (current
// "AB12CDE", prefix "A123BCD", suffix "ABC123D", dateless "1A" / "ABC1234", Northern Irish
// "ABZ1234") contains a digit, so a UK read without one is a misread. We still accept letters-only
// plates because foreign vanity plates ("HELLO") appear in reads and must be searchable, but only
// from three letters: a two-letter, digit-free read is far more often an OCR fragment of a sign
// or a half-read plate than a real registration, and nothing in UK practice issues one. Digits-only
// plates (Guernsey "12345", many US plates) are accepted.
//
// Non-ASCII input (including look-alikes such as Cyrillic 'А' or full-width digits) is refused,
// not folded: silently mapping it would let two different inputs name the same plate in audit.
func Normalize(raw string) (string, error) {
	fail := func(pos int, format string, args ...any) (string, error) {
		return "", &Error{Input: raw, Pos: pos, Reason: fmt.Sprintf(format, args...), what: "plate"}
	}
	if len(raw) > MaxInputLen {
		return fail(-1, "input is %d bytes long; at most %d are accepted, separators included", len(raw), MaxInputLen)
	}
	if raw == "" {
		return fail(-1, "it is empty")
	}
	var buf [MaxInputLen]byte
	n, digits, tooLongAt := 0, 0, -1
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case isSeparator(c):
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			digits++
		default:
			return fail(i, "%s", badChar(raw, i, "a plate has only letters A-Z and digits 0-9"))
		}
		if n == MaxVRMLen && tooLongAt < 0 {
			tooLongAt = i
		}
		buf[n] = c
		n++
	}
	switch {
	case n == 0:
		return fail(-1, "it has only separators, no letters or digits")
	case n < MinVRMLen:
		return fail(-1, "it has 1 character after removing separators; a plate has at least %d", MinVRMLen)
	case n > MaxVRMLen:
		return fail(tooLongAt, "it has %d characters after removing separators; a plate has at most %d", n, MaxVRMLen)
	case digits == 0 && n < MinLettersOnlyLen:
		return fail(-1, "it has no digit and only %d letters; a plate without a digit needs at least %d letters", n, MinLettersOnlyLen)
	}
	return string(buf[:n]), nil
}

// isSeparator reports whether c is one of the characters people and cameras put between the
// groups of a plate. Tab is here because pasted spreadsheet cells carry it.
func isSeparator(c byte) bool {
	switch c {
	case ' ', '\t', '-', '.', '_', '/':
		return true
	}
	return false
}

// badChar describes the unacceptable character at byte i of s. Every byte before i was accepted
// and so is ASCII, which makes the byte index also the character index and i+1 the position a
// person would count.
func badChar(s string, i int, rule string) string {
	c := s[i]
	switch {
	case c >= utf8.RuneSelf:
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return fmt.Sprintf("byte 0x%02X at position %d is not valid UTF-8; %s", c, i+1, rule)
		}
		return fmt.Sprintf("character %q (U+%04X) at position %d is not ASCII; %s", r, r, i+1, rule)
	case c < 0x20 || c == 0x7f:
		return fmt.Sprintf("control character U+%04X at position %d is not allowed; %s", c, i+1, rule)
	default:
		return fmt.Sprintf("character %q at position %d is not allowed; %s", c, i+1, rule)
	}
}
