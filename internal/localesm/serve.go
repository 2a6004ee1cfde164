package localesm

import (
	"context"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Dialer connects to the broker, as rabbitops.Dial does. Its connections must not have
// amqp091's automatic recovery on: Serve recovers by connecting again, with a fresh consumer.
type Dialer func(ctx context.Context) (*amqp.Connection, error)

// backoff is how long Serve waits before it connects again: first after a loss, doubling after
// every attempt that fails, up to max; back to first once a connection has lasted healthy.
type backoff struct {
	first, max, healthy time.Duration
}

var defaultBackoff = backoff{first: 500 * time.Millisecond, max: 30 * time.Second, healthy: 10 * time.Second}

// Serve runs the mapping until ctx ends: it connects with dial and consumes with Run, and when it
// loses the broker — a restart, a network failure, a failed connection attempt — it logs one line
// that says why through cfg.Logf and connects again after a backoff of 0.5 s doubling to 30 s,
// as the mapping keeps polling a broker that has gone away. Delivery is at least once: a batch
// the broker took back before its acknowledgement arrived comes again. Serve returns nil when
// ctx ends, and an error only for an invalid cfg.
func Serve(ctx context.Context, dial Dialer, cfg Config, handler Handler) error {
	return serve(ctx, dial, cfg, handler, defaultBackoff)
}

func serve(ctx context.Context, dial Dialer, cfg Config, handler Handler, b backoff) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	wait := b.first
	for {
		began := time.Now()
		err := session(ctx, dial, cfg, handler)
		if time.Since(began) >= b.healthy {
			wait = b.first
		}
		// Once ctx has ended, the end of the session is no news.
		if ctx.Err() == nil {
			cfg.Logf("%v; connecting again in %s", err, wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, b.max)
	}
}

// session is one connection, consumed until ctx ends or it is lost.
func session(ctx context.Context, dial Dialer, cfg Config, handler Handler) error {
	conn, err := dial(ctx)
	if err != nil {
		return fmt.Errorf("dialing the broker: %w", err)
	}
	// Closing the connection returns whatever is unacknowledged to the queue, also when only
	// the consumer was lost.
	defer func() { _ = conn.Close() }()
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("opening a channel: %w", err)
	}
	return Run(ctx, ch, cfg, handler)
}
