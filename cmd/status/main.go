// Command status shows a deployed stack on one screen (make status STACK=<option>): the event
// source mapping's state and what it means, the monitor's last figures, the alarms firing and
// the listener's recent errors, read with your own AWS credentials. Exit status 0: all good;
// 1: something needs attention; 2: a call failed, so the answer is incomplete.
//
//	go run ./cmd/status --stack isolated
//	go run ./cmd/status --stack isolated --json
//	pulumi stack output --json > outs.json && go run ./cmd/status --outputs-file outs.json
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/status"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := status.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
