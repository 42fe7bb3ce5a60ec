#!/usr/bin/env python3
"""A confluent-kafka (librdkafka) group member with a group.instance.id, for the static
membership test: prints one JSON line when partitions are assigned, one per message, and
one once that message's offset is committed (synchronously); runs until it is killed."""
import json
import sys
import time

import confluent_kafka


def emit(kind, **fields):
    print(json.dumps({"event": kind, **fields}), flush=True)


bootstrap, topic, group, instance = sys.argv[1:5]
started = time.monotonic()
consumer = confluent_kafka.Consumer({
    "bootstrap.servers": bootstrap, "group.id": group, "group.instance.id": instance,
    "session.timeout.ms": 45000, "heartbeat.interval.ms": 500, "enable.auto.commit": False,
    "auto.offset.reset": "earliest",
})
consumer.subscribe([topic], on_assign=lambda c, partitions: emit(
    "assigned", count=len(partitions), after=round(time.monotonic() - started, 3)))
while True:
    message = consumer.poll(0.1)
    if message is None:
        continue
    if message.error():
        emit("error", message=str(message.error()))
        continue
    emit("message", value=message.value().decode())
    consumer.commit(message, asynchronous=False)
    emit("committed", value=message.value().decode())
