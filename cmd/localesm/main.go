// Command localesm runs the listener against a real RabbitMQ queue on your machine, through
// the local stand-in for Lambda's event source mapping (internal/localesm): same event shape,
// same batching, ack on success, requeue on error, and like the mapping it connects again
// when it loses the broker.
//
//	AMQP_PASSWORD=… go run ./cmd/localesm --url amqps://admin@b-….mq.us-east-1.amazonaws.com:5671 --queue events
//	go run ./cmd/localesm --url amqp://guest:guest@localhost:5672 --queue events --batch-size 10 --batching-window 1s
//
// Give the password in AMQP_PASSWORD rather than in the URL, to keep it out of shell history.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deadletter"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/localesm"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

func main() {
	rawURL := flag.String("url", "", "broker URL, amqps://user@host:5671 or amqp://user@host:5672 (password from AMQP_PASSWORD, or in the URL)")
	caFile := flag.String("ca-file", "", "PEM CA bundle that verifies the broker's certificate (default: the system roots)")
	queue := flag.String("queue", "", "queue to consume")
	vhost := flag.String("vhost", "/", "virtual host")
	batchSize := flag.Int("batch-size", 100, "most messages per invocation, 1-10000")
	window := flag.Duration("batching-window", 500*time.Millisecond, "longest a batch waits to fill, 0-300s (AWS's default for Amazon MQ is 500ms)")
	flag.Parse()
	if err := run(*rawURL, *caFile, *queue, *vhost, *batchSize, *window); err != nil {
		fmt.Fprintln(os.Stderr, "localesm:", err)
		os.Exit(1)
	}
}

func run(rawURL, caFile, queue, vhost string, batchSize int, window time.Duration) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || queue == "" {
		return fmt.Errorf("--url (amqps://user@host:port) and --queue are required")
	}
	creds := rabbitops.Credentials{Username: u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		creds.Password = pw
	}
	if env := os.Getenv("AMQP_PASSWORD"); env != "" {
		creds.Password = env
	}
	opts, err := handler.OptionsFromEnv()
	if err != nil {
		return err
	}
	// Like the deployed listener, the local one dead-letters a message that fails for good on
	// the broker it reads from.
	opts.DeadLetters = &deadletter.Broker{Endpoint: u.Scheme + "://" + u.Host, VHost: vhost, SecretArn: "(local)",
		Secrets: rabbitops.FixedCredentials(creds), CAFile: caFile}
	listener := handler.New(opts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dial := func(ctx context.Context) (*amqp.Connection, error) {
		return rabbitops.Dial(ctx, u.Scheme+"://"+u.Host, creds, vhost, caFile)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	logger.Info("starting", "queue", queue, "vhost", vhost, "batchSize", batchSize, "batchingWindow", window)
	return localesm.Serve(ctx, dial, localesm.Config{
		Queue: queue, VHost: vhost, BatchSize: batchSize, BatchingWindow: window,
		Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	}, listener.Handle)
}
