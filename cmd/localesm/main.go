// Command localesm runs the listener against a real RabbitMQ queue on your machine, through
// the local stand-in for Lambda's event source mapping (internal/localesm): same event shape,
// same batching, ack on success, requeue on error, and like the mapping it connects again
// when it loses the broker.
//
//	go run ./cmd/localesm --url amqps://b-….mq.us-east-1.amazonaws.com:5671 --queue events \
//	    --secret-file mapping.json --dead-letter-secret-file dead-letter.json
//	AMQP_PASSWORD=… go run ./cmd/localesm --url amqps://admin@b-….mq.us-east-1.amazonaws.com:5671 --queue events
//	go run ./cmd/localesm --url amqp://guest:guest@localhost:5672 --queue events --batch-size 10 --batching-window 1s
//
// With --secret-file it logs in as the mapping does, as the user of a {"username","password"}
// file read again at every connection (rewrite it to follow a rotation, as the mapping re-reads
// its BASIC_AUTH secret when it reconnects), and dead-letters as the user of
// --dead-letter-secret-file. Otherwise give the password in AMQP_PASSWORD rather than in the
// URL, to keep it out of shell history.
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

	"github.com/rabbitmq-esm/rabbitmq-esm/internal/deadletter"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/localesm"
	"github.com/rabbitmq-esm/rabbitmq-esm/internal/rabbitops"
	"github.com/rabbitmq-esm/rabbitmq-esm/listener/handler"
)

type options struct {
	rawURL, caFile, queue, vhost, secretFile, deadLetterSecretFile string
	batchSize                                                      int
	window                                                         time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.rawURL, "url", "", "broker URL, amqps://[user@]host:5671 or amqp://[user@]host:5672 (password from AMQP_PASSWORD, or in the URL; no user with --secret-file)")
	flag.StringVar(&o.caFile, "ca-file", "", "PEM CA bundle that verifies the broker's certificate (default: the system roots)")
	flag.StringVar(&o.queue, "queue", "", "queue to consume")
	flag.StringVar(&o.vhost, "vhost", "/", "virtual host")
	flag.StringVar(&o.secretFile, "secret-file", "", `the mapping's user, a {"username","password"} file read again at every connection`)
	flag.StringVar(&o.deadLetterSecretFile, "dead-letter-secret-file", "", `the listener's dead-letter user, a {"username","password"} file (default: the mapping's credentials, which cannot publish dead letters when they are the mapping's least-privilege user)`)
	flag.IntVar(&o.batchSize, "batch-size", 100, "most messages per invocation, 1-10000")
	flag.DurationVar(&o.window, "batching-window", 500*time.Millisecond, "longest a batch waits to fill, 0-300s (AWS's default for Amazon MQ is 500ms)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "localesm:", err)
		os.Exit(1)
	}
}

// secrets is where the mapping's credentials come from: the secret file, or the URL and
// AMQP_PASSWORD.
func secrets(o options, u *url.URL) (rabbitops.SecretReader, error) {
	if o.secretFile != "" {
		if u.User != nil {
			return nil, fmt.Errorf("--url names a user and --secret-file gives one: give the credentials in one place")
		}
		return localesm.FileSecret(o.secretFile), nil
	}
	creds := rabbitops.Credentials{Username: u.User.Username()}
	if pw, ok := u.User.Password(); ok {
		creds.Password = pw
	}
	if env := os.Getenv("AMQP_PASSWORD"); env != "" {
		creds.Password = env
	}
	return rabbitops.FixedCredentials(creds), nil
}

func run(o options) error {
	u, err := url.Parse(o.rawURL)
	if err != nil || u.Host == "" || o.queue == "" {
		return fmt.Errorf("--url (amqps://host:port) and --queue are required")
	}
	endpoint := u.Scheme + "://" + u.Host
	mapping, err := secrets(o, u)
	if err != nil {
		return err
	}
	deadLetters := mapping
	if o.deadLetterSecretFile != "" {
		deadLetters = localesm.FileSecret(o.deadLetterSecretFile)
	}
	opts, err := handler.OptionsFromEnv()
	if err != nil {
		return err
	}
	// Like the deployed listener, the local one dead-letters a message that fails for good on
	// the broker it reads from.
	opts.DeadLetters = &deadletter.Broker{Endpoint: endpoint, VHost: o.vhost, SecretArn: "(local)", Secrets: deadLetters, CAFile: o.caFile}
	listener := handler.New(opts)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	logger.Info("starting", "queue", o.queue, "vhost", o.vhost, "batchSize", o.batchSize, "batchingWindow", o.window)
	return localesm.Serve(ctx, localesm.SecretDialer(endpoint, o.vhost, o.caFile, mapping, o.secretFile), localesm.Config{
		Queue: o.queue, VHost: o.vhost, BatchSize: o.batchSize, BatchingWindow: o.window,
		Logf: func(format string, args ...any) { logger.Info(fmt.Sprintf(format, args...)) },
	}, listener.Handle)
}
