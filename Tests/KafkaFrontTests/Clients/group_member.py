#!/usr/bin/env python3
"""A confluent-kafka (librdkafka) group member at the client's default group timing (no
session.timeout.ms, heartbeat or fetch setting), for GroupTimingTests.

Prints one JSON line per event on stdout: "assigned" (from on_assign: the partition count,
"after", seconds since the consumer was created, and "at", the wall-clock time), "message",
"committed" (after a synchronous commit), "error" (from error_cb or a polled message: code,
name, whether it is fatal, its text, and for librdkafka's _FATAL the "underlying" error's name:
confluent-kafka gives only _FATAL and a text that quotes the broker error's description),
"closed" once the consumer has closed cleanly.

With --count N it reads and commits N messages, then closes cleanly and exits 0; without it,
it reads until --timeout (then closes and exits 0) or until it is killed. At --timeout before
N messages it closes and exits 3; after a fatal error it exits 2 at once, without closing
(the consumer is unusable)."""
import argparse
import json
import sys
import time

import confluent_kafka
from confluent_kafka import KafkaError


def emit(kind, **fields):
    print(json.dumps({"event": kind, **fields}), flush=True)


def underlying(error):
    """The name of the error whose description a _FATAL error's text quotes (the longest one)."""
    if error.code() != KafkaError._FATAL:
        return None
    described = [KafkaError(code) for code in vars(KafkaError).values() if isinstance(code, int) and code > 0]
    quoted = [e for e in described if e.str() and e.str() in error.str()]
    return max(quoted, key=lambda e: len(e.str())).name() if quoted else None


def is_fatal(error):
    return error.fatal() or error.code() == KafkaError._FATAL


def emit_error(error):
    emit("error", code=error.code(), name=error.name(), fatal=is_fatal(error), underlying=underlying(error),
         message=error.str())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--instance", help="group.instance.id: a static member")
    parser.add_argument("--count", type=int, default=0, help="messages to read before closing (0: until --timeout)")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    fatal = []

    def on_error(error):
        emit_error(error)
        if is_fatal(error):
            fatal.append(error)

    conf = {"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "error_cb": on_error}
    if args.instance:
        conf["group.instance.id"] = args.instance
    started = time.monotonic()
    consumer = confluent_kafka.Consumer(conf)
    consumer.subscribe([args.topic], on_assign=lambda c, partitions: emit(
        "assigned", count=len(partitions), after=round(time.monotonic() - started, 3), at=time.time()))
    deadline = started + args.timeout
    got = 0
    while not fatal and (args.count == 0 or got < args.count) and time.monotonic() < deadline:
        message = consumer.poll(0.1)
        if message is None:
            continue
        if message.error():
            emit_error(message.error())
            if is_fatal(message.error()):
                fatal.append(message.error())
            continue
        emit("message", partition=message.partition(), offset=message.offset(), value=message.value().decode())
        try:
            consumer.commit(message, asynchronous=False)
        except confluent_kafka.KafkaException as error:
            emit_error(error.args[0])
            continue
        emit("committed", value=message.value().decode())
        got += 1
    if fatal:
        return 2
    consumer.close()
    emit("closed", count=got)
    return 0 if args.count in (0, got) else 3


if __name__ == "__main__":
    sys.exit(main())
