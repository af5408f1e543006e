package plate

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestConfusableGroupsWellFormed(t *testing.T) {
	groups := ConfusableGroups()
	want := []string{"0ODQ", "1I", "2Z", "5S", "8B", "6G"}
	if !slices.Equal(groups, want) {
		// Changing the table changes every stored skeleton; make that a deliberate act.
		t.Fatalf("ConfusableGroups() = %q, want %q (update stored skeletons if you change it)", groups, want)
	}
	seen := map[byte]string{}
	for _, g := range groups {
		if len(g) < 2 {
			t.Errorf("group %q has fewer than two members", g)
		}
		for i := 0; i < len(g); i++ {
			if alnumIndex(g[i]) < 0 {
				t.Errorf("group %q has %q, which is not in A-Z0-9", g, g[i])
			}
			if other, dup := seen[g[i]]; dup {
				t.Errorf("%q is in both %q and %q; groups must be disjoint", g[i], other, g)
			}
			seen[g[i]] = g
		}
	}
	// Callers get a copy: mutating it must not change the package's behaviour.
	groups[0] = "0A"
	if Confusable('0', 'A') || !Confusable('0', 'O') {
		t.Fatal("mutating the returned slice changed Confusable")
	}
}

func TestConfusable(t *testing.T) {
	tests := []struct {
		a, b byte
		want bool
	}{
		{'A', 'A', true},
		{'0', '0', true},
		{'0', 'O', true},
		{'O', '0', true},
		{'D', 'Q', true},
		{'Q', '0', true},
		{'1', 'I', true},
		{'2', 'Z', true},
		{'5', 'S', true},
		{'8', 'B', true},
		{'B', '8', true},
		{'6', 'G', true},
		{'G', '6', true},
		{'0', '8', false},
		{'1', 'L', false},
		{'A', '4', false},
		{'U', 'V', false},
		{'B', 'D', false},
		{'O', 'o', false}, // Skeleton and Confusable work on normalised (upper-case) text
		{'?', '?', true},
	}
	for _, tt := range tests {
		if got := Confusable(tt.a, tt.b); got != tt.want {
			t.Errorf("Confusable(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSkeleton(t *testing.T) {
	tests := []struct{ vrm, want string }{
		{"", ""},
		{"AB12CDE", "A812C0E"},
		{"A812CDE", "A812C0E"},
		{"A8I2C0E", "A812C0E"},
		{"OOOO", "0000"},
		{"DQ0O", "0000"},
		{"SZIG", "5216"},
		{"HELLO", "HELL0"},
		{"XYW", "XYW"},
		{"AB?2*", "A8?2*"}, // wildcards pass through, so a pattern's skeleton is a pattern
	}
	for _, tt := range tests {
		if got := Skeleton(tt.vrm); got != tt.want {
			t.Errorf("Skeleton(%q) = %q, want %q", tt.vrm, got, tt.want)
		}
	}
}

// TestSkeletonProperties checks that Skeleton is idempotent and that two strings share a
// skeleton exactly when they have the same length and are confusable position by position.
func TestSkeletonProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// A small alphabet rich in confusables, so equal skeletons are common.
	const alphabet = "0ODQ1I8BAX"
	equal := 0
	for range 20000 {
		a := randString(rng, alphabet, 1+rng.IntN(5))
		var b string
		if rng.IntN(2) == 0 {
			b = randString(rng, alphabet, 1+rng.IntN(5))
		} else {
			b = perturb(rng, a)
		}
		sa, sb := Skeleton(a), Skeleton(b)
		if Skeleton(sa) != sa {
			t.Fatalf("Skeleton not idempotent on %q: %q then %q", a, sa, Skeleton(sa))
		}
		if sa == sb {
			equal++
		}
		if got, want := sa == sb, confusableEqual(a, b); got != want {
			t.Fatalf("a=%q b=%q: skeletons equal=%v but position-wise confusable=%v", a, b, got, want)
		}
	}
	if equal < 1000 {
		t.Fatalf("only %d pairs had equal skeletons; the generator is too weak", equal)
	}
}

// confusableEqual is the reference definition: same length, every position confusable.
func confusableEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if !Confusable(a[i], b[i]) {
			return false
		}
	}
	return true
}

// perturb swaps some characters of s for a member of their confusable group and, now and then,
// for an unrelated character.
func perturb(rng *rand.Rand, s string) string {
	b := []byte(s)
	groups := ConfusableGroups()
	for i, c := range b {
		switch rng.IntN(8) {
		case 0:
			b[i] = 'X'
		case 1, 2, 3:
			for _, g := range groups {
				if strings.IndexByte(g, c) >= 0 {
					b[i] = g[rng.IntN(len(g))]
				}
			}
		}
	}
	return string(b)
}
