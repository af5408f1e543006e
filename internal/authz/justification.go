package authz

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The free-text checks below are heuristics: they cannot tell a true justification from a
// plausible lie (that is what audit review is for), but they reliably refuse the lazy ones that
// NASPLE audits keep finding: "investigation", "intel check", "as above", keyboard mash, one word
// repeated. Each returned message says what is missing, not just that something is wrong.

const justificationAdvice = "say whose vehicle or which person, what you expect the reads to show, and how that helps the case"

// vaguePhrases are whole justifications that say nothing, after lower-casing and turning every
// run of non-letters into one space ("N/A" becomes "n a").
var vaguePhrases = []string{
	"as above", "see above", "as before", "same as before", "same as above", "n a", "not applicable",
	"no comment", "see notes", "see case", "see log", "as per", "as discussed",
}

func (rr *ReasonRules) justificationProblems(text string) []string {
	if !utf8.ValidString(text) {
		return []string{"is not valid UTF-8 text"}
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return []string{"is missing; " + justificationAdvice}
	}
	if n := utf8.RuneCountInString(text); n > rr.MaxChars {
		// Stop here: the word checks below are not worth running on a pasted document, and
		// stopping bounds the work an oversized input can cause.
		return []string{fmt.Sprintf("is %d characters long; the limit is %d", n, rr.MaxChars)}
	}
	var out []string
	if strings.ContainsFunc(text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }) {
		out = append(out, "contains control characters")
	}

	formal := len(out) // problems of form (length, control characters) need no writing advice
	words := tokenize(text)
	if slices.Contains(vaguePhrases, strings.Join(words, " ")) {
		return append(out, fmt.Sprintf("%q is too vague on its own; %s", clip(text), justificationAdvice))
	}

	var (
		meaningful = map[string]bool{}
		vagueSeen  []string
		mash       []string
		counts     = map[string]int{}
		counted    int // words that are neither stop words nor single letters
	)
	if letterRun(text, 4) {
		mash = append(mash, longestRun(text))
	}
	for _, w := range words {
		if rr.stop[w] || utf8.RuneCountInString(w) < 2 {
			continue
		}
		counted++
		counts[w]++
		switch {
		case rr.vague[w]:
			if !slices.Contains(vagueSeen, w) {
				vagueSeen = append(vagueSeen, w)
			}
		case isMash(w):
			if !slices.Contains(mash, w) {
				mash = append(mash, w)
			}
		case isNumber(w):
			// Numbers alone ("12", "2026") name nothing; a VRM such as ab12cde still counts.
		default:
			meaningful[w] = true
		}
	}

	if len(mash) > 0 {
		out = append(out, fmt.Sprintf("looks like keyboard mash or filler (%s)", quoteList(mash)))
	}
	if w, n := mostRepeated(counts); counted >= 3 && n*2 > counted {
		out = append(out, fmt.Sprintf("repeats %q %d times instead of explaining", w, n))
	}
	switch {
	case len(meaningful) == 0 && len(vagueSeen) > 0:
		out = append(out, fmt.Sprintf("is too vague: %s say nothing on their own", quoteList(vagueSeen)))
	case len(meaningful) < rr.MinWords:
		msg := fmt.Sprintf("has %d meaningful word(s); at least %d are needed", len(meaningful), rr.MinWords)
		if len(vagueSeen) > 0 {
			msg += fmt.Sprintf(" (%s do not count)", quoteList(vagueSeen))
		}
		out = append(out, msg)
	}
	if len(out) > formal {
		// The advice once, after the last problem: what a good justification contains.
		out[len(out)-1] += "; " + justificationAdvice
	}
	return out
}

// tokenize lower-cases text and splits it into runs of letters and digits.
func tokenize(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func isNumber(w string) bool {
	return !strings.ContainsFunc(w, func(r rune) bool { return !unicode.IsDigit(r) })
}

// keyboardRuns are rows of a UK keyboard; five keys in a row is never an English word.
var keyboardRuns = []string{"qwertyuiop", "asdfghjkl", "zxcvbnm", "poiuytrewq", "lkjhgfdsa", "mnbvcxz"}

// isMash flags tokens a person typed to get past a form: keyboard rows, a letter held down, long
// runs without vowels (English words of six letters or more have a vowel or y).
func isMash(w string) bool {
	if slices.Contains([]string{"asdf", "qwer", "zxcv", "hjkl", "jkl", "fff", "xxx", "zzz", "aaa"}, w) {
		return true
	}
	for _, row := range keyboardRuns {
		for i := 0; i+5 <= len(row); i++ {
			if strings.Contains(w, row[i:i+5]) {
				return true
			}
		}
	}
	if letterRun(w, 3) {
		return true
	}
	letters := 0
	vowel := false
	for _, r := range w {
		if unicode.IsLetter(r) {
			letters++
			if strings.ContainsRune("aeiouyàáâäèéêëìíîïòóôöùúûü", r) {
				vowel = true
			}
		}
	}
	if letters == utf8.RuneCountInString(w) && letters >= 6 && !vowel {
		return true
	}
	return letters > 30 // no real word is that long; pasted junk is
}

// letterRun reports whether some letter appears n or more times in a row (case-insensitive).
func letterRun(s string, n int) bool {
	return len(runAt(strings.ToLower(s), n)) > 0
}

func longestRun(s string) string { return clip(runAt(strings.ToLower(s), 4)) }

// runAt returns the first run of one letter repeated at least n times, or "".
func runAt(s string, n int) string {
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		if j-i >= n && unicode.IsLetter(rs[i]) {
			return string(rs[i:j])
		}
		i = j
	}
	return ""
}

func mostRepeated(counts map[string]int) (string, int) {
	best, n := "", 0
	for w, c := range counts {
		if c > n || (c == n && w < best) {
			best, n = w, c
		}
	}
	return best, n
}

func quoteList(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = fmt.Sprintf("%q", w)
	}
	return strings.Join(q, ", ")
}

// stopWords never count as meaningful: they carry grammar, not content.
func stopWords() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but of to in on at by for with from into onto
		over under about as is are was were be been being this that these those it its i we you he
		she they them his her their our my me us who whom which what when where why how please need
		needs needed do does did has have had will would can could should may might must not no yes
		so if then than also any all some there here re via per etc just very`) {
		m[w] = true
	}
	return m
}
