package events

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
)

// durable is a registered durable consumer.
type durable struct {
	name  string
	fn    Consume
	nudge chan struct{}
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

// runDurable delivers the log to d until ctx is done: from its stored
// position, or, for a consumer new to the database, from start (the
// broker's starting point), which it stores first.
func (b *Broker) runDurable(ctx context.Context, d *durable, start int64) {
	pos, ok := b.durablePosition(ctx, d, start)
	if !ok {
		return
	}
	backoff := b.Poll
	t := time.NewTicker(b.Poll)
	defer t.Stop()
	for {
		evs, err := b.log.EventsSince(ctx, pos, durableBatch)
		if err == nil && len(evs) > 0 {
			if err = d.fn(ctx, evs); err == nil {
				next := evs[len(evs)-1].ID
				if err = b.log.SetConsumerPosition(ctx, d.name, next); err == nil {
					pos, backoff = next, b.Poll
					if len(evs) == durableBatch {
						continue
					}
				}
			}
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
