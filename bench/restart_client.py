#!/usr/bin/env python3
"""make bench-front's restart figure (port-bench restart-to-assigned): one confluent-kafka
consumer at librdkafka's default group settings (session.timeout.ms 45000, heartbeats every
3 s) that joins --group, prints "assigned" as soon as on_assign fires, reads --count
messages, commits each and closes cleanly (close() sends LeaveGroup).

One JSON line per event on stdout, as Tests/KafkaFrontTests/Clients/kafka_client.py prints
them: "assigned", "message", "committed", "error", "done". Exit status: 0 when done, 2 when
the client reported an error, 3 when fewer than --count messages came within --timeout."""
import argparse
import json
import sys
import time


def emit(kind, **fields):
    print(json.dumps({"event": kind, **fields}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()

    import confluent_kafka
    errors = []
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "error_cb": errors.append,
    })

    def on_assign(_, partitions):
        emit("assigned", count=len(partitions), partitions=[p.partition for p in partitions], at=time.time())

    consumer.subscribe([args.topic], on_assign=on_assign)
    got = 0
    deadline = time.monotonic() + args.timeout
    try:
        while got < args.count and time.monotonic() < deadline:
            msg = consumer.poll(0.1)
            for error in errors:
                emit("error", code=error.code(), name=error.name(), message=error.str())
                return 2
            if msg is None:
                continue
            if msg.error():
                emit("error", code=msg.error().code(), name=msg.error().name(), message=msg.error().str())
                return 2
            emit("message", partition=msg.partition(), offset=msg.offset(), value=msg.value().decode(),
                 at=time.time(), timestamp=msg.timestamp()[1])
            consumer.commit(message=msg, asynchronous=False)
            emit("committed", partition=msg.partition(), offset=msg.offset() + 1)
            got += 1
    finally:
        consumer.close()
    if got < args.count:
        emit("error", name="timeout", message=f"{got} of {args.count} messages within {args.timeout} s")
    emit("done", count=got)
    return 0 if got == args.count else 3


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # the client's own error, reported as such
        emit("error", name=type(error).__name__, message=str(error))
        sys.exit(2)
