# Helpers the bench scripts share: sourced (`. bench/lib.sh`), not run.

# median NUMBERS…: the middle one (the lower middle for an even count)
median() { printf '%s\n' "$@" | sort -g | sed -n "$(( ($# + 1) / 2 ))p"; }

# spread NUMBERS…: "min=… median=… max=…"
spread() {
    local sorted
    sorted=$(printf '%s\n' "$@" | sort -g)
    echo "min=$(echo "$sorted" | head -1) median=$(median "$@") max=$(echo "$sorted" | tail -1)"
}

# ratio A B: A/B with three decimals
ratio() { awk "BEGIN{printf \"%.3f\", $1/$2}"; }

# wait_for_port PORT: until something listens on 127.0.0.1:PORT, for at most 5 s
wait_for_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench: nothing listens on port $1" >&2
    return 1
}
