package plate

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestNormalizeAccepts(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"UK current", "AB12 CDE", "AB12CDE"},
		{"UK current lower case", "ab12cde", "AB12CDE"},
		{"UK current mixed case and padding", "  Ab12 cDe ", "AB12CDE"},
		{"UK prefix", "A123 BCD", "A123BCD"},
		{"UK suffix", "ABC 123D", "ABC123D"},
		{"UK dateless letters first", "ABC 123", "ABC123"},
		{"UK dateless digits first", "1234 AB", "1234AB"},
		{"UK dateless shortest", "A 1", "A1"},
		{"UK dateless shortest reversed", "1 A", "1A"},
		{"UK cherished", "K 1", "K1"},
		{"Northern Ireland", "ABZ 1234", "ABZ1234"},
		{"France", "AB-123-CD", "AB123CD"},
		{"Germany", "M-AB 1234", "MAB1234"},
		{"Ireland", "12-D-12345", "12D12345"},
		{"Netherlands", "12-ABC-3", "12ABC3"},
		{"Guernsey digits only", "12345", "12345"},
		{"two digits", "12", "12"},
		{"letters only, three", "ABC", "ABC"},
		{"US vanity letters only", "HELLO", "HELLO"},
		{"every separator", "A\tB-1.2_C/D E", "AB12CDE"},
		{"ten characters", "ABCDE12345", "ABCDE12345"},
		{"32 bytes with separators", strings.Repeat(" ", 25) + "AB12CDE", "AB12CDE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw)
			if err != nil {
				t.Fatalf("Normalize(%q) error: %v", tt.raw, err)
			}
			if got != tt.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name, raw string
		pos       int
		reason    string // a substring of Reason that names the cause
	}{
		{"empty", "", -1, "empty"},
		{"only separators", " -._/\t", -1, "only separators"},
		{"one letter", "A", -1, "1 character"},
		{"one digit with separators", " 7 ", -1, "1 character"},
		{"two letters, no digit", "AB", -1, "no digit and only 2 letters"},
		{"two letters with separators", "A-B", -1, "no digit and only 2 letters"},
		{"eleven characters", "ABCDE123456", 10, "11 characters"},
		{"eleven characters, position is the 11th", "AB CDE 123456", 12, "11 characters"},
		{"too long before stripping", strings.Repeat(" ", 26) + "AB12CDE", -1, "33 bytes"},
		{"punctuation", "AB12#CD", 4, "character '#' at position 5 is not allowed"},
		{"plus", "AB+12", 2, "character '+' at position 3"},
		{"non-ASCII symbol", "AB12£CD", 4, "'£' (U+00A3) at position 5 is not ASCII"},
		{"Cyrillic look-alike", "АB12CDE", 0, "U+0410"},
		{"full-width letter", "ＡB12", 0, "U+FF21"},
		{"accented letter", "ÉB12", 0, "U+00C9"},
		{"NUL", "AB\x0012", 2, "control character U+0000 at position 3"},
		{"newline", "AB\n12", 2, "control character U+000A"},
		{"DEL", "AB12CD\x7f", 6, "control character U+007F at position 7"},
		{"invalid UTF-8", "AB\xff12", 2, "byte 0xFF at position 3 is not valid UTF-8"},
		{"wildcard is not a plate", "AB1?", 3, "character '?' at position 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Normalize(tt.raw)
			if err == nil {
				t.Fatalf("Normalize(%q) = %q, want an error", tt.raw, got)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Normalize(%q) error %T is not *Error", tt.raw, err)
			}
			if pe.Input != tt.raw {
				t.Errorf("Input = %q, want %q", pe.Input, tt.raw)
			}
			if pe.Pos != tt.pos {
				t.Errorf("Pos = %d, want %d (reason %q)", pe.Pos, tt.pos, pe.Reason)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tt.reason)
			}
			if !strings.Contains(err.Error(), pe.Reason) {
				t.Errorf("Error() = %q does not include the reason", err.Error())
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	_, err := Normalize("AB12#CD")
	want := `invalid plate "AB12#CD": character '#' at position 5 is not allowed; a plate has only letters A-Z and digits 0-9`
	if err == nil || err.Error() != want {
		t.Fatalf("Error() = %v, want %s", err, want)
	}

	_, err = ParsePattern("AB_2")
	if err == nil || !strings.HasPrefix(err.Error(), `invalid pattern "AB_2": `) {
		t.Fatalf("pattern Error() = %v, want it to say pattern", err)
	}

	// A huge input must not make a huge message: it lands in logs and HTTP responses.
	long := strings.Repeat("A", 10000)
	_, err = Normalize(long)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("Error() for 10000-byte input is %d bytes, want a short message", len(err.Error()))
	}

	// The zero-value what field still reads sensibly for callers who build an Error themselves.
	if got := (&Error{Input: "X", Pos: -1, Reason: "r"}).Error(); got != `invalid plate "X": r` {
		t.Fatalf("zero Error() = %q", got)
	}
}

// TestNormalizeProperties checks, over random inputs, that Normalize is idempotent, that every
// result obeys the documented rule, and that case and separators never change the result.
func TestNormalizeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789 -._/\t#?é"
	accepted := 0
	for range 20000 {
		raw := randString(rng, alphabet, rng.IntN(16))
		checkNormalize(t, raw)
		v, err := Normalize(raw)
		if err != nil {
			continue
		}
		accepted++
		// Re-dressing the plate with separators and lower case gives the same VRM back.
		dressed := dress(rng, v)
		if len(dressed) <= MaxInputLen {
			if got, err := Normalize(dressed); err != nil || got != v {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", dressed, got, err, v)
			}
		}
	}
	if accepted < 1000 {
		t.Fatalf("only %d random inputs accepted; the generator is not exercising the happy path", accepted)
	}
}

// checkNormalize asserts the invariants of Normalize for one input; shared with FuzzNormalize.
func checkNormalize(t *testing.T, raw string) {
	t.Helper()
	v, err := Normalize(raw)
	if err != nil {
		var pe *Error
		if !errors.As(err, &pe) {
			t.Fatalf("Normalize(%q) error %T is not *Error", raw, err)
		}
		if pe.Input != raw || pe.Reason == "" || pe.Pos < -1 || pe.Pos >= len(raw) {
			t.Fatalf("Normalize(%q) gave a malformed error %#v", raw, pe)
		}
		return
	}
	if len(v) < MinVRMLen || len(v) > MaxVRMLen {
		t.Fatalf("Normalize(%q) = %q: length %d out of range", raw, v, len(v))
	}
	digit := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if alnumIndex(c) < 0 {
			t.Fatalf("Normalize(%q) = %q: byte %q not in A-Z0-9", raw, v, c)
		}
		digit = digit || '0' <= c && c <= '9'
	}
	if !digit && len(v) < MinLettersOnlyLen {
		t.Fatalf("Normalize(%q) = %q: letters only and shorter than %d", raw, v, MinLettersOnlyLen)
	}
	if again, err := Normalize(v); err != nil || again != v {
		t.Fatalf("Normalize not idempotent: Normalize(%q) = %q, %v", v, again, err)
	}
	if s := Skeleton(v); Skeleton(s) != s || len(s) != len(v) {
		t.Fatalf("Skeleton(%q) = %q is not an idempotent same-length map", v, s)
	}
}

// dress lower-cases some characters of v and puts random separators between them.
func dress(rng *rand.Rand, v string) string {
	const seps = " -._/\t"
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if rng.IntN(3) == 0 {
			b.WriteByte(seps[rng.IntN(len(seps))])
		}
		c := v[i]
		if 'A' <= c && c <= 'Z' && rng.IntN(2) == 0 {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// randString returns n bytes drawn from the bytes of alphabet (multi-byte runes may be cut,
// which is useful: it produces invalid UTF-8 too).
func randString(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
