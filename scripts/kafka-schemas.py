#!/usr/bin/env python3
"""Generates the Kafka protocol schemas the broker serves, and golden vectors to test them.

Usage: scripts/kafka-schemas.py KAFKA_GIT_DIR [TAG]

KAFKA_GIT_DIR is a clone of apache/kafka (a bare one will do); TAG defaults to 3.9.0-rc3,
the commit Apache Kafka 3.9.0 was released from. The script reads the message definitions
(clients/src/main/resources/common/message/*.json) of the APIs in `APIS` and writes:

  Sources/KafkaProtocol/Schemas/*.swift   one file per API: its request and response schema,
                                          as KafkaMessageSchema values the codec interprets
  Tests/KafkaProtocolTests/Golden/*.json  per API, version and direction: a sample value
                                          and its bytes, encoded here by an encoder of this
                                          script's own (`Encoder`), independent of the Swift
                                          codec the vectors test

None of Kafka's files is committed: the schemas are rewritten as Swift, and the vectors are
this script's samples. Run it again after changing `APIS` or the Kafka version.
"""
import json
import os
import random
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MESSAGES = "clients/src/main/resources/common/message"

# The APIs a consumer or a simple producer uses, plus the transactional ones (refused).
APIS = [
    "Produce", "Fetch", "ListOffsets", "Metadata", "OffsetCommit", "OffsetFetch", "FindCoordinator",
    "JoinGroup", "Heartbeat", "LeaveGroup", "SyncGroup", "DescribeGroups", "ListGroups", "SaslHandshake",
    "ApiVersions", "InitProducerId", "OffsetForLeaderEpoch", "AddPartitionsToTxn", "AddOffsetsToTxn",
    "EndTxn", "TxnOffsetCommit", "SaslAuthenticate",
]
HEADERS = ["RequestHeader", "ResponseHeader"]
MAX = 32767


def load(git_dir, tag, name):
    text = subprocess.run(
        ["git", "-C", git_dir, "show", f"{tag}:{MESSAGES}/{name}.json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(re.sub(r"^\s*//.*$", "", text, flags=re.M))


def versions(text):
    """ "0+" -> (0, MAX), "3-5" -> (3, 5), "4" -> (4, 4), "none"/None -> None."""
    if text is None or text == "none":
        return None
    if text.endswith("+"):
        return (int(text[:-1]), MAX)
    if "-" in text:
        low, high = text.split("-")
        return (int(low), int(high))
    return (int(text), int(text))


def contains(span, version):
    return span is not None and span[0] <= version <= span[1]


class Field:
    def __init__(self, spec, common):
        self.name = spec["name"]
        self.versions = versions(spec["versions"])
        self.nullable = versions(spec.get("nullableVersions"))
        self.tagged = versions(spec.get("taggedVersions"))
        self.tag = spec.get("tag")
        self.flexible = versions(spec["flexibleVersions"]) if "flexibleVersions" in spec else "inherit"
        self.ignorable = spec.get("ignorable", False)
        self.default = spec.get("default")
        kind = spec["type"]
        self.array = kind.startswith("[]")
        element = kind[2:] if self.array else kind
        self.element = element
        self.fields = None
        if "fields" in spec:
            self.fields = [Field(f, common) for f in spec["fields"]]
        elif element in common:
            self.fields = [Field(f, common) for f in common[element]]

    @property
    def is_struct(self):
        return self.fields is not None


class Message:
    def __init__(self, spec):
        self.name = spec["name"]
        self.api_key = spec.get("apiKey", -1)
        self.kind = spec["type"]
        self.valid = versions(spec["validVersions"])
        self.flexible = versions(spec["flexibleVersions"])
        common = {c["name"]: c["fields"] for c in spec.get("commonStructs", [])}
        self.fields = [Field(f, common) for f in spec["fields"]]


# --- Swift -----------------------------------------------------------------------------------

def swift_versions(span):
    if span is None:
        return "KafkaVersions.none"
    low, high = span
    return str(low) if high == MAX else f"KafkaVersions({low}, {high})"


PRIMITIVES = {
    "bool": ".bool", "int8": ".int8", "int16": ".int16", "int32": ".int32", "int64": ".int64",
    "uint16": ".uint16", "float64": ".float64", "string": ".string", "bytes": ".bytes",
    "records": ".records", "uuid": ".uuid",
}


def swift_default(field):
    value = field.default
    if value is None or field.is_struct or field.array:
        return None
    value = str(value).lower() if isinstance(value, bool) else str(value)
    if value == "null":
        return ".null"
    if field.element == "bool":
        return f".bool({value})"
    if field.element in ("int8", "int16", "int32", "int64", "uint16"):
        return f".int({int(value, 0)})"
    if field.element == "string":
        return ".string(" + json.dumps(value) + ")"
    raise ValueError(f"default {value!r} of {field.name}")


def swift_type(field, indent):
    if field.is_struct:
        inner = swift_fields(field.fields, indent + 1)
        element = f'.structure(KafkaStructSchema("{field.element}", [\n{inner}\n{"    " * indent}]))'
    else:
        element = PRIMITIVES[field.element]
    return f".array({element})" if field.array else element


def swift_field(field, indent):
    arguments = [json.dumps(field.name), swift_type(field, indent), swift_versions(field.versions)]
    if field.nullable:
        arguments.append("nullable: " + swift_versions(field.nullable))
    if field.tagged:
        arguments.append("tagged: " + swift_versions(field.tagged))
        arguments.append(f"tag: {field.tag}")
    if field.flexible != "inherit":
        arguments.append("flexible: " + swift_versions(field.flexible))
    if field.ignorable:
        arguments.append("ignorable: true")
    default = swift_default(field)
    if default:
        arguments.append("default: " + default)
    return "    " * indent + "KafkaField(" + ", ".join(arguments) + ")"


def swift_fields(fields, indent):
    return ",\n".join(swift_field(f, indent) for f in fields)


def swift_message(message, identifier):
    low, high = message.valid
    flexible = swift_versions(message.flexible)
    kind = {"request": ".request", "response": ".response", "header": ".header"}[message.kind]
    summary = f"versions {low}–{high}, " + (
        f"flexible from {message.flexible[0]}" if message.flexible else "none flexible"
    )
    key = f"API key {message.api_key}, " if message.api_key >= 0 else ""
    return (
        f"    /// {message.name}: {key}{summary}.\n"
        f"    package static let {identifier} = KafkaMessageSchema(\n"
        f'        apiKey: {message.api_key}, name: "{message.name}", kind: {kind},\n'
        f"        valid: KafkaVersions({low}, {high}), flexible: {flexible},\n"
        f"        fields: [\n{swift_fields(message.fields, 3)}\n        ]\n"
        f"    )\n"
    )


def lower_first(name):
    return name[0].lower() + name[1:]


def write_swift(name, messages, tag):
    sources = ", ".join(f"{m.name}.json" for m in messages)
    body = "\n".join(swift_message(m, lower_first(m.name)) for m in messages)
    text = (
        f"// Generated by scripts/kafka-schemas.py from Apache Kafka's message definitions\n"
        f"// ({tag}: {sources}). Do not edit; run the script again.\n\n"
        f"extension KafkaSchemas {{\n{body}}}\n"
    )
    path = os.path.join(ROOT, "Sources/KafkaProtocol/Schemas", f"Schemas+{name}.swift")
    with open(path, "w") as out:
        out.write(text)
    subprocess.run(["swift", "format", "format", "--in-place", path], check=True)


def write_registry(tag):
    def table(kind):
        rows = "\n".join(f"        {lower_first(name)}{kind}.apiKey: {lower_first(name)}{kind}," for name in APIS)
        return f"[\n{rows}\n    ]"

    text = (
        f"// Generated by scripts/kafka-schemas.py ({tag}). Do not edit; run the script again.\n\n"
        f"extension KafkaSchemas {{\n"
        f"    /// The request schema of every API served, by API key.\n"
        f"    package static let requests: [Int16: KafkaMessageSchema] = {table('Request')}\n\n"
        f"    /// The response schema of every API served, by API key.\n"
        f"    package static let responses: [Int16: KafkaMessageSchema] = {table('Response')}\n"
        f"}}\n"
    )
    path = os.path.join(ROOT, "Sources/KafkaProtocol/Schemas", "Schemas+Registry.swift")
    with open(path, "w") as out:
        out.write(text)
    subprocess.run(["swift", "format", "format", "--in-place", path], check=True)


# --- Golden vectors --------------------------------------------------------------------------

class Encoder:
    """Kafka's wire rules, written from the protocol guide, independently of the Swift codec."""

    def __init__(self, flexible):
        self.flexible = flexible
        self.out = bytearray()

    def uvarint(self, value):
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                self.out.append(byte | 0x80)
            else:
                self.out.append(byte)
                return

    def length(self, count, wide):
        """A length or count: compact (unsigned varint of n + 1, 0 for null) when flexible."""
        if self.flexible:
            self.uvarint(0 if count is None else count + 1)
        else:
            self.out += struct.pack(">i" if wide else ">h", -1 if count is None else count)

    def primitive(self, kind, value):
        formats = {"int8": ">b", "int16": ">h", "int32": ">i", "int64": ">q", "uint16": ">H", "float64": ">d"}
        if kind == "bool":
            self.out.append(1 if value else 0)
        elif kind in formats:
            self.out += struct.pack(formats[kind], value)
        elif kind == "uuid":
            self.out += bytes.fromhex(value["uuid"])
        elif kind == "string":
            data = None if value is None else value.encode()
            self.length(None if data is None else len(data), wide=False)
            self.out += data or b""
        elif kind in ("bytes", "records"):
            data = None if value is None else bytes.fromhex(value["bytes"])
            self.length(None if data is None else len(data), wide=True)
            self.out += data or b""
        else:
            raise ValueError(kind)


def field_flexible(field, flexible):
    return flexible if field.flexible == "inherit" else field.flexible is not None and flexible


def encode_value(field, value, version, flexible):
    encoder = Encoder(field_flexible(field, flexible))
    if field.array:
        encoder.length(None if value is None else len(value), wide=True)
        for item in value or []:
            encoder.out += encode_element(field, item, version, flexible)
    else:
        encoder.out += encode_element(field, value, version, flexible)
    return bytes(encoder.out)


def encode_element(field, value, version, flexible):
    if field.is_struct:
        return encode_struct(field.fields, value, version, flexible)
    encoder = Encoder(field_flexible(field, flexible))
    encoder.primitive(field.element, value)
    return bytes(encoder.out)


def encode_struct(fields, value, version, flexible):
    out = bytearray()
    tagged = []
    for field in fields:
        if not contains(field.versions, version):
            continue
        if flexible and contains(field.tagged, version):
            if field.name in value:
                tagged.append((field.tag, encode_value(field, value[field.name], version, flexible)))
            continue
        out += encode_value(field, value[field.name], version, flexible)
    if flexible:
        for tag, data in value.get("_unknownTags", {}).items():
            tagged.append((int(tag), bytes.fromhex(data)))
        tagged.sort()
        encoder = Encoder(True)
        encoder.uvarint(len(tagged))
        for tag, data in tagged:
            encoder.uvarint(tag)
            encoder.uvarint(len(data))
            encoder.out += data
        out += encoder.out
    return bytes(out)


class Sampler:
    """Deterministic sample values: every field present in a version gets a value that is not
    its default where it can (tagged fields are written only then), nullable ones sometimes
    null, strings sometimes non-ASCII (their length is in bytes)."""

    def __init__(self, seed):
        self.random = random.Random(seed)

    def element(self, field, version):
        r = self.random
        if field.is_struct:
            return self.struct(field.fields, version, flexible=False)
        kind = field.element
        limits = {"int8": 7, "int16": 15, "int32": 31, "int64": 62, "uint16": 16}
        if kind == "bool":
            return True
        if kind == "uint16":
            return r.randrange(1, 1 << 16)
        if kind in limits:
            bound = 1 << limits[kind]
            value = r.randrange(-bound + 1, bound)
            return value if value not in (0, -1) else 42
        if kind == "float64":
            return 0.5
        if kind == "uuid":
            return {"uuid": bytes(r.randrange(256) for _ in range(16)).hex()}
        if kind == "string":
            return r.choice(["group-é", "org_emulator.runs", "x", "client-1", "ü" * 3])
        if kind in ("bytes", "records"):
            return {"bytes": bytes(r.randrange(256) for _ in range(r.randrange(1, 9))).hex()}
        raise ValueError(kind)

    def value(self, field, version):
        # A tagged field is written only when it differs from its default: never null or empty.
        tagged = contains(field.tagged, version)
        if contains(field.nullable, version) and not tagged and self.random.random() < 0.25:
            return None
        if field.array:
            counts = [1, 2] if tagged else [0, 1, 2, 2]
            return [self.element(field, version) for _ in range(self.random.choice(counts))]
        return self.element(field, version)

    def struct(self, fields, version, flexible):
        value = {}
        for field in fields:
            if contains(field.versions, version):
                value[field.name] = self.value(field, version)
        if flexible and self.random.random() < 0.5:
            value["_unknownTags"] = {"90": "0102"}
        return value


def vectors(message):
    cases = []
    for version in range(message.valid[0], message.valid[1] + 1):
        flexible = contains(message.flexible, version)
        sampler = Sampler(f"{message.name}/{version}")
        for index in range(2):
            value = sampler.struct(message.fields, version, flexible)
            if message.name == "ApiVersionsResponse" and index == 0:
                value["ErrorCode"] = 0  # with an error, Kafka answers (and clients read) version 0
            data = encode_struct(message.fields, value, version, flexible)
            cases.append({"version": version, "value": value, "bytes": data.hex()})
    return cases


def write_vectors(name, messages, tag):
    document = {
        "source": f"scripts/kafka-schemas.py, Apache Kafka {tag}",
        "messages": {m.name: vectors(m) for m in messages},
    }
    path = os.path.join(ROOT, "Tests/KafkaProtocolTests/Golden", f"{name}.json")
    with open(path, "w") as out:
        json.dump(document, out, indent=1, ensure_ascii=False)
        out.write("\n")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    git_dir = sys.argv[1]
    tag = sys.argv[2] if len(sys.argv) > 2 else "3.9.0-rc3"
    os.makedirs(os.path.join(ROOT, "Sources/KafkaProtocol/Schemas"), exist_ok=True)
    os.makedirs(os.path.join(ROOT, "Tests/KafkaProtocolTests/Golden"), exist_ok=True)
    for name in APIS:
        messages = [Message(load(git_dir, tag, name + kind)) for kind in ("Request", "Response")]
        write_swift(name, messages, tag)
        write_vectors(name, messages, tag)
    write_registry(tag)
    headers = [Message(load(git_dir, tag, name)) for name in HEADERS]
    write_swift("Headers", headers, tag)
    write_vectors("Headers", headers, tag)


if __name__ == "__main__":
    main()
