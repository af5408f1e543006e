package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// SetupOptions is what `anpr es setup` makes beyond the store's names (which come from
// Config.Prefix).
type SetupOptions struct {
	// Retention is the age at which ILM deletes a rolled-over backing index of reads (the delete
	// phase's min_age counts from rollover, so no read is deleted younger than this).
	Retention time.Duration
	// NoDeletePhase leaves the ILM delete phase out, for forces that keep reads under
	// preservation holds: ILM drops whole backing indices, held reads included, so then only
	// `anpr retention run` deletes reads.
	NoDeletePhase bool
	// Rollover: a backing index rolls over at this age or primary shard size. Defaults 24h, 50gb.
	RolloverMaxAge              time.Duration
	RolloverMaxPrimaryShardSize string
	// AuditIndices are the audit log's index patterns (its backend names them). The audit writer
	// role may only create documents there. Default <prefix>audit-*.
	AuditIndices []string
	// IdentityIndices hold sessions, API keys and grants; the portal role reads and writes them.
	// Default <prefix>identity-*.
	IdentityIndices []string
	// APIKeys names the roles (RolePortal, ...) to issue one API key each for. An active key of
	// the same name is left alone: a key's secret is shown once, at creation.
	APIKeys []string
}

// The roles setup defines; the names the cluster sees are Config.Prefix + these.
const (
	RolePortal      = "portal"       // what the portal runs as: search, ingest, audit append and read, identity
	RoleSearch      = "search"       // read-only on reads and cameras (analysts' tools, dashboards)
	RoleIngest      = "ingest"       // append reads, read the camera registry (bulk loaders)
	RoleAuditWriter = "audit-writer" // create_doc on the audit indices and nothing else
)

// Roles lists the roles setup defines, in the order it makes them.
func Roles() []string { return []string{RolePortal, RoleSearch, RoleIngest, RoleAuditWriter} }

func (o *SetupOptions) checkAndSetDefaults(prefix string) error {
	var errs []error
	if o.Retention <= 0 && !o.NoDeletePhase {
		errs = append(errs, errors.New("retention must be positive (or leave the delete phase out)"))
	}
	if o.RolloverMaxAge <= 0 {
		o.RolloverMaxAge = 24 * time.Hour
	}
	if o.RolloverMaxPrimaryShardSize == "" {
		o.RolloverMaxPrimaryShardSize = "50gb"
	}
	if len(o.AuditIndices) == 0 {
		o.AuditIndices = []string{prefix + "audit-*"}
	}
	if len(o.IdentityIndices) == 0 {
		o.IdentityIndices = []string{prefix + "identity-*"}
	}
	for _, k := range o.APIKeys {
		if !slices.Contains(Roles(), k) {
			errs = append(errs, fmt.Errorf("API key for %q: no such role (have %s)", k, strings.Join(Roles(), ", ")))
		}
	}
	return errors.Join(errs...)
}

// SetupStatus says what setup did with one thing.
type SetupStatus string

const (
	StatusCreated SetupStatus = "created"
	StatusUpdated SetupStatus = "updated" // existed with another definition (an older anpr); replaced
	StatusExists  SetupStatus = "exists"  // already as this version defines it; untouched
	StatusSkipped SetupStatus = "skipped" // the cluster cannot have it; Detail says why
)

// SetupItem is one thing setup looked after.
type SetupItem struct {
	Kind   string // "index template", "role", "API key", ...
	Name   string
	Status SetupStatus
	Detail string
	// Secret is a newly created API key in the encoded form clients send (base64 "id:key"). It is
	// shown once: Elasticsearch keeps only its hash.
	Secret string `json:"-"`
}

// SetupReport is everything one run did and found.
type SetupReport struct {
	Features Features
	Items    []SetupItem
	// Lacks lists what the cluster cannot do that the portal would use, and what that means.
	Lacks []string
}

// Changed reports whether the run created or replaced anything.
func (r SetupReport) Changed() bool {
	return slices.ContainsFunc(r.Items, func(i SetupItem) bool {
		return i.Status == StatusCreated || i.Status == StatusUpdated
	})
}

// Print writes the report for an operator: what was created, what already existed, what the
// cluster lacks, and new API keys (once).
func (r SetupReport) Print(w io.Writer) {
	fmt.Fprintf(w, "Elasticsearch %s\n", r.Features.Version)
	for _, st := range []SetupStatus{StatusCreated, StatusUpdated, StatusExists, StatusSkipped} {
		for _, it := range r.Items {
			if it.Status != st {
				continue
			}
			line := fmt.Sprintf("  %-8s %-18s %s", it.Status, it.Kind, it.Name)
			if it.Detail != "" {
				line += "  (" + it.Detail + ")"
			}
			fmt.Fprintln(w, line)
		}
	}
	for _, l := range r.Lacks {
		fmt.Fprintf(w, "  lacks    %s\n", l)
	}
	for _, it := range r.Items {
		if it.Secret != "" {
			fmt.Fprintf(w, "\nAPI key %s (shown once; give it as elasticsearch.api_key / ANPR_ELASTICSEARCH_API_KEY):\n  %s\n", it.Name, it.Secret)
		}
	}
	if !r.Changed() {
		fmt.Fprintln(w, "nothing changed")
	}
}

// Setup makes everything the portal needs on the cluster, idempotently: the ILM policy, the
// component and index templates of the reads data stream (with the strict mapping of
// readsTemplate), the data stream, the camera index, the roles and the API keys. What exists as
// this version defines it is left alone, so a second run changes nothing; what the cluster lacks
// (ILM, security, the wildcard type, ...) is reported, not faked.
//
// Each definition carries a digest of itself (in _meta, or a role's metadata) so that "exists as
// defined" is a comparison of what setup wrote, not of Elasticsearch's normalised echo of it.
func Setup(ctx context.Context, cfg Config, opts SetupOptions) (SetupReport, error) {
	cfg.SkipSetup = true
	s, err := Open(ctx, cfg)
	if err != nil {
		return SetupReport{}, err
	}
	defer s.Close()
	if err := opts.checkAndSetDefaults(s.cfg.Prefix); err != nil {
		return SetupReport{}, fmt.Errorf("elastic setup: %w", err)
	}
	r := &setupRun{s: s, opts: opts, rep: SetupReport{Features: s.features}}
	if err := r.run(ctx); err != nil {
		return r.rep, err
	}
	return r.rep, nil
}

// CheckSetup reports whether the names the store serves from exist, so that a portal started
// against an unprepared cluster says "run anpr es setup" instead of failing its first search.
func (s *Store) CheckSetup(ctx context.Context) error {
	var missing []string
	if st, _, err := s.call(ctx, http.MethodHead, s.cameras, nil); err != nil {
		return fmt.Errorf("elastic: check setup: %w", unavailable(err))
	} else if st == http.StatusNotFound {
		missing = append(missing, "index "+s.cameras)
	}
	if s.features.DataStreamAPI {
		if st, _, err := s.call(ctx, http.MethodGet, "_data_stream/"+s.stream, nil); err != nil {
			return fmt.Errorf("elastic: check setup: %w", unavailable(err))
		} else if st == http.StatusNotFound {
			missing = append(missing, "data stream "+s.stream)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("elastic: %s missing: run `anpr es setup` with an administrator's credentials first", strings.Join(missing, ", "))
	}
	return nil
}

type setupRun struct {
	s    *Store
	opts SetupOptions
	rep  SetupReport
}

func (r *setupRun) add(kind, name string, st SetupStatus, detail string) {
	r.rep.Items = append(r.rep.Items, SetupItem{Kind: kind, Name: name, Status: st, Detail: detail})
}

func (r *setupRun) run(ctx context.Context) error {
	s, f := r.s, r.s.features
	if !f.WildcardType {
		r.rep.Lacks = append(r.rep.Lacks, "wildcard field type: plate patterns run as wildcard queries on the keyword field (same answers, slower on a leading '*')")
	}
	if !f.UppercaseNormalizer {
		r.rep.Lacks = append(r.rep.Lacks, "analysis-common: no uppercase normaliser on vrm (plates are normalised by the portal)")
	}
	if f.ILM {
		if err := r.ensure(ctx, ilmPolicy(s.stream, r.opts)); err != nil {
			return err
		}
	} else {
		r.rep.Lacks = append(r.rep.Lacks, "ILM: no rollover or lifecycle policy; backing indices grow without bound and only `anpr retention run` deletes reads")
		r.add("ILM policy", s.stream, StatusSkipped, "cluster has no ILM")
	}
	comps, err := readsComponents(s.stream, f)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(comps))
	for _, c := range comps {
		if err := r.ensure(ctx, c); err != nil {
			return err
		}
		names = append(names, c.name)
	}
	it, err := readsIndexTemplate(s.stream, f, names)
	if err != nil {
		return err
	}
	if err := r.ensure(ctx, it); err != nil {
		return err
	}
	if err := r.dataStream(ctx); err != nil {
		return err
	}
	if err := r.cameraIndex(ctx); err != nil {
		return err
	}
	on, why, err := r.securityEnabled(ctx)
	if err != nil {
		return err
	}
	if !on {
		r.rep.Lacks = append(r.rep.Lacks, "security: "+why+"; no roles or API keys, so nothing stops a client from updating or deleting the audit log")
		for _, role := range Roles() {
			r.add("role", s.cfg.Prefix+role, StatusSkipped, "security off")
		}
		for _, role := range r.opts.APIKeys {
			r.add("API key", s.cfg.Prefix+role, StatusSkipped, "security off")
		}
		return nil
	}
	descs := roleDescriptors(s, r.opts)
	for _, role := range Roles() {
		if err := r.ensure(ctx, roleResource(s.cfg.Prefix+role, descs[role])); err != nil {
			return err
		}
	}
	for _, role := range r.opts.APIKeys {
		if err := r.apiKey(ctx, s.cfg.Prefix+role, s.cfg.Prefix+role, descs[role]); err != nil {
			return err
		}
	}
	return nil
}

// resource is one definition setup keeps in place with GET, compare, PUT.
type resource struct {
	kind, name string
	path       string                              // e.g. _component_template/<name>
	body       map[string]any                      // the definition without its digest
	metaPath   []string                            // where the digest lives in body (created if missing)
	getPath    func(name string) []string          // where the digest lives in the GET response
	wrap       func(map[string]any) map[string]any // request body from definition (ILM nests it under "policy")
}

func (r *setupRun) ensure(ctx context.Context, res resource) error {
	digest, err := digestOf(res.body)
	if err != nil {
		return err
	}
	st, raw, err := r.s.call(ctx, http.MethodGet, res.path, nil)
	if err != nil {
		return fmt.Errorf("elastic setup: get %s %s: %w", res.kind, res.name, unavailable(err))
	}
	status := StatusCreated
	switch {
	case st == http.StatusNotFound:
	case st == http.StatusOK:
		have, _ := dig(raw, res.getPath(res.name)...).(string)
		if have == digest {
			r.add(res.kind, res.name, StatusExists, "")
			return nil
		}
		status = StatusUpdated
	default:
		return fmt.Errorf("elastic setup: get %s %s: %s: %s", res.kind, res.name, http.StatusText(st), short(raw))
	}
	body := setPath(res.body, res.metaPath, digest)
	if res.wrap != nil {
		body = res.wrap(body)
	}
	if err := r.s.send(ctx, http.MethodPut, res.path, body); err != nil {
		return fmt.Errorf("elastic setup: put %s %s: %w", res.kind, res.name, err)
	}
	detail := ""
	if status == StatusUpdated {
		detail = "replaced a different definition"
	}
	r.add(res.kind, res.name, status, detail)
	return nil
}

func (r *setupRun) dataStream(ctx context.Context) error {
	s := r.s
	if !s.features.DataStreamAPI {
		r.add("data stream", s.stream, StatusSkipped, "no data stream API: created by the first write")
		r.rep.Lacks = append(r.rep.Lacks, "data stream API: the reads stream appears on the first write")
		return nil
	}
	st, raw, err := s.call(ctx, http.MethodGet, "_data_stream/"+s.stream, nil)
	switch {
	case err != nil:
		return fmt.Errorf("elastic setup: get data stream %s: %w", s.stream, unavailable(err))
	case st == http.StatusOK:
		r.add("data stream", s.stream, StatusExists, "")
		return nil
	case st != http.StatusNotFound:
		return fmt.Errorf("elastic setup: get data stream %s: %s: %s", s.stream, http.StatusText(st), short(raw))
	}
	if err := s.send(ctx, http.MethodPut, "_data_stream/"+s.stream, nil); err != nil {
		return fmt.Errorf("elastic setup: create data stream %s: %w", s.stream, err)
	}
	r.add("data stream", s.stream, StatusCreated, "")
	return nil
}

// cameraIndex creates the camera index if missing. An existing one is left as it is: a plain
// index's mapping cannot be swapped in place, and its documents are the camera registry.
func (r *setupRun) cameraIndex(ctx context.Context) error {
	s := r.s
	st, raw, err := s.call(ctx, http.MethodHead, s.cameras, nil)
	switch {
	case err != nil:
		return fmt.Errorf("elastic setup: check index %s: %w", s.cameras, unavailable(err))
	case st == http.StatusOK:
		r.add("index", s.cameras, StatusExists, "")
		return nil
	case st != http.StatusNotFound:
		return fmt.Errorf("elastic setup: check index %s: %s: %s", s.cameras, http.StatusText(st), short(raw))
	}
	var body map[string]any
	if err := json.Unmarshal(camerasIndex(), &body); err != nil {
		return fmt.Errorf("elastic setup: camera index body: %w", err)
	}
	if err := s.send(ctx, http.MethodPut, s.cameras, body); err != nil {
		return fmt.Errorf("elastic setup: create index %s: %w", s.cameras, err)
	}
	r.add("index", s.cameras, StatusCreated, "")
	return nil
}

// securityEnabled asks the cluster who we are. A node can load the security module with
// security switched off (the test distribution, a dev node): then there are no roles to make.
func (r *setupRun) securityEnabled(ctx context.Context) (bool, string, error) {
	if !r.s.features.Security {
		return false, "the cluster has no security module", nil
	}
	st, raw, err := r.s.call(ctx, http.MethodGet, "_security/_authenticate", nil)
	switch {
	case err != nil:
		return false, "", fmt.Errorf("elastic setup: authenticate: %w", unavailable(err))
	case st == http.StatusOK:
		return true, "", nil
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return false, "", fmt.Errorf("elastic setup: the cluster refused these credentials (%s): %s", http.StatusText(st), short(raw))
	case st == http.StatusBadRequest || st == http.StatusNotFound || st == http.StatusMethodNotAllowed ||
		strings.Contains(string(raw), "Security must be explicitly enabled"):
		// With security off the node registers no security endpoints, so the path falls to
		// another handler (the test distribution answers 405) or to none.
		return false, "security is switched off on the cluster (xpack.security.enabled: false)", nil
	default:
		return false, "", fmt.Errorf("elastic setup: authenticate: %s: %s", http.StatusText(st), short(raw))
	}
}

func (r *setupRun) apiKey(ctx context.Context, name, role string, desc map[string]any) error {
	st, raw, err := r.s.call(ctx, http.MethodGet, "_security/api_key?name="+name, nil)
	if err != nil {
		return fmt.Errorf("elastic setup: list API keys %s: %w", name, unavailable(err))
	}
	if st != http.StatusOK && st != http.StatusNotFound {
		return fmt.Errorf("elastic setup: list API keys %s: %s: %s", name, http.StatusText(st), short(raw))
	}
	var list struct {
		Keys []struct {
			ID          string `json:"id"`
			Invalidated bool   `json:"invalidated"`
			Expiration  int64  `json:"expiration"`
		} `json:"api_keys"`
	}
	if st == http.StatusOK {
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("elastic setup: list API keys %s: %w", name, err)
		}
	}
	now := time.Now().UnixMilli()
	for _, k := range list.Keys {
		if !k.Invalidated && (k.Expiration == 0 || k.Expiration > now) {
			r.add("API key", name, StatusExists, "id "+k.ID+"; invalidate it to issue a new one")
			return nil
		}
	}
	body := map[string]any{
		"name":             name,
		"role_descriptors": map[string]any{role: desc},
		"metadata":         map[string]any{"managed_by": "anpr", "role": role},
	}
	var created struct {
		ID      string `json:"id"`
		Encoded string `json:"encoded"`
	}
	if err := r.s.sendInto(ctx, http.MethodPost, "_security/api_key", body, &created); err != nil {
		return fmt.Errorf("elastic setup: create API key %s: %w", name, err)
	}
	r.rep.Items = append(r.rep.Items, SetupItem{Kind: "API key", Name: name, Status: StatusCreated, Detail: "id " + created.ID, Secret: created.Encoded})
	return nil
}
