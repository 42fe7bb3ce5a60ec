// Command sarama_client is one Kafka client for the KafkaFront client matrix: it
// consumes with a consumer group and commits (or reads metadata) with Shopify/IBM
// sarama, as Tests/KafkaFrontTests/Clients/kafka_client.py does with the Python clients.
//
// It prints one JSON line per event on stdout ("assigned", "message", "committed",
// "metadata", "error", "done") and sarama's own log on stderr. Exit status: 0 when the
// action finished, 2 when the client reported an error, 3 when fewer than --count
// messages came within --timeout.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
	"github.com/xdg-go/scram"
)

// library is set by build.sh to the Debian package's version.
var library = "sarama (version unknown)"

type options struct {
	action, bootstrap, topic, group               string
	security, mechanism, username, password, ca   string
	kafkaVersion, strategy, instanceID            string
	count, fetchMaxWaitMS, sessionMS, heartbeatMS int
	timeout                                       float64
}

func parse() options {
	var o options
	flag.String("client", "sarama", "accepted for kafka_client.py's command lines; ignored")
	flag.StringVar(&o.action, "action", "consume", "consume or metadata")
	flag.StringVar(&o.bootstrap, "bootstrap", "", "HOST:PORT[,HOST:PORT...] (required)")
	flag.StringVar(&o.topic, "topic", "", "topic to consume (required for consume)")
	flag.StringVar(&o.group, "group", "", "consumer group id (required for consume)")
	flag.IntVar(&o.count, "count", 1, "messages to consume before leaving")
	flag.StringVar(&o.security, "security", "PLAINTEXT", "PLAINTEXT or SASL_SSL")
	flag.StringVar(&o.mechanism, "mechanism", "SCRAM-SHA-512", "SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN")
	flag.StringVar(&o.username, "username", "", "SASL user")
	flag.StringVar(&o.password, "password", os.Getenv("KAFKA_PASSWORD"), "SASL password (default $KAFKA_PASSWORD)")
	flag.StringVar(&o.ca, "ca", "", "PEM file of the CA of the brokers' certificates (default: the system's)")
	flag.Float64Var(&o.timeout, "timeout", 30, "seconds before giving up")
	flag.Bool("defaults", false, "accepted for kafka_client.py's command lines; fetch settings are sarama's unless --fetch-max-wait-ms")
	flag.IntVar(&o.fetchMaxWaitMS, "fetch-max-wait-ms", 0, "Consumer.MaxWaitTime in ms (0: sarama's default)")
	flag.StringVar(&o.kafkaVersion, "kafka-version", "0.10.2.0", "Config.Version: a Kafka version, min (0.10.2.0, the lowest for groups) or max (sarama.MaxVersion)")
	flag.StringVar(&o.strategy, "strategy", "range", "rebalance strategy: range or roundrobin (sarama 1.22.1 has no sticky nor cooperative-sticky)")
	flag.StringVar(&o.instanceID, "group-instance-id", "", "static group.instance.id (Config.Consumer.Group.InstanceId, Kafka version >= 2.3)")
	flag.IntVar(&o.sessionMS, "session-timeout-ms", 0, "Consumer.Group.Session.Timeout in ms (0: the library's default)")
	flag.IntVar(&o.heartbeatMS, "heartbeat-interval-ms", 0, "Consumer.Group.Heartbeat.Interval in ms (0: the library's default)")
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

// emitError prints a client error: a broker's error code as Kafka's number, else the Go type.
func emitError(err error) {
	if kerr, ok := err.(sarama.KError); ok {
		emit("error", "code", int16(kerr), "name", "KError", "message", err.Error())
		return
	}
	emit("error", "name", fmt.Sprintf("%T", err), "message", err.Error())
}

// firstError keeps the first error the client reported, and prints it.
type firstError struct {
	sync.Mutex
	err error
}

func (f *firstError) report(err error) {
	f.Lock()
	defer f.Unlock()
	if f.err == nil {
		f.err = err
		emitError(err)
	}
}

func (f *firstError) failed() bool {
	f.Lock()
	defer f.Unlock()
	return f.err != nil
}

func config(o options) (*sarama.Config, error) {
	c := sarama.NewConfig()
	c.ClientID = "sarama-client"
	switch o.kafkaVersion {
	case "min":
		c.Version = sarama.V0_10_2_0
	case "max":
		c.Version = sarama.MaxVersion
	default:
		v, err := sarama.ParseKafkaVersion(o.kafkaVersion)
		if err != nil {
			return nil, err
		}
		c.Version = v
	}
	switch strings.ToUpper(o.security) {
	case "PLAINTEXT":
	case "SASL_SSL":
		tlsConfig, err := tlsConfig(o.ca)
		if err != nil {
			return nil, err
		}
		c.Net.TLS.Enable, c.Net.TLS.Config = true, tlsConfig
		c.Net.SASL.Enable, c.Net.SASL.Handshake = true, true
		c.Net.SASL.User, c.Net.SASL.Password = o.username, o.password
		c.Net.SASL.Mechanism = sarama.SASLMechanism(o.mechanism)
		switch o.mechanism {
		case sarama.SASLTypeSCRAMSHA512:
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA512} }
		case sarama.SASLTypeSCRAMSHA256:
			c.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{hash: scram.SHA256} }
		}
	default:
		return nil, fmt.Errorf("--security %q: PLAINTEXT or SASL_SSL", o.security)
	}
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	if o.sessionMS > 0 {
		c.Consumer.Group.Session.Timeout = time.Duration(o.sessionMS) * time.Millisecond
	}
	if o.heartbeatMS > 0 {
		c.Consumer.Group.Heartbeat.Interval = time.Duration(o.heartbeatMS) * time.Millisecond
	}
	if o.fetchMaxWaitMS > 0 {
		c.Consumer.MaxWaitTime = time.Duration(o.fetchMaxWaitMS) * time.Millisecond
	}
	switch o.strategy {
	case "range":
		c.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRange
	case "roundrobin":
		c.Consumer.Group.Rebalance.Strategy = sarama.BalanceStrategyRoundRobin
	default:
		return nil, fmt.Errorf("--strategy %q: %s has only range and roundrobin", o.strategy, library)
	}
	if o.instanceID != "" {
		// Set by name: sarama has Consumer.Group.InstanceId only since static membership came to it.
		field := reflect.ValueOf(&c.Consumer.Group).Elem().FieldByName("InstanceId")
		if !field.IsValid() {
			return nil, fmt.Errorf("--group-instance-id: %s has no Config.Consumer.Group.InstanceId (no static membership)", library)
		}
		field.SetString(o.instanceID)
	}
	return c, c.Validate()
}

func tlsConfig(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return &tls.Config{}, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// scramClient is sarama's documented SCRAMClient over xdg-go/scram.
type scramClient struct {
	hash scram.HashGeneratorFcn
	*scram.ClientConversation
}

func (s *scramClient) Begin(user, password, authzID string) error {
	client, err := s.hash.NewClient(user, password, authzID)
	if err != nil {
		return err
	}
	s.ClientConversation = client.NewConversation()
	return nil
}

// handler reads messages until want of them have come, marking each for commit.
type handler struct {
	want   int
	done   context.CancelFunc
	mu     sync.Mutex
	got    int
	marked map[int32]int64 // partition -> next offset marked for commit
}

func (h *handler) Setup(s sarama.ConsumerGroupSession) error {
	claims := s.Claims()
	count := 0
	for _, partitions := range claims {
		count += len(partitions)
	}
	emit("assigned", "count", count, "partitions", claims, "member", s.MemberID(), "generation", s.GenerationID())
	return nil
}

func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		select {
		case <-s.Context().Done():
			return nil
		case msg, ok := <-claim.Messages():
			if !ok || !h.take(s, msg) {
				return nil
			}
		}
	}
}

// take prints and marks msg unless enough messages have come already.
func (h *handler) take(s sarama.ConsumerGroupSession, msg *sarama.ConsumerMessage) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.got >= h.want {
		return false
	}
	timestamp := int64(-1)
	if !msg.Timestamp.IsZero() {
		timestamp = msg.Timestamp.UnixMilli()
	}
	var key interface{}
	if msg.Key != nil {
		key = string(msg.Key)
	}
	headers := map[string]string{}
	for _, header := range msg.Headers {
		headers[string(header.Key)] = string(header.Value)
	}
	emit("message", "partition", msg.Partition, "offset", msg.Offset, "key", key, "value", string(msg.Value),
		"headers", headers, "at", float64(time.Now().UnixNano())/1e9, "timestamp", timestamp)
	s.MarkMessage(msg, "")
	h.marked[msg.Partition] = msg.Offset + 1
	h.got++
	if h.got == h.want {
		h.done()
	}
	return h.got < h.want
}

func consume(o options, c *sarama.Config) int {
	if o.topic == "" || o.group == "" {
		return fail("usage", fmt.Errorf("consume needs --topic and --group"))
	}
	group, err := sarama.NewConsumerGroup(strings.Split(o.bootstrap, ","), o.group, c)
	if err != nil {
		emitError(err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(o.timeout*float64(time.Second)))
	defer cancel()
	h := &handler{want: o.count, done: cancel, marked: map[int32]int64{}}

	var errs firstError
	var errorsRead sync.WaitGroup
	errorsRead.Add(1)
	go func() { // every error sarama reports ends the run, as kafka_client.py's error_cb does
		defer errorsRead.Done()
		for err := range group.Errors() {
			errs.report(err)
			cancel()
		}
	}()
	// Close once done or at the deadline: it leaves the group once Consume has returned
	// (offsets flushed), and it is what ends sarama 1.22.1's endless coordinator retries.
	closed := make(chan error, 1)
	go func() {
		<-ctx.Done()
		closed <- group.Close()
	}()
	for ctx.Err() == nil {
		// One session per call; it returns on a rebalance, on cancel, or on an error.
		err := group.Consume(ctx, []string{o.topic}, h)
		if err == sarama.ErrClosedConsumerGroup && ctx.Err() != nil {
			break // closed at the deadline
		} else if err != nil {
			errs.report(err)
			break
		}
	}
	cancel()
	if err := <-closed; err != nil {
		errs.report(err)
	}
	errorsRead.Wait()
	if errs.failed() {
		return 2
	}
	if h.got < o.count {
		emit("error", "name", "timeout", "message", fmt.Sprintf("%d of %d messages within %g s", h.got, o.count, o.timeout))
		emit("done", "count", h.got)
		return 3
	}
	if err := checkCommitted(o, c, h.marked); err != nil {
		return fail("commit", err)
	}
	emit("done", "count", h.got)
	return 0
}

// checkCommitted asks the group's coordinator for the committed offsets and prints a
// "committed" line for each partition read: sarama commits in the background and on
// leaving, so this is how the client learns that the commits landed.
func checkCommitted(o options, c *sarama.Config, marked map[int32]int64) error {
	client, err := sarama.NewClient(strings.Split(o.bootstrap, ","), c)
	if err != nil {
		return err
	}
	defer client.Close()
	coordinator, err := client.Coordinator(o.group)
	if err != nil {
		return err
	}
	request := &sarama.OffsetFetchRequest{Version: 1, ConsumerGroup: o.group}
	for partition := range marked {
		request.AddPartition(o.topic, partition)
	}
	response, err := coordinator.FetchOffset(request)
	if err != nil {
		return err
	}
	partitions := make([]int, 0, len(marked))
	for partition := range marked {
		partitions = append(partitions, int(partition))
	}
	sort.Ints(partitions)
	for _, p := range partitions {
		block := response.GetBlock(o.topic, int32(p))
		if block == nil || block.Err != sarama.ErrNoError || block.Offset != marked[int32(p)] {
			return fmt.Errorf("partition %d: committed %+v, want offset %d", p, block, marked[int32(p)])
		}
		emit("committed", "partition", p, "offset", block.Offset)
	}
	return nil
}

func metadata(o options, c *sarama.Config) int {
	client, err := sarama.NewClient(strings.Split(o.bootstrap, ","), c)
	if err != nil {
		emitError(err)
		return 2
	}
	defer client.Close()
	topics, err := client.Topics()
	if err != nil {
		emitError(err)
		return 2
	}
	sort.Strings(topics)
	brokers := []string{}
	for _, broker := range client.Brokers() {
		brokers = append(brokers, broker.Addr())
	}
	emit("metadata", "topics", topics, "brokers", brokers)
	return 0
}

func run() int {
	o := parse()
	sarama.Logger = log.New(os.Stderr, "[sarama] ", log.LstdFlags|log.Lmicroseconds)
	if o.bootstrap == "" {
		return fail("usage", fmt.Errorf("--bootstrap is required"))
	}
	c, err := config(o)
	if err != nil {
		return fail("configuration", err)
	}
	log.Printf("%s, Config.Version %s, %s %s", library, c.Version, strings.ToUpper(o.security), o.bootstrap)
	switch o.action {
	case "consume":
		return consume(o, c)
	case "metadata":
		return metadata(o, c)
	}
	return fail("usage", fmt.Errorf("--action %q: consume or metadata", o.action))
}

func main() { os.Exit(run()) }
