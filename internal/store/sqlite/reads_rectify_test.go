package sqlite

import (
	"testing"

	"github.com/anpr-portal/anpr/internal/store/storetest"
)

func TestRectifierConformance(t *testing.T) {
	storetest.RunRectifier(t, func(t *testing.T) storetest.RectifyStore { return newReads(t) })
}
