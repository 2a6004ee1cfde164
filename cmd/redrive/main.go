// Command redrive moves dead-lettered messages from <queue>.dlq back to <queue> once their
// cause is fixed (make redrive STACK=<option>). Each dead letter is acknowledged only after the
// broker has confirmed its copy, and Ctrl-C finishes the message in flight before stopping, so
// a stopped run and its rerun lose nothing and move nothing twice (rabbitops.Redrive says when
// one message can be duplicated).
//
//	go run ./cmd/redrive --stack isolated                 # through the stack's provisioner: private brokers too
//	go run ./cmd/redrive --stack public --direct          # from here, with the stack's endpoint and secret
//	AMQP_PASSWORD=… go run ./cmd/redrive --url amqps://admin@b-….mq.us-east-1.amazonaws.com:5671 --queue events
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/redrive"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
		fmt.Fprintln(os.Stderr, "redrive: stopping after the message in flight (Ctrl-C again kills at once, which can leave that message in both queues)")
	}()
	err := redrive.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "redrive:", err)
		os.Exit(1)
	}
}
