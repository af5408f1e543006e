package plate

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestCompare(t *testing.T) {
	tests := []struct {
		name, query, candidate string
		dist, conf             int
		ops                    []Op
		text                   string
	}{
		{"identical", "AB12CDE", "AB12CDE", 0, 0, nil, "identical"},
		{"confusable", "AB12CDE", "A812CDE", 0, 1,
			[]Op{{OpConfusable, 1, "B", "8"}}, "pos 2: B read as 8 (confusable)"},
		{"zero read as O", "AB10CDE", "AB1OCDE", 0, 1,
			[]Op{{OpConfusable, 3, "0", "O"}}, "pos 4: 0 read as O (confusable)"},
		{"missing last", "AB12CDE", "AB12CD", 1, 0,
			[]Op{{OpDelete, 6, "E", ""}}, "pos 7: E missing"},
		{"extra last", "AB12CDE", "AB12CDEX", 1, 0,
			[]Op{{OpInsert, 7, "", "X"}}, "pos 8: extra X"},
		{"substitute", "AB12CDE", "AB13CDE", 1, 0,
			[]Op{{OpSubstitute, 3, "2", "3"}}, "pos 4: 2 read as 3"},
		{"mixed", "AB12CDE", "A812C0F", 1, 2,
			[]Op{{OpConfusable, 1, "B", "8"}, {OpConfusable, 5, "D", "0"}, {OpSubstitute, 6, "E", "F"}},
			"pos 2: B read as 8 (confusable); pos 6: D read as 0 (confusable); pos 7: E read as F"},
		{"missing in the middle", "AB12CDE", "AB2CDE", 1, 0,
			[]Op{{OpDelete, 2, "1", ""}}, "pos 3: 1 missing"},
		{"extra in the middle", "AB12CDE", "AB112CDE", 1, 0,
			// Either 1 could be the extra one; the walk back from the end matches the later one.
			[]Op{{OpInsert, 2, "", "1"}}, "pos 3: extra 1"},
		{"empty query", "", "AB", 2, 0,
			[]Op{{OpInsert, 0, "", "A"}, {OpInsert, 1, "", "B"}}, "pos 1: extra A; pos 2: extra B"},
		{"empty candidate", "AB", "", 2, 0,
			[]Op{{OpDelete, 0, "A", ""}, {OpDelete, 1, "B", ""}}, "pos 1: A missing; pos 2: B missing"},
		{"both empty", "", "", 0, 0, nil, "identical"},
		// Deleting O and matching 0 exactly, or reading O as 0 and deleting the 0, both cost 1;
		// the tie goes to the explanation with fewer confusables.
		{"tie prefers exact matches", "O0", "0", 1, 0,
			[]Op{{OpDelete, 0, "O", ""}}, "pos 1: O missing"},
		{"tie prefers exact matches over the diagonal", "0O", "0", 1, 0,
			[]Op{{OpDelete, 1, "O", ""}}, "pos 2: O missing"},
		{"transposition costs two", "AB12CDE", "AB21CDE", 2, 0,
			[]Op{{OpSubstitute, 2, "1", "2"}, {OpSubstitute, 3, "2", "1"}}, "pos 3: 1 read as 2; pos 4: 2 read as 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Compare(tt.query, tt.candidate)
			if d.Distance != tt.dist || d.Confusables != tt.conf {
				t.Errorf("Distance, Confusables = %d, %d; want %d, %d", d.Distance, d.Confusables, tt.dist, tt.conf)
			}
			if !slices.Equal(d.Ops, tt.ops) {
				t.Errorf("Ops = %+v, want %+v", d.Ops, tt.ops)
			}
			if got := d.String(); got != tt.text {
				t.Errorf("String() = %q, want %q", got, tt.text)
			}
			checkCompare(t, tt.query, tt.candidate)
		})
	}
}

func TestDiffJSON(t *testing.T) {
	b, err := json.Marshal(Compare("AB12CDE", "A812CD"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"distance":1,"confusables":1,"ops":[{"kind":"confusable","pos":1,"query":"B","found":"8"},{"kind":"delete","pos":6,"query":"E"}]}`
	if string(b) != want {
		t.Fatalf("JSON = %s, want %s", b, want)
	}
}

// TestCompareProperties checks on random pairs: symmetry of Distance and Confusables, zero
// distance exactly for confusable-equal strings, agreement with plain Levenshtein over skeletons,
// the triangle inequality, and that the Ops replay to turn the query into the candidate.
func TestCompareProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const alphabet = "0ODQ1I8BAX"
	zero := 0
	for range 5000 {
		a := randString(rng, alphabet, rng.IntN(9))
		b := perturb(rng, a)
		if rng.IntN(2) == 0 {
			b = randString(rng, alphabet, rng.IntN(9))
		}
		c := randString(rng, alphabet, rng.IntN(9))
		checkCompare(t, a, b)
		if Compare(a, b).Distance == 0 {
			zero++
		}
		ab, bc, ac := Compare(a, b).Distance, Compare(b, c).Distance, Compare(a, c).Distance
		if ac > ab+bc {
			t.Fatalf("triangle inequality fails: d(%q,%q)=%d > d(%q,%q)=%d + d(%q,%q)=%d", a, c, ac, a, b, ab, b, c, bc)
		}
	}
	if zero < 500 {
		t.Fatalf("only %d zero-distance pairs; the generator is too weak", zero)
	}
}

// checkCompare asserts the invariants of Compare for one pair; shared with FuzzCompare.
func checkCompare(t *testing.T, query, candidate string) {
	t.Helper()
	d := Compare(query, candidate)
	r := Compare(candidate, query)
	if d.Distance != r.Distance || d.Confusables != r.Confusables {
		t.Fatalf("Compare(%q,%q) = %d/%d but reversed %d/%d", query, candidate, d.Distance, d.Confusables, r.Distance, r.Confusables)
	}
	if got, want := d.Distance == 0, confusableEqual(query, candidate); got != want {
		t.Fatalf("Compare(%q,%q).Distance = %d, but confusable-equal = %v", query, candidate, d.Distance, want)
	}
	if want := levenshtein(Skeleton(query), Skeleton(candidate)); d.Distance != want {
		t.Fatalf("Compare(%q,%q).Distance = %d, plain Levenshtein of skeletons = %d", query, candidate, d.Distance, want)
	}
	if lo, hi := abs(len(query)-len(candidate)), max(len(query), len(candidate)); d.Distance < lo || d.Distance > hi {
		t.Fatalf("Compare(%q,%q).Distance = %d outside [%d,%d]", query, candidate, d.Distance, lo, hi)
	}
	if err := replay(query, candidate, d); err != nil {
		t.Fatalf("Compare(%q,%q) = %+v: %v", query, candidate, d, err)
	}
	if (d.String() == "identical") != (len(d.Ops) == 0) {
		t.Fatalf("String() = %q with %d ops", d.String(), len(d.Ops))
	}
}

// replay walks query and candidate along d.Ops, treating the gaps between ops as identical
// characters, and fails if the explanation does not account for both strings exactly or if its
// counts disagree with Distance and Confusables.
func replay(query, candidate string, d Diff) error {
	i, j, dist, conf := 0, 0, 0, 0
	same := func(untilI, untilJ int) error { // advance over identical characters
		for i < untilI || j < untilJ {
			if i >= len(query) || j >= len(candidate) || query[i] != candidate[j] {
				return fmt.Errorf("query[%d] and candidate[%d] are treated as identical but are not", i, j)
			}
			i, j = i+1, j+1
		}
		return nil
	}
	for k, op := range d.Ops {
		var err error
		if op.Kind == OpDelete {
			err = same(op.Pos, 0)
		} else {
			err = same(0, op.Pos)
		}
		if err != nil {
			return fmt.Errorf("op %d: %w", k, err)
		}
		switch op.Kind {
		case OpConfusable, OpSubstitute:
			if i >= len(query) || j >= len(candidate) || op.Query != query[i:i+1] || op.Found != candidate[j:j+1] {
				return fmt.Errorf("op %d %+v does not match query[%d], candidate[%d]", k, op, i, j)
			}
			if isConf := query[i] != candidate[j] && Confusable(query[i], candidate[j]); isConf != (op.Kind == OpConfusable) {
				return fmt.Errorf("op %d %+v has the wrong kind", k, op)
			}
			if query[i] == candidate[j] {
				return fmt.Errorf("op %d %+v reports identical characters", k, op)
			}
			if op.Kind == OpConfusable {
				conf++
			} else {
				dist++
			}
			i, j = i+1, j+1
		case OpInsert:
			if j >= len(candidate) || op.Query != "" || op.Found != candidate[j:j+1] {
				return fmt.Errorf("op %d %+v does not match candidate[%d]", k, op, j)
			}
			dist++
			j++
		case OpDelete:
			if i >= len(query) || op.Found != "" || op.Query != query[i:i+1] {
				return fmt.Errorf("op %d %+v does not match query[%d]", k, op, i)
			}
			dist++
			i++
		default:
			return fmt.Errorf("op %d has unknown kind %q", k, op.Kind)
		}
	}
	if len(query)-i != len(candidate)-j {
		return fmt.Errorf("ops leave %d query and %d candidate characters unexplained", len(query)-i, len(candidate)-j)
	}
	if err := same(len(query), len(candidate)); err != nil {
		return err
	}
	if dist != d.Distance || conf != d.Confusables {
		return fmt.Errorf("ops add up to %d/%d, Diff says %d/%d", dist, conf, d.Distance, d.Confusables)
	}
	return nil
}

// levenshtein is the textbook edit distance with unit costs, written independently of Compare.
func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
