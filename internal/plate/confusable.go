package plate

// ConfusableGroups returns the groups of characters that ANPR OCR engines confuse with each other.
// This is the only place the table lives: Skeleton, Confusable and Compare all derive from it, and
// backends store Skeleton output, so changing a group means recomputing every stored skeleton.
// The first character of each group is its canonical member, the one Skeleton writes.
//
// The six groups are the industry's default "OCR equivalence" set (for example Genetec's ALPR
// matcher ships exactly these): pairs whose glyphs differ only by a detail that dirt, glare,
// motion blur or a low-resolution patch removes. The groups must be disjoint, because a skeleton is
// an equivalence class; a test checks that.
//
// Considered and left out: 4/A, 7/T, U/V, M/N, K/X, E/F, P/R, C/G and V/Y also appear in OCR
// literature, but they need a whole stroke to appear or vanish. Every added group makes each
// skeleton search return more unrelated plates, and Compare still finds those misreads at cost 1,
// so the misread-tolerant search catches them without widening the skeleton index.
func ConfusableGroups() []string {
	return []string{
		"0ODQ", // round glyphs: O and 0 differ only in width; D's flat side and Q's tail blur away
		"1I",   // a single vertical stroke; the serifs or flag that tell them apart are tiny
		"2Z",   // same three strokes; only the curve of the 2's top differs
		"5S",   // same path; the 5 has a corner where the S curves
		"8B",   // B's flat left side is lost at low resolution or under dirt
		"6G",   // the G's bar and the 6's closed loop merge when blurred
	}
}

// canonTable maps every byte to the canonical member of its confusable group (itself when it is
// in none). It is derived once from ConfusableGroups and never written afterwards; a table rather
// than a loop over the groups keeps Skeleton and Compare's inner loop allocation-free.
var canonTable = buildCanonTable()

func buildCanonTable() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = byte(i)
	}
	for _, g := range ConfusableGroups() {
		for i := 0; i < len(g); i++ {
			t[g[i]] = g[0]
		}
	}
	return t
}

// Skeleton maps a normalised VRM to its misread skeleton: each character replaced by the canonical
// member of its confusable group, so plates an OCR engine confuses share a skeleton ("AB12CDE" and
// "A812CDE" both become "A812C0E"). Characters outside every
// group, including '?' and '*', are kept as they are, so the skeleton of a pattern is a pattern
// over skeletons. Skeleton does not normalise: pass it Normalize's output.
func Skeleton(vrm string) string {
	changed := false
	for i := 0; i < len(vrm); i++ {
		if canonTable[vrm[i]] != vrm[i] {
			changed = true
			break
		}
	}
	if !changed {
		return vrm
	}
	b := []byte(vrm)
	for i, c := range b {
		b[i] = canonTable[c]
	}
	return string(b)
}

// Confusable reports whether a and b are in the same confusable group; it is true when a == b.
func Confusable(a, b byte) bool {
	return canonTable[a] == canonTable[b]
}
