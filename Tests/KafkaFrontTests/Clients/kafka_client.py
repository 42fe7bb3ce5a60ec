#!/usr/bin/env python3
"""One Kafka client, driven by the KafkaFront tests: consume with a group and commit,
produce, or just connect, through the emulator's front, with one of the independent
clients (confluent-kafka, kafka-python 2.0.2, aiokafka).

Prints one JSON line per event ("message", "committed", "error", "produced", "done") on
stdout, so the Swift test reads what the client itself saw. Exits 0 when the action
finished, 2 when the client reported an error (the error line says which)."""
import argparse
import asyncio
import json
import sys
import time


def emit(kind, **fields):
    print(json.dumps({"event": kind, **fields}), flush=True)


def parse():
    parser = argparse.ArgumentParser()
    parser.add_argument("--client", required=True, choices=["confluent", "kafka-python", "aiokafka"])
    parser.add_argument("--action", required=True, choices=["consume", "produce", "metadata"])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--security", default="PLAINTEXT", choices=["PLAINTEXT", "SASL_SSL"])
    parser.add_argument("--mechanism", default="SCRAM-SHA-512")
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--ca")
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--defaults", action="store_true", help="leave fetch settings at the client's defaults")
    parser.add_argument("--fetch-max-wait-ms", type=int)
    parser.add_argument("--strategy", help="confluent: partition.assignment.strategy (e.g. cooperative-sticky)")
    return parser.parse_args()


# confluent-kafka (librdkafka)

def confluent(args):
    import confluent_kafka
    conf = {"bootstrap.servers": args.bootstrap, "security.protocol": args.security}
    if args.security == "SASL_SSL":
        conf.update({"sasl.mechanism": args.mechanism, "sasl.username": args.username,
                     "sasl.password": args.password, "ssl.ca.location": args.ca})
    errors = []
    conf["error_cb"] = lambda error: errors.append(error)
    deadline = time.monotonic() + args.timeout
    if args.action == "produce":
        producer = confluent_kafka.Producer({**conf, "message.timeout.ms": int(args.timeout * 1000)})
        reports = []
        producer.produce(args.topic, b"from-confluent", on_delivery=lambda err, msg: reports.append((err, msg)))
        producer.flush(args.timeout)
        err, msg = reports[0] if reports else ("no delivery report", None)
        if err:
            emit("error", code=getattr(err, "code", lambda: None)(), name=getattr(err, "name", lambda: str(err))(),
                 message=str(err))
            return 2
        emit("produced", partition=msg.partition(), offset=msg.offset())
        return 0
    if args.action == "metadata":
        # A producer's metadata, polled so that the client's errors (authentication, TLS)
        # come back as soon as it reports them instead of at the deadline.
        producer = confluent_kafka.Producer(conf)
        while time.monotonic() < deadline:
            producer.poll(0.1)
            for error in errors:
                emit("error", code=error.code(), name=error.name(), message=error.str())
                return 2
            try:
                metadata = producer.list_topics(timeout=0.5)
            except confluent_kafka.KafkaException:
                continue
            emit("metadata", topics=sorted(metadata.topics),
                 brokers=[f"{b.host}:{b.port}" for b in metadata.brokers.values()])
            return 0
        emit("error", name="timeout", message=f"no metadata within {args.timeout} s")
        return 2
    # librdkafka's own session timeout (45 s): a clean close leaves the group, so a restart
    # rebalances at once, as with Kafka.
    conf.update({"group.id": args.group, "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    if args.fetch_max_wait_ms is not None:
        conf["fetch.wait.max.ms"] = args.fetch_max_wait_ms
    if args.strategy:
        conf["partition.assignment.strategy"] = args.strategy
    consumer = confluent_kafka.Consumer(conf)
    consumer.subscribe([args.topic])
    got = 0
    try:
        while got < args.count and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            for error in errors:
                emit("error", code=error.code(), name=error.name(), message=error.str())
                return 2
            if msg is None:
                continue
            if msg.error():
                emit("error", code=msg.error().code(), name=msg.error().name(), message=msg.error().str())
                return 2
            emit("message", partition=msg.partition(), offset=msg.offset(), value=msg.value().decode(), at=time.time(),
                 timestamp=msg.timestamp()[1])
            consumer.commit(message=msg, asynchronous=False)
            emit("committed", partition=msg.partition(), offset=msg.offset() + 1)
            got += 1
    finally:
        consumer.close()
    emit("done", count=got)
    return 0 if got == args.count else 3


# kafka-python 2.0.2

def kafka_python(args):
    import kafka
    import kafka.errors
    common = {"bootstrap_servers": args.bootstrap.split(","), "security_protocol": args.security}
    if kafka.__version__.startswith("2.0."):  # a setting kafka-python 3 no longer has
        common["api_version_auto_timeout_ms"] = 10000
    if args.security == "SASL_SSL":
        common.update({"sasl_mechanism": args.mechanism, "sasl_plain_username": args.username,
                       "sasl_plain_password": args.password, "ssl_cafile": args.ca})
    try:
        if args.action == "produce":
            producer = kafka.KafkaProducer(**common, retries=0, max_block_ms=int(args.timeout * 1000))
            metadata = producer.send(args.topic, b"from-kafka-python").get(timeout=args.timeout)
            emit("produced", partition=metadata.partition, offset=metadata.offset)
            return 0
        if args.action == "metadata":
            consumer = kafka.KafkaConsumer(**common)
            emit("metadata", topics=sorted(consumer.topics()), brokers=[])
            consumer.close()
            return 0
        options = {"group_id": args.group, "enable_auto_commit": False, "auto_offset_reset": "earliest",
                   "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}
        if args.fetch_max_wait_ms is not None:
            options["fetch_max_wait_ms"] = args.fetch_max_wait_ms
        consumer = kafka.KafkaConsumer(args.topic, **common, **options)
        got = 0
        deadline = time.monotonic() + args.timeout
        try:
            while got < args.count and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=200, max_records=1).values():
                    for record in records:
                        emit("message", partition=record.partition, offset=record.offset,
                             value=record.value.decode(), at=time.time(), timestamp=record.timestamp)
                        tp = kafka.TopicPartition(record.topic, record.partition)
                        consumer.commit({tp: kafka.OffsetAndMetadata(record.offset + 1, None)})
                        emit("committed", partition=record.partition, offset=record.offset + 1)
                        got += 1
        finally:
            consumer.close()
        emit("done", count=got)
        return 0 if got == args.count else 3
    except kafka.errors.KafkaError as error:
        emit("error", name=type(error).__name__, message=str(error))
        return 2


# aiokafka

async def aiokafka_main(args):
    import ssl
    import aiokafka
    import aiokafka.errors
    from aiokafka.structs import OffsetAndMetadata, TopicPartition
    common = {"bootstrap_servers": args.bootstrap, "security_protocol": args.security,
              "request_timeout_ms": int(args.timeout * 1000)}
    if args.security == "SASL_SSL":
        common.update({"sasl_mechanism": args.mechanism, "sasl_plain_username": args.username,
                       "sasl_plain_password": args.password,
                       "ssl_context": ssl.create_default_context(cafile=args.ca)})
    try:
        if args.action == "produce":
            producer = aiokafka.AIOKafkaProducer(**common)
            await producer.start()
            try:
                metadata = await asyncio.wait_for(producer.send_and_wait(args.topic, b"from-aiokafka"), args.timeout)
            finally:
                await producer.stop()
            emit("produced", partition=metadata.partition, offset=metadata.offset)
            return 0
        if args.action == "metadata":
            consumer = aiokafka.AIOKafkaConsumer(**common)
            await consumer.start()
            emit("metadata", topics=sorted(await consumer.topics()), brokers=[])
            await consumer.stop()
            return 0
        options = {"group_id": args.group, "enable_auto_commit": False, "auto_offset_reset": "earliest",
                   "session_timeout_ms": 6000, "heartbeat_interval_ms": 1000}
        if args.fetch_max_wait_ms is not None:
            options["fetch_max_wait_ms"] = args.fetch_max_wait_ms
        consumer = aiokafka.AIOKafkaConsumer(args.topic, **common, **options)
        await consumer.start()
        got = 0
        deadline = time.monotonic() + args.timeout
        try:
            while got < args.count and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=200, max_records=1)
                for tp, records in batches.items():
                    for record in records:
                        emit("message", partition=record.partition, offset=record.offset,
                             value=record.value.decode(), at=time.time(), timestamp=record.timestamp)
                        await consumer.commit({tp: OffsetAndMetadata(record.offset + 1, "")})
                        emit("committed", partition=record.partition, offset=record.offset + 1)
                        got += 1
        finally:
            await consumer.stop()
        emit("done", count=got)
        return 0 if got == args.count else 3
    except aiokafka.errors.KafkaError as error:
        emit("error", name=type(error).__name__, message=str(error))
        return 2


def main():
    args = parse()
    try:
        if args.client == "confluent":
            return confluent(args)
        if args.client == "kafka-python":
            return kafka_python(args)
        return asyncio.run(aiokafka_main(args))
    except Exception as error:  # the client's own error, reported as such
        emit("error", name=type(error).__name__, message=str(error))
        return 2


if __name__ == "__main__":
    sys.exit(main())
