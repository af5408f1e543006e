package elastic

import (
	"context"
	"fmt"

	"github.com/anpr-portal/anpr/internal/reads"
)

// ClusterHealth is /readyz's check of the cluster: green and yellow (replicas missing, every
// primary assigned: all reads answerable) are ready; red (a primary unassigned: some reads
// cannot be found, or stored) is not. Ping, by contrast, only asks whether the cluster answers.
func (s *Store) ClusterHealth(ctx context.Context) error {
	h, err := s.es.Cluster.Health().Do(ctx)
	if err != nil {
		return fmt.Errorf("elastic: cluster health: %w", unavailable(err))
	}
	switch st := h.Status.String(); st {
	case "green", "yellow":
		return nil
	default:
		return fmt.Errorf("elastic: cluster %s is %s (%d unassigned shards): %w", h.ClusterName, st, h.UnassignedShards, reads.ErrUnavailable)
	}
}
