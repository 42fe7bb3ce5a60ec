// Command kafkago_client is one Kafka client for the KafkaFront client matrix: it
// consumes with a consumer group and commits (or reads metadata) with segmentio/kafka-go,
// as Tests/KafkaFrontTests/Clients/kafka_client.py does with the Python clients.
//
// It prints one JSON line per event on stdout ("message", "committed", "metadata",
// "error", "done") and kafka-go's own log on stderr. Exit status: 0 when the action
// finished, 2 when the client reported an error, 3 when fewer than --count messages came
// within --timeout.
//
// SASL: Debian bookworm's kafka-go is 0.2.1, whose Dialer has TLS but no SASL (kafka-go's
// sasl/scram package came with segmentio/kafka-go#223, in 2019). --security SASL_SSL
// therefore reports "unsupported" and exits 2.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	kafka "github.com/segmentio/kafka-go"
)

// library is set by build.sh to the Debian package's version.
var library = "kafka-go (version unknown)"

type options struct {
	action, bootstrap, topic, group             string
	security, mechanism, username, password, ca string
	strategy                                    string
	defaults                                    bool
	count, fetchMaxWaitMS, sessionMS            int
	heartbeatMS                                 int
	timeout                                     float64
}

func parse() options {
	var o options
	flag.String("client", "kafka-go", "accepted for kafka_client.py's command lines; ignored")
	flag.StringVar(&o.action, "action", "consume", "consume or metadata")
	flag.StringVar(&o.bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...] (required)")
	flag.StringVar(&o.topic, "topic", "", "topic to consume (required for consume)")
	flag.StringVar(&o.group, "group", "", "consumer group id (required for consume)")
	flag.IntVar(&o.count, "count", 1, "messages to consume before leaving")
	flag.StringVar(&o.security, "security", "PLAINTEXT", "PLAINTEXT or SASL_SSL")
	flag.StringVar(&o.mechanism, "mechanism", "SCRAM-SHA-512", "SASL mechanism")
	flag.StringVar(&o.username, "username", "", "SASL user")
	flag.StringVar(&o.password, "password", os.Getenv("KAFKA_PASSWORD"), "SASL password (default $KAFKA_PASSWORD)")
	flag.StringVar(&o.ca, "ca", "", "PEM file of the brokers' CA (for SASL_SSL, which kafka-go 0.2.1 cannot do)")
	flag.Float64Var(&o.timeout, "timeout", 30, "seconds before giving up")
	flag.BoolVar(&o.defaults, "defaults", false, "keep kafka-go 0.2.1's MinBytes (= MaxBytes, 1 MB) instead of 1, the other clients' default")
	flag.IntVar(&o.fetchMaxWaitMS, "fetch-max-wait-ms", 0, "ReaderConfig.MaxWait in ms (0: kafka-go's default)")
	flag.StringVar(&o.strategy, "strategy", "range", "group balancer: range or roundrobin")
	flag.IntVar(&o.sessionMS, "session-timeout-ms", 0, "ReaderConfig.SessionTimeout in ms (0: the library's default)")
	flag.IntVar(&o.heartbeatMS, "heartbeat-interval-ms", 0, "ReaderConfig.HeartbeatInterval in ms (0: the library's default)")
	flag.Parse()
	return o
}

// emit prints one event as a JSON line, its fields in the order given, as kafka_client.py does.
func emit(kind string, fields ...interface{}) {
	var b strings.Builder
	b.WriteString(`{"event": "` + kind + `"`)
	for i := 0; i+1 < len(fields); i += 2 {
		value, _ := json.Marshal(fields[i+1])
		fmt.Fprintf(&b, `, "%s": %s`, fields[i], value)
	}
	b.WriteString("}\n")
	os.Stdout.WriteString(b.String())
}

func fail(name string, err error) int {
	emit("error", "name", name, "message", err.Error())
	return 2
}

// errorLog copies kafka-go's error log to stderr and keeps its last line: kafka-go
// retries failed connections by itself and only logs why, so that line is the reason
// a read that times out gives.
type errorLog struct {
	mu   sync.Mutex
	last string
}

func (e *errorLog) Write(p []byte) (int, error) {
	line := strings.SplitN(strings.TrimSpace(string(p)), " ", 4)              // prefix, date, time, message
	if message := line[len(line)-1]; !strings.HasPrefix(message, "Syncing") { // not an error
		e.mu.Lock()
		e.last = message
		e.mu.Unlock()
	}
	return os.Stderr.Write(p)
}

func (e *errorLog) lastLine() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// unsupported is a setting this kafka-go cannot do.
type unsupported struct{ error }

func dialer(o options) (*kafka.Dialer, error) {
	d := &kafka.Dialer{ClientID: "kafka-go-client", Timeout: 10 * time.Second, DualStack: true}
	switch strings.ToUpper(o.security) {
	case "PLAINTEXT":
		return d, nil
	case "SASL_SSL":
		// A kafka-go with SASL would set d.TLS to a tls.Config with --ca's pool, and
		// d.SASLMechanism, _ = scram.Mechanism(scram.SHA512, o.username, o.password).
		return nil, unsupported{fmt.Errorf("%s has no SASL (its Dialer has TLS only): %s over SASL_SSL is not possible", library, o.mechanism)}
	}
	return nil, fmt.Errorf("--security %q: PLAINTEXT or SASL_SSL", o.security)
}

func consume(o options, d *kafka.Dialer) int {
	if o.topic == "" || o.group == "" {
		return fail("usage", fmt.Errorf("consume needs --topic and --group"))
	}
	balancer := kafka.GroupBalancer(kafka.RangeGroupBalancer{})
	switch o.strategy {
	case "range":
	case "roundrobin":
		balancer = kafka.RoundRobinGroupBalancer{}
	default:
		return fail("configuration", fmt.Errorf("--strategy %q: range or roundrobin", o.strategy))
	}
	errors := &errorLog{}
	config := kafka.ReaderConfig{
		Brokers:        strings.Split(o.bootstrap, ","),
		GroupID:        o.group,
		Topic:          o.topic,
		Dialer:         d,
		GroupBalancers: []kafka.GroupBalancer{balancer},
		CommitInterval: 0, // CommitMessages commits synchronously
		ErrorLogger:    log.New(errors, "[kafka-go] ", log.LstdFlags|log.Lmicroseconds),
	}
	if !o.defaults {
		// kafka-go 0.2.1 makes MinBytes default to MaxBytes: a fetch then waits its
		// whole MaxWait (10 s) whenever less than 1 MB is there.
		config.MinBytes, config.MaxBytes = 1, 1e6
	}
	if o.sessionMS > 0 {
		config.SessionTimeout = time.Duration(o.sessionMS) * time.Millisecond
	}
	if o.heartbeatMS > 0 {
		config.HeartbeatInterval = time.Duration(o.heartbeatMS) * time.Millisecond
	}
	if o.fetchMaxWaitMS > 0 {
		config.MaxWait = time.Duration(o.fetchMaxWaitMS) * time.Millisecond
	}
	reader, err := newReader(config)
	if err != nil {
		return fail("configuration", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.timeout*float64(time.Second)))
	defer cancel()

	got, status := 0, 0
	for got < o.count {
		msg, err := reader.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				status = fail(fmt.Sprintf("%T", err), err)
				break
			}
			message := fmt.Sprintf("%d of %d messages within %g s", got, o.count, o.timeout)
			if reason := errors.lastLine(); reason != "" {
				message += "; last error: " + reason
			}
			emit("error", "name", "timeout", "message", message)
			status = 3
			break
		}
		var key interface{}
		if msg.Key != nil {
			key = string(msg.Key)
		}
		timestamp := int64(-1) // kafka-go 0.2.1 reads message format v0/v1 only: no headers
		if !msg.Time.IsZero() {
			timestamp = msg.Time.UnixMilli()
		}
		emit("message", "partition", msg.Partition, "offset", msg.Offset, "key", key, "value", string(msg.Value),
			"at", float64(time.Now().UnixNano())/1e9, "timestamp", timestamp)
		if err := reader.CommitMessages(ctx, msg); err != nil {
			status = fail(fmt.Sprintf("%T", err), err)
			break
		}
		emit("committed", "partition", msg.Partition, "offset", msg.Offset+1)
		got++
	}
	// Close is meant to leave the group, but kafka-go 0.2.1 dials the coordinator for
	// its LeaveGroup with a context it has just cancelled, so no LeaveGroup is sent.
	reader.Close()
	if status == 2 {
		return 2
	}
	emit("done", "count", got)
	return status
}

// newReader is kafka.NewReader, which panics on a setting it refuses.
func newReader(config kafka.ReaderConfig) (reader *kafka.Reader, err error) {
	defer func() {
		if refusal := recover(); refusal != nil {
			err = fmt.Errorf("%v", refusal)
		}
	}()
	return kafka.NewReader(config), nil
}

func metadata(o options, d *kafka.Dialer) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.timeout*float64(time.Second)))
	defer cancel()
	conn, err := d.DialContext(ctx, "tcp", strings.Split(o.bootstrap, ",")[0])
	if err != nil {
		return fail(fmt.Sprintf("%T", err), err)
	}
	defer conn.Close()
	// kafka-go 0.2.1 asks for "all topics" with an empty list, which Metadata v1 reads
	// as none: the list comes back empty from any broker.
	partitions, err := conn.ReadPartitions()
	if err != nil {
		return fail(fmt.Sprintf("%T", err), err)
	}
	topicSet, brokerSet := map[string]bool{}, map[string]bool{}
	for _, p := range partitions {
		topicSet[p.Topic] = true
		brokerSet[fmt.Sprintf("%s:%d", p.Leader.Host, p.Leader.Port)] = true
	}
	emit("metadata", "topics", sortedKeys(topicSet), "brokers", sortedKeys(brokerSet))
	return 0
}

func sortedKeys(set map[string]bool) []string {
	keys := []string{}
	for key := range set {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func run() int {
	o := parse()
	if o.bootstrap == "" {
		return fail("usage", fmt.Errorf("--bootstrap is required"))
	}
	d, err := dialer(o)
	if _, ok := err.(unsupported); ok {
		return fail("unsupported", err)
	} else if err != nil {
		return fail("configuration", err)
	}
	log.Printf("%s, %s %s", library, strings.ToUpper(o.security), o.bootstrap)
	switch o.action {
	case "consume":
		return consume(o, d)
	case "metadata":
		return metadata(o, d)
	}
	return fail("usage", fmt.Errorf("--action %q: consume or metadata", o.action))
}

func main() { os.Exit(run()) }
