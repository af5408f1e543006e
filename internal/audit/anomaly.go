package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
)

// AnomalyKind names a pattern auditors look at first. A flag is a lead for a human, not a
// finding: each carries the events that raised it.
type AnomalyKind string

const (
	// AnomalyVolumeSpike: a user searched far more on a day than their own baseline.
	AnomalyVolumeSpike AnomalyKind = "volume_spike"
	// AnomalyOutOfHours: accesses outside working hours.
	AnomalyOutOfHours AnomalyKind = "out_of_hours"
	// AnomalySharedVRM: many different users looked up one VRM.
	AnomalySharedVRM AnomalyKind = "many_users_one_vrm"
	// AnomalyVagueReason: justifications too short or from the vague list.
	AnomalyVagueReason AnomalyKind = "vague_reason"
	// AnomalyRepeatedReason: one justification reused for many accesses.
	AnomalyRepeatedReason AnomalyKind = "repeated_reason"
	// AnomalyDeniedRetry: a denial followed soon by another attempt at the same action.
	AnomalyDeniedRetry AnomalyKind = "denied_then_retried"
)

// Anomaly is one flag.
type Anomaly struct {
	Kind   AnomalyKind `json:"kind"`
	Actor  string      `json:"actor,omitempty"`
	VRM    string      `json:"vrm,omitempty"`
	Day    string      `json:"day,omitempty"` // YYYY-MM-DD for volume spikes
	Count  int         `json:"count"`
	Seqs   []int64     `json:"seqs"` // evidence, at most maxEvidence
	Detail string      `json:"detail"`
}

const maxEvidence = 50

// AnomalyOptions tune the flags; zero fields take the defaults noted.
type AnomalyOptions struct {
	Location         *time.Location // working hours' zone; default UTC
	WorkStart        int            // hour; default 7
	WorkEnd          int            // hour; default 19
	BaselineDays     int            // days before the window that make a user's baseline; default 28
	SpikeFactor      float64        // flag a day above this multiple of the daily baseline; default 3
	SpikeMin         int            // and at least this many searches; default 20
	SharedVRMUsers   int            // distinct users on one VRM; default 3
	MinReasonWords   int            // fewer meaningful words is vague; default 5
	VagueReasons     []string       // whole justifications that are vague; default a short list
	RepeatedReason   int            // one justification this many times; default 10
	RetryWindow      time.Duration  // a retry this soon after a denial; default 30 minutes
	FlagMinimumCount int            // out-of-hours and vague flags need this many events; default 1
}

func (o *AnomalyOptions) setDefaults() {
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.WorkStart == 0 && o.WorkEnd == 0 {
		o.WorkStart, o.WorkEnd = 7, 19
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.BaselineDays, 28)
	def(&o.SpikeMin, 20)
	def(&o.SharedVRMUsers, 3)
	def(&o.MinReasonWords, 5)
	def(&o.RepeatedReason, 10)
	def(&o.FlagMinimumCount, 1)
	if o.SpikeFactor <= 0 {
		o.SpikeFactor = 3
	}
	if o.RetryWindow <= 0 {
		o.RetryWindow = 30 * time.Minute
	}
	if o.VagueReasons == nil {
		o.VagueReasons = []string{"investigation", "enquiry", "enquiries", "check", "checks", "intel", "intelligence", "test", "testing", "ongoing", "as above", "n/a"}
	}
}

// accessActions are the actions that touch reads: what out-of-hours and reason flags look at.
var accessActions = []Action{ActionSearch, ActionPage, ActionRecordView, ActionImageView, ActionExport}

// Anomalies flags the window [since, until), comparing each user's daily searches with their
// own baseline over the BaselineDays before since. The call is audited like any review.
func (r Reviewer) Anomalies(ctx context.Context, req ReviewRequest, since, until time.Time, opts AnomalyOptions) ([]Anomaly, error) {
	if !since.Before(until) {
		return nil, fmt.Errorf("%w: since must be before until", ErrInvalid)
	}
	opts.setDefaults()
	what := fmt.Sprintf("anomalies since=%s until=%s", since.UTC().Format(time.RFC3339), until.UTC().Format(time.RFC3339))
	return Run(ctx, r.Log, req.event(ActionAuditRead), req.payload(what, Filter{}), func(ctx context.Context) ([]Anomaly, Outcome, error) {
		d := newDetector(since, opts)
		err := eachRecord(ctx, r.Log, Filter{Since: since.AddDate(0, 0, -opts.BaselineDays), Until: until}, func(rec Record) error {
			d.add(rec)
			return nil
		})
		if err != nil {
			return nil, Outcome{}, err
		}
		flags := d.flags()
		b, _ := json.Marshal(flags)
		return flags, Outcome{Count: int64(len(flags)), Digest: sha256.Sum256(b)}, nil
	})
}

// detector accumulates one pass over the events.
type detector struct {
	since    time.Time
	o        AnomalyOptions
	baseline map[string]int                // user -> searches before since
	daily    map[[2]string][]int64         // (user, day) -> search seqs in the window
	late     map[string][]int64            // user -> out-of-hours access seqs
	vrmUsers map[string]map[string][]int64 // vrm -> user -> seqs
	vague    map[string][]int64            // user -> seqs with vague reasons
	reasons  map[[2]string][]int64         // (user, normalised reason) -> seqs
	denied   map[[2]string]Event           // (user, action) -> last denial
	retries  map[string][]int64            // user -> (denial, retry) seq pairs
}

func newDetector(since time.Time, o AnomalyOptions) *detector {
	return &detector{since: since, o: o, baseline: map[string]int{}, daily: map[[2]string][]int64{},
		late: map[string][]int64{}, vrmUsers: map[string]map[string][]int64{}, vague: map[string][]int64{},
		reasons: map[[2]string][]int64{}, denied: map[[2]string]Event{}, retries: map[string][]int64{}}
}

func (d *detector) add(rec Record) {
	e := rec.Event
	if e.Stage == StageOutcome {
		return
	}
	user := e.Actor.Subject
	if e.Time.Before(d.since) {
		if e.Action == ActionSearch && e.Decision != EffectDeny {
			d.baseline[user]++
		}
		return
	}
	key := [2]string{user, string(e.Action)}
	if e.Decision == EffectDeny {
		d.denied[key] = e
		return
	}
	if prev, ok := d.denied[key]; ok && e.Time.Sub(prev.Time) <= d.o.RetryWindow {
		d.retries[user] = append(d.retries[user], prev.Seq, e.Seq)
		delete(d.denied, key)
	}
	if !slices.Contains(accessActions, e.Action) {
		return
	}
	local := e.Time.In(d.o.Location)
	if e.Action == ActionSearch {
		day := [2]string{user, local.Format("2006-01-02")}
		d.daily[day] = append(d.daily[day], e.Seq)
	}
	if h := local.Hour(); h < d.o.WorkStart || h >= d.o.WorkEnd || local.Weekday() == time.Saturday || local.Weekday() == time.Sunday {
		d.late[user] = append(d.late[user], e.Seq)
	}
	if rec.Payload == nil {
		return
	}
	for _, v := range rec.Payload.VRMs {
		if d.vrmUsers[v] == nil {
			d.vrmUsers[v] = map[string][]int64{}
		}
		d.vrmUsers[v][user] = append(d.vrmUsers[v][user], e.Seq)
	}
	// Views and pages live under their search's reason; searches and exports must carry one.
	if j := normaliseReason(rec.Payload.Justification); j != "" || e.Action == ActionSearch || e.Action == ActionExport {
		if slices.Contains(d.o.VagueReasons, j) || meaningfulWords(j) < d.o.MinReasonWords {
			d.vague[user] = append(d.vague[user], e.Seq)
		}
		k := [2]string{user, j}
		d.reasons[k] = append(d.reasons[k], e.Seq)
	}
}

func (d *detector) flags() []Anomaly {
	var out []Anomaly
	for _, k := range slices.SortedFunc(maps.Keys(d.daily), cmpPair) {
		seqs := d.daily[k]
		mean := float64(d.baseline[k[0]]) / float64(d.o.BaselineDays)
		if len(seqs) >= d.o.SpikeMin && float64(len(seqs)) > d.o.SpikeFactor*max(mean, 1) {
			out = append(out, anomaly(AnomalyVolumeSpike, k[0], "", seqs, fmt.Sprintf("%d searches on %s against a baseline of %.1f a day", len(seqs), k[1], mean)))
			out[len(out)-1].Day = k[1]
		}
	}
	for _, u := range slices.Sorted(maps.Keys(d.late)) {
		if s := d.late[u]; len(s) >= d.o.FlagMinimumCount {
			out = append(out, anomaly(AnomalyOutOfHours, u, "", s, fmt.Sprintf("%d accesses outside %02d:00-%02d:00 on weekdays", len(s), d.o.WorkStart, d.o.WorkEnd)))
		}
	}
	for _, v := range slices.Sorted(maps.Keys(d.vrmUsers)) {
		users := d.vrmUsers[v]
		if len(users) < d.o.SharedVRMUsers {
			continue
		}
		var seqs []int64
		for _, u := range slices.Sorted(maps.Keys(users)) {
			seqs = append(seqs, users[u]...)
		}
		slices.Sort(seqs)
		out = append(out, anomaly(AnomalySharedVRM, "", v, seqs, fmt.Sprintf("%d different users looked up this VRM", len(users))))
	}
	for _, u := range slices.Sorted(maps.Keys(d.vague)) {
		if s := d.vague[u]; len(s) >= d.o.FlagMinimumCount {
			out = append(out, anomaly(AnomalyVagueReason, u, "", s, fmt.Sprintf("%d accesses with a vague or short justification", len(s))))
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(d.reasons), cmpPair) {
		if s := d.reasons[k]; len(s) >= d.o.RepeatedReason {
			out = append(out, anomaly(AnomalyRepeatedReason, k[0], "", s, fmt.Sprintf("one justification used %d times", len(s))))
		}
	}
	for _, u := range slices.Sorted(maps.Keys(d.retries)) {
		s := d.retries[u]
		out = append(out, anomaly(AnomalyDeniedRetry, u, "", s, fmt.Sprintf("%d denials retried within %v", len(s)/2, d.o.RetryWindow)))
	}
	return out
}

func anomaly(k AnomalyKind, actor, vrm string, seqs []int64, detail string) Anomaly {
	a := Anomaly{Kind: k, Actor: actor, VRM: vrm, Count: len(seqs), Detail: detail}
	a.Seqs = append([]int64(nil), seqs[:min(len(seqs), maxEvidence)]...)
	return a
}

func cmpPair(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }

// normaliseReason lower-cases and collapses punctuation and spaces, so "Intel." and "intel"
// count as the same reason.
func normaliseReason(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '/'
	})
	return strings.Join(f, " ")
}

// meaningfulWords counts words of three or more characters: "re: a job" says nothing.
func meaningfulWords(s string) int {
	n := 0
	for _, w := range strings.Fields(s) {
		if len([]rune(w)) >= 3 {
			n++
		}
	}
	return n
}
