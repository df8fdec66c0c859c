package output

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Queue decouples one sink from the pipeline: Put never blocks; a bounded
// buffer holds records while the sink is slow or down, and when it is full
// the oldest record is dropped, counted, and the first drop logged loudly.
// One goroutine (Run) writes to the sink in batches.
type Queue struct {
	Name string

	sink    Sink
	ch      chan []byte
	log     zerolog.Logger
	dropped atomic.Uint64
	written atomic.Uint64
	failed  atomic.Uint64
	warned  atomic.Bool
	closed  atomic.Bool
	done    chan struct{}
	once    sync.Once
}

// NewQueue returns a queue of size records in front of sink.
func NewQueue(name string, sink Sink, size int, log zerolog.Logger) *Queue {
	if size < 1 {
		size = 1
	}
	return &Queue{Name: name, sink: sink, ch: make(chan []byte, size), log: log, done: make(chan struct{})}
}

// Put enqueues a record (it must end in a newline and not be changed
// afterwards). Called from one goroutine.
func (q *Queue) Put(rec []byte) {
	for {
		select {
		case q.ch <- rec:
			return
		default:
		}
		select {
		case <-q.ch:
			n := q.dropped.Add(1)
			if q.warned.CompareAndSwap(false, true) {
				q.log.Error().Str("output", q.Name).Int("queue", cap(q.ch)).Msg("output queue full: dropping the oldest records (counted in t1610d_output_dropped_total)")
			} else if n%10000 == 0 {
				q.log.Warn().Str("output", q.Name).Uint64("dropped", n).Msg("output still dropping records")
			}
		default:
		}
	}
}

// Run writes queued records to the sink until Close; then it drains what
// is left, closes the sink and returns. A failed write is retried after a
// pause (the sink said so by returning an error) until Close, when the
// batch is dropped and counted.
func (q *Queue) Run() {
	defer close(q.done)
	batch := make([][]byte, 0, 256)
	for rec := range q.ch {
		batch = append(batch[:0], rec)
	fill:
		for len(batch) < cap(batch) {
			select {
			case r, ok := <-q.ch:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		for attempt := 0; ; attempt++ {
			err := q.sink.Write(batch)
			if err == nil {
				q.written.Add(uint64(len(batch)))
				break
			}
			q.failed.Add(1)
			if attempt == 0 || attempt%20 == 0 {
				q.log.Warn().Err(err).Str("output", q.Name).Int("records", len(batch)).Msg("output write failed; retrying")
			}
			if q.closing() {
				q.dropped.Add(uint64(len(batch)))
				q.log.Error().Str("output", q.Name).Int("records", len(batch)).Msg("output closed while failing: records dropped")
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := q.sink.Close(); err != nil {
		q.log.Warn().Err(err).Str("output", q.Name).Msg("closing output")
	}
}

func (q *Queue) closing() bool {
	select {
	case <-q.done:
		return true
	default:
		return q.closed.Load()
	}
}

// Close stops accepting records, waits until Run has written (or dropped)
// what is queued and closed the sink.
func (q *Queue) Close() {
	q.once.Do(func() {
		q.closed.Store(true)
		close(q.ch)
	})
	<-q.done
}

// Depth returns the records waiting.
func (q *Queue) Depth() int { return len(q.ch) }

// Dropped returns the records dropped so far.
func (q *Queue) Dropped() uint64 { return q.dropped.Load() }

// Written returns the records delivered so far.
func (q *Queue) Written() uint64 { return q.written.Load() }

// Sink returns the sink behind the queue.
func (q *Queue) Sink() Sink { return q.sink }
