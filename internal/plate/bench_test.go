package plate

import "testing"

// Benchmarks for the per-read hot paths: ingest normalises and skeletonises every read; pattern
// and misread searches may run Match and Compare over many candidates.

func BenchmarkNormalize(b *testing.B) {
	for b.Loop() {
		if _, err := Normalize("ab12 cde"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSkeleton(b *testing.B) {
	for b.Loop() {
		_ = Skeleton("AB12CDE")
	}
}

func BenchmarkMatch(b *testing.B) {
	p, err := ParsePattern("A*1?C*")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = p.Match("AB12CDE")
	}
}

func BenchmarkCompare(b *testing.B) {
	for b.Loop() {
		_ = Compare("AB12CDE", "A812C0F")
	}
}
