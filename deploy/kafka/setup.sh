#!/bin/bash
# One-shot, after the broker is up: the SCRAM users, the organization's topics and the ACLs Port gives a
# customer. The customer's user may read ORG_ID.runs and ORG_ID.change.log and use consumer
# groups named ORG_ID.* only; the emulator (playing Port) may write to both topics.
set -euo pipefail
BOOTSTRAP=kafka:19092
BIN=/opt/kafka/bin
for topic in "$ORG_ID.runs" "$ORG_ID.change.log"; do
    "$BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
        --topic "$topic" --partitions 3 --replication-factor 1
done
# The SCRAM-SHA-512 users: the customer's (the credentials Port's support hands out) and the
# emulator's, which publishes as Port does.
"$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$CUSTOMER_USER" \
    --add-config "SCRAM-SHA-512=[password=$CUSTOMER_PASSWORD]"
"$BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter --entity-type users --entity-name "$EMULATOR_USER" \
    --add-config "SCRAM-SHA-512=[password=$EMULATOR_PASSWORD]"
acl() { "$BIN/kafka-acls.sh" --bootstrap-server "$BOOTSTRAP" --add "$@"; }
acl --allow-principal "User:$CUSTOMER_USER" --operation Read --operation Describe \
    --topic "$ORG_ID." --resource-pattern-type prefixed
acl --allow-principal "User:$CUSTOMER_USER" --operation Read --operation Describe \
    --group "$ORG_ID." --resource-pattern-type prefixed
acl --allow-principal "User:$EMULATOR_USER" --operation Write --operation Describe --operation Create \
    --topic "$ORG_ID." --resource-pattern-type prefixed
echo "topics and ACLs for $ORG_ID are in place"
