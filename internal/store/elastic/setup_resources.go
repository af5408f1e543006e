package elastic

import (
	"encoding/json"
	"fmt"
	"time"
)

// The definitions `anpr es setup` keeps in place. The reads mapping itself is readsTemplate's
// (mapping.go): setup moves its template section into a component template, so the store's own
// setup and `anpr es setup` can never disagree about the mapping.

// managedMeta marks what setup owns.
func managedMeta() map[string]any { return map[string]any{"managed_by": "anpr"} }

// esDuration writes d in Elasticsearch's time units, whole hours where it can.
func esDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%ds", (d+time.Second-1)/time.Second)
}

// ilmPolicy rolls the reads stream's write index over daily (or at the shard size) and deletes
// a backing index once it has been rolled over for the retention period: its newest read is
// then at least that old, and its oldest at most one rollover period older.
func ilmPolicy(stream string, o SetupOptions) resource {
	phases := map[string]any{
		"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{
			"rollover": map[string]any{
				"max_age":                esDuration(o.RolloverMaxAge),
				"max_primary_shard_size": o.RolloverMaxPrimaryShardSize,
			},
		}},
	}
	meta := map[string]any{"managed_by": "anpr", "delete_phase": !o.NoDeletePhase}
	if !o.NoDeletePhase {
		phases["delete"] = map[string]any{"min_age": esDuration(o.Retention), "actions": map[string]any{"delete": map[string]any{}}}
		meta["retention"] = esDuration(o.Retention)
	}
	return resource{
		kind: "ILM policy", name: stream, path: "_ilm/policy/" + stream,
		body:     map[string]any{"phases": phases, "_meta": meta},
		metaPath: []string{"_meta", "anpr_digest"},
		getPath:  func(n string) []string { return []string{n, "policy", "_meta", "anpr_digest"} },
		wrap:     func(b map[string]any) map[string]any { return map[string]any{"policy": b} },
	}
}

// readsComponents are the component templates of the reads index template: the mapping and
// settings (readsTemplate's, unchanged) and, where the cluster has ILM, the lifecycle setting.
func readsComponents(stream string, f Features) ([]resource, error) {
	t, err := readsTemplateMap(stream, f)
	if err != nil {
		return nil, err
	}
	comp := func(name string, template any) resource {
		return resource{
			kind: "component template", name: name, path: "_component_template/" + name,
			body:     map[string]any{"template": template, "_meta": managedMeta()},
			metaPath: []string{"_meta", "anpr_digest"},
			getPath: func(string) []string {
				return []string{"component_templates", "0", "component_template", "_meta", "anpr_digest"}
			},
		}
	}
	out := []resource{comp(stream+"-mappings", t["template"])}
	if f.ILM {
		out = append(out, comp(stream+"-lifecycle", map[string]any{
			"settings": map[string]any{"index.lifecycle.name": stream},
		}))
	}
	return out, nil
}

// readsIndexTemplate is readsTemplate with its template section replaced by the components.
func readsIndexTemplate(stream string, f Features, components []string) (resource, error) {
	t, err := readsTemplateMap(stream, f)
	if err != nil {
		return resource{}, err
	}
	delete(t, "template")
	t["composed_of"] = components
	return resource{
		kind: "index template", name: stream, path: "_index_template/" + stream,
		body:     t,
		metaPath: []string{"_meta", "anpr_digest"},
		getPath: func(string) []string {
			return []string{"index_templates", "0", "index_template", "_meta", "anpr_digest"}
		},
	}, nil
}

func readsTemplateMap(stream string, f Features) (map[string]any, error) {
	raw, err := readsTemplate(stream, f)
	if err != nil {
		return nil, err
	}
	var t map[string]any
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("elastic setup: reads template: %w", err)
	}
	return t, nil
}

// roleDescriptors are the privileges of each role. Privileges on a data stream's name cover its
// backing indices. Nobody gets update, index or delete on the audit indices: the audit log is
// append-only because no credential the portal holds can change it.
func roleDescriptors(s *Store, o SetupOptions) map[string]map[string]any {
	idx := func(names []string, privs ...string) map[string]any {
		return map[string]any{"names": names, "privileges": privs}
	}
	reads, cameras := []string{s.stream}, []string{s.cameras}
	return map[string]map[string]any{
		// The portal serves searches, takes uploads, runs the retention sweep (delete by id),
		// edits the camera registry, appends and reads the audit log, and keeps its sessions.
		// monitor: the feature detection and /readyz's cluster health.
		RolePortal: {"cluster": []string{"monitor"}, "indices": []any{
			idx(reads, "read", "view_index_metadata", "create_doc", "delete"),
			idx(cameras, "read", "view_index_metadata", "index"),
			// The audit log: create-only documents (create_index: the log makes its indices on
			// first open). Two narrow exceptions, neither touching an event: the writer lease is
			// re-indexed under sequence-number control, and an erasure the law requires deletes a
			// payload document, while the event and the payload's digest stay in the tree.
			idx(o.AuditIndices, "read", "view_index_metadata", "create_doc", "create_index"),
			idx([]string{s.cfg.Prefix + "audit-writers"}, "index"),
			idx([]string{s.cfg.Prefix + "audit-payloads"}, "delete"),
			// maintenance: the identity, authority and hold stores refresh an index before a
			// list, so a list sees the writes just acknowledged.
			idx(o.IdentityIndices, "read", "view_index_metadata", "write", "create_index", "maintenance", "auto_configure"),
			idx([]string{s.cfg.Prefix + "authorities", s.cfg.Prefix + "holds", s.cfg.Prefix + "retention-runs"},
				"read", "view_index_metadata", "write", "create_index", "maintenance"),
			// Held reads are copied here before ILM drops their backing index (see retention.go).
			idx([]string{s.PreservedIndex()}, "read", "view_index_metadata", "write", "create_index", "delete"),
		}},
		RoleSearch: {"cluster": []string{"monitor"}, "indices": []any{
			idx(append(append(reads, cameras...), s.PreservedIndex()), "read", "view_index_metadata"),
		}},
		// read on reads: AppendReads looks the batch's ids up first, so a retried batch adds
		// nothing even when its reads sit in an older backing index. That also lets the key
		// read reads unaudited, so it is for the operator's bulk loader (anpr ingest); camera
		// back-offices send reads through the portal's API with a portal API key instead.
		RoleIngest: {"cluster": []string{"monitor"}, "indices": []any{
			idx(reads, "create_doc", "read", "view_index_metadata"),
			idx(cameras, "read", "view_index_metadata"),
		}},
		// Only create_doc: a create with an _id that exists is a conflict, never an overwrite,
		// and there is no read, update or delete. No cluster privileges at all.
		RoleAuditWriter: {"cluster": []string{}, "indices": []any{
			idx(o.AuditIndices, "create_doc"),
			// The writer lease (no audit data): one writer at a time, renewed under seq_no control.
			idx([]string{s.cfg.Prefix + "audit-writers"}, "index"),
		}},
	}
}

func roleResource(name string, desc map[string]any) resource {
	body := map[string]any{"metadata": managedMeta()}
	for k, v := range desc {
		body[k] = v
	}
	return resource{
		kind: "role", name: name, path: "_security/role/" + name,
		body:     body,
		metaPath: []string{"metadata", "anpr_digest"},
		getPath:  func(n string) []string { return []string{n, "metadata", "anpr_digest"} },
	}
}
