package events

import (
	"context"
	"sync"
	"time"

	"github.com/parleyhq/parley"
)

// durable is a registered durable consumer.
type durable struct {
	name  string
	fn    Consume
	nudge chan struct{}

	// The events the broker has just delivered, kept for the consumer so
	// that one that keeps up reads nothing from the log: buf holds the
	// log's events right after id after, in order, without a gap.
	mu    sync.Mutex
	after int64
	buf   []parley.Event
}

// wake tells the consumer that the log has grown. It never blocks.
func (d *durable) wake() {
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// durableBatch bounds the events handed to a durable consumer at once.
const durableBatch = 500

// durableBuffer bounds the events kept for a consumer that is behind; it
// reads the older ones from the log.
const durableBuffer = 4 * durableBatch

// offer keeps evs, the log's events right after id after, for the
// consumer. A chunk that does not follow the kept ones replaces them (the
// consumer reads what lies between from the log).
func (d *durable) offer(after int64, evs []parley.Event) {
	if len(evs) == 0 {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	end := d.after
	if n := len(d.buf); n > 0 {
		end = d.buf[n-1].ID
	}
	if end != after {
		d.after, d.buf = after, nil
	}
	d.buf = append(d.buf, evs...)
	if over := len(d.buf) - durableBuffer; over > 0 {
		d.after = d.buf[over-1].ID
		d.buf = append(d.buf[:0:0], d.buf[over:]...)
	}
}

// take returns up to limit kept events after id pos, and whether the kept
// events answer for the log after pos (false: read the log).
func (d *durable) take(pos int64, limit int) ([]parley.Event, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if pos < d.after || len(d.buf) == 0 || pos > d.buf[len(d.buf)-1].ID {
		if len(d.buf) > 0 && pos > d.buf[len(d.buf)-1].ID {
			d.after, d.buf = pos, nil
		}
		return nil, false
	}
	i := 0
	for i < len(d.buf) && d.buf[i].ID <= pos {
		i++
	}
	d.after, d.buf = pos, d.buf[i:]
	n := min(limit, len(d.buf))
	return d.buf[:n:n], true
}

// savePositionEvery bounds how often a consumer's position is stored while
// it keeps consuming; it is stored anyway when the broker stops. After a
// crash a consumer is handed again at most the events of that interval,
// which every consumer, recording with its own effects the ids it has
// handled (mail by key, webhook deliveries by endpoint and event),
// ignores: so a busy log costs no write per batch per consumer.
const savePositionEvery = time.Second

// runDurable delivers the log to d until ctx is done: from its stored
// position, or, for a consumer new to the database, from start (the
// broker's starting point), which it stores first.
func (b *Broker) runDurable(ctx context.Context, d *durable, start int64) {
	pos, ok := b.durablePosition(ctx, d, start)
	if !ok {
		return
	}
	saved, savedAt := pos, time.Now()
	defer func() {
		if pos == saved {
			return
		}
		// Stopping: store where the consumer got to, however ctx ended.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := b.log.SetConsumerPosition(sctx, d.name, pos); err != nil {
			b.Logger.Warn("events: cannot store a durable consumer's position; its last events come again",
				"consumer", d.name, "after", saved, "error", err.Error())
		}
	}()
	backoff := b.Poll
	t := time.NewTicker(b.Poll)
	defer t.Stop()
	for {
		evs, kept := d.take(pos, durableBatch)
		var err error
		if !kept {
			evs, err = b.log.EventsSince(ctx, pos, durableBatch)
		}
		if err == nil && len(evs) > 0 {
			if err = d.fn(ctx, evs); err == nil {
				pos, backoff = evs[len(evs)-1].ID, b.Poll
			}
		}
		if err == nil && pos != saved && time.Since(savedAt) >= savePositionEvery {
			if err = b.log.SetConsumerPosition(ctx, d.name, pos); err == nil {
				saved, savedAt = pos, time.Now()
			}
		}
		if err == nil && len(evs) == durableBatch {
			continue
		}
		if err != nil && ctx.Err() == nil {
			b.Logger.Warn("events: a durable consumer failed; its events come again",
				"consumer", d.name, "after", pos, "error", err.Error(), "retry_in", backoff.String())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, time.Minute)
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-d.nudge:
		case <-t.C:
		}
	}
}

// durablePosition reads d's stored position, storing start for a consumer
// new to the database; it retries until ctx is done (ok false).
func (b *Broker) durablePosition(ctx context.Context, d *durable, start int64) (int64, bool) {
	for {
		pos, err := b.log.ConsumerPosition(ctx, d.name)
		if parley.ErrorCode(err) == parley.ENotFound {
			if err = b.log.SetConsumerPosition(ctx, d.name, start); err == nil {
				return start, true
			}
		} else if err == nil {
			return pos, true
		}
		if ctx.Err() != nil {
			return 0, false
		}
		b.Logger.Warn("events: cannot read a durable consumer's position", "consumer", d.name, "error", err.Error())
		select {
		case <-ctx.Done():
			return 0, false
		case <-time.After(b.Poll):
		}
	}
}
