package elastic

import (
	"context"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/closepointintime"
)

// probePIT opens and closes a point in time on the camera index, which always exists (the reads
// stream may not until the first read on clusters without the data stream API). Points in time
// are core Elasticsearch since 7.10, but a distribution or a proxy may refuse them; then the store
// says why in its log and pages by keyset alone.
func (s *Store) probePIT(ctx context.Context) bool {
	res, err := s.es.OpenPointInTime(s.cameras).KeepAlive("10s").Do(ctx)
	if err != nil {
		s.log.Warn("elasticsearch: points in time (_pit) unavailable; snapshot paging falls back to search_after alone", "err", err)
		return false
	}
	if _, err := s.es.ClosePointInTime().Request(&closepointintime.Request{Id: res.Id}).Do(ctx); err != nil {
		s.log.Debug("elasticsearch: close probe point in time", "err", err)
	}
	s.log.Info("elasticsearch: points in time available; snapshot paging uses PIT + search_after")
	return true
}
