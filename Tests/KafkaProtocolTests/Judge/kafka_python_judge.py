#!/usr/bin/env python3
"""An independent judge of the golden vectors: kafka-python 3's own codec (written from
Apache Kafka's JSON definitions by other authors) decodes every vector and encodes it again;
the bytes must come back unchanged.

Usage: kafka_python_judge.py GOLDEN_DIR   (run with the kafka-python 3 virtual environment)

Prints one line per disagreement and a summary `judged N, disagreed M, not judged K`; exits 1
on any disagreement. Not judged: the headers (kafka-python has no class for them), vectors
with unknown tagged fields (kafka-python drops them, as it may), and ApiVersions answers with
an error (a client reads those as version 0, which is what Kafka sends with an error).
"""
import glob
import importlib
import json
import os
import pkgutil
import sys

import kafka.protocol as protocol
from kafka.protocol.api_message import ApiMessage


def message_classes():
    classes = {}
    for module in pkgutil.walk_packages(protocol.__path__, "kafka.protocol."):
        try:
            loaded = importlib.import_module(module.name)
        except ImportError:
            continue
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, ApiMessage) and value is not ApiMessage:
                try:
                    classes[value.name] = value
                except (AttributeError, KeyError, TypeError):
                    pass
    return classes


def main():
    classes = message_classes()
    judged = disagreed = skipped = 0
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        with open(path) as file:
            messages = json.load(file)["messages"]
        for name, cases in messages.items():
            for case in cases:
                value, version = case["value"], case["version"]
                if (
                    name not in classes
                    or "_unknownTags" in value
                    or (name == "ApiVersionsResponse" and value.get("ErrorCode"))
                ):
                    skipped += 1
                    continue
                data = bytes.fromhex(case["bytes"])
                judged += 1
                try:
                    message = classes[name].decode(data, version=version)
                    message._header = None  # decode skips __init__, which sets it
                    again = message.encode(version=version)
                except Exception as error:  # noqa: BLE001 - any failure is a disagreement
                    disagreed += 1
                    print(f"{name} v{version}: kafka-python cannot read it: {error!r}")
                    continue
                if again != data:
                    disagreed += 1
                    print(f"{name} v{version}: kafka-python encodes {again.hex()}, the vector is {data.hex()}")
    print(f"judged {judged}, disagreed {disagreed}, not judged {skipped}")
    sys.exit(1 if disagreed or not judged else 0)


if __name__ == "__main__":
    main()
