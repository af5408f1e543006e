package authority

import "sync"

// subscriberBuffer is how many changes a subscriber may have unread before further ones are
// dropped for it.
const subscriberBuffer = 16

// QueueChange says that a request entered or left the approvers' queue. Clients refetch the queue
// when told; the change says which request and why, so a client may also update in place.
type QueueChange struct {
	ID    string `json:"id"`
	State State  `json:"state"` // pending: it arrived; anything else: it left
	// authority is the request as it stood, so the service can tell which approvers it concerns.
	authority Authority
}

// broker fans queue changes out to subscribers in this process. A subscriber that has
// subscriberBuffer changes unread misses the next ones, which loses little because every change
// means "the queue changed, read it again". Publishing never blocks on a slow client.
//
// One process only: with several portal instances behind a load balancer, an approver connected
// to one does not hear of requests made on another until its next change or reconnect.
type broker struct {
	mu     sync.Mutex
	subs   map[chan QueueChange]struct{}
	closed bool
}

func newBroker() *broker { return &broker{subs: map[chan QueueChange]struct{}{}} }

// subscribe registers a subscriber. The channel is closed by unsubscribe or close.
func (b *broker) subscribe() chan QueueChange {
	ch := make(chan QueueChange, subscriberBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch
	}
	b.subs[ch] = struct{}{}
	return ch
}

func (b *broker) unsubscribe(ch chan QueueChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

func (b *broker) publish(c QueueChange) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- c:
		default: // the subscriber already has a change to read
		}
	}
}

// close ends every subscription (server shutdown) and refuses new ones.
func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
