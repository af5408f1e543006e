package plate

import (
	"fmt"
	"strings"
)

// OpKind names one kind of difference between a queried plate and a candidate.
type OpKind string

// The kinds of Op.
const (
	OpConfusable OpKind = "confusable" // a character read as one from its confusable group (free)
	OpSubstitute OpKind = "substitute" // a character read as an unrelated one
	OpInsert     OpKind = "insert"     // the candidate has a character the query lacks
	OpDelete     OpKind = "delete"     // the candidate lacks a character of the query
)

// Op is one position where a candidate differs from the query.
type Op struct {
	Kind  OpKind `json:"kind"`
	Pos   int    `json:"pos"`             // 0-based index in the candidate; for OpDelete, in the query
	Query string `json:"query,omitempty"` // the query's character ("" for OpInsert)
	Found string `json:"found,omitempty"` // the candidate's character ("" for OpDelete)
}

// Diff explains how a candidate differs from the queried plate.
type Diff struct {
	Distance    int  `json:"distance"`      // sum of costs; confusable substitutions are free
	Confusables int  `json:"confusables"`   // number of confusable substitutions used
	Ops         []Op `json:"ops,omitempty"` // only the positions that are not identical, in order
}

// String describes the differences for a person, e.g. "pos 4: 0 read as O (confusable); pos 7:
// E missing". Positions count from 1 here, unlike Op.Pos.
func (d Diff) String() string {
	if len(d.Ops) == 0 {
		return "identical"
	}
	var b strings.Builder
	for i, op := range d.Ops {
		if i > 0 {
			b.WriteString("; ")
		}
		switch op.Kind {
		case OpConfusable:
			fmt.Fprintf(&b, "pos %d: %s read as %s (confusable)", op.Pos+1, op.Query, op.Found)
		case OpSubstitute:
			fmt.Fprintf(&b, "pos %d: %s read as %s", op.Pos+1, op.Query, op.Found)
		case OpInsert:
			fmt.Fprintf(&b, "pos %d: extra %s", op.Pos+1, op.Found)
		case OpDelete:
			fmt.Fprintf(&b, "pos %d: %s missing", op.Pos+1, op.Query)
		default:
			fmt.Fprintf(&b, "pos %d: %s %q/%q", op.Pos+1, op.Kind, op.Query, op.Found)
		}
	}
	return b.String()
}

// cost orders alignments: fewer paid edits first, then fewer confusable substitutions, so that
// among equally cheap explanations the most literal one (more exact matches) is reported.
type cost struct{ dist, conf int32 }

func (a cost) less(b cost) bool {
	return a.dist < b.dist || a.dist == b.dist && a.conf < b.conf
}

// Compare explains how candidate differs from the queried plate for misread-tolerant search: a
// minimal-cost alignment (Levenshtein) where substituting confusable characters costs 0 and is
// reported as OpConfusable, and other substitutions, insertions and deletions cost 1. Ties are
// broken towards fewer confusable substitutions, then deterministically, so the same pair always
// gets the same explanation. Distance and Confusables are symmetric in the two arguments.
//
// It compares bytes and takes O(len(query)·len(candidate)) time and space; callers pass
// normalised VRMs (at most MaxVRMLen characters), never unbounded input.
func Compare(query, candidate string) Diff {
	n, m := len(query), len(candidate)
	w := m + 1
	dp := make([]cost, (n+1)*w) // dp[i*w+j]: best alignment of query[:i] with candidate[:j]
	for i := 0; i <= n; i++ {
		dp[i*w] = cost{dist: int32(i)}
	}
	for j := 0; j <= m; j++ {
		dp[j] = cost{dist: int32(j)}
	}
	for i := 1; i <= n; i++ {
		for j := 1; j <= m; j++ {
			best := dp[(i-1)*w+j-1].plus(step(query[i-1], candidate[j-1]))
			if c := dp[(i-1)*w+j].plus(cost{dist: 1}); c.less(best) {
				best = c
			}
			if c := dp[i*w+j-1].plus(cost{dist: 1}); c.less(best) {
				best = c
			}
			dp[i*w+j] = best
		}
	}

	end := dp[n*w+m]
	d := Diff{Distance: int(end.dist), Confusables: int(end.conf)}
	// Walk back along an optimal path, preferring the diagonal, then deletion, then insertion.
	for i, j := n, m; i > 0 || j > 0; {
		here := dp[i*w+j]
		if i > 0 && j > 0 {
			s := step(query[i-1], candidate[j-1])
			if dp[(i-1)*w+j-1].plus(s) == here {
				switch {
				case s.conf == 1:
					d.Ops = append(d.Ops, Op{Kind: OpConfusable, Pos: j - 1, Query: query[i-1 : i], Found: candidate[j-1 : j]})
				case s.dist == 1:
					d.Ops = append(d.Ops, Op{Kind: OpSubstitute, Pos: j - 1, Query: query[i-1 : i], Found: candidate[j-1 : j]})
				}
				i, j = i-1, j-1
				continue
			}
		}
		if i > 0 && dp[(i-1)*w+j].plus(cost{dist: 1}) == here {
			d.Ops = append(d.Ops, Op{Kind: OpDelete, Pos: i - 1, Query: query[i-1 : i]})
			i--
			continue
		}
		d.Ops = append(d.Ops, Op{Kind: OpInsert, Pos: j - 1, Found: candidate[j-1 : j]})
		j--
	}
	for l, r := 0, len(d.Ops)-1; l < r; l, r = l+1, r-1 {
		d.Ops[l], d.Ops[r] = d.Ops[r], d.Ops[l]
	}
	return d
}

func (a cost) plus(b cost) cost { return cost{a.dist + b.dist, a.conf + b.conf} }

// step is the cost of aligning query character q with candidate character c.
func step(q, c byte) cost {
	switch {
	case q == c:
		return cost{}
	case Confusable(q, c):
		return cost{conf: 1}
	default:
		return cost{dist: 1}
	}
}
