#!/usr/bin/env python3
"""A TLS listener that is not Kafka, for DeploymentTests.

Usage: tls_hangup_broker.py CERT KEY

It listens on a port the system picks (both IPv6 and IPv4 where it can) and prints
`listening PORT`. For each connection it completes TLS with CERT and KEY, reads the client's
first Kafka request header, prints `request api_key=K api_version=V`, and hangs up. A client
that refuses the certificate is printed as `handshake failed: REASON`.

Hanging up only once the first request has arrived makes the client's log deterministic: a
Kafka client that trusted the certificate is always waiting for its ApiVersions answer when
the connection closes (openssl s_server closed right after the handshake, a race).
"""
import socket
import ssl
import struct
import sys
import threading


PRINTING = threading.Lock()


def say(line):
    """One whole line: connections are served on threads, and print() writes a line and its
    newline apart, so that two threads' lines could run together."""
    with PRINTING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def serve(connection, context):
    try:
        with context.wrap_socket(connection, server_side=True) as tls:
            header = b""
            while len(header) < 8:
                chunk = tls.recv(8 - len(header))
                if not chunk:
                    say("closed before a request")
                    return
                header += chunk
            _, api_key, api_version = struct.unpack(">ihh", header)
            say(f"request api_key={api_key} api_version={api_version}")
            tls.unwrap()  # close_notify: a clean hang-up, not a truncated stream
    except (ssl.SSLError, OSError) as error:
        say(f"handshake failed: {error}")
    finally:
        connection.close()


def main():
    cert, key = sys.argv[1:3]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if socket.has_dualstack_ipv6():
        server = socket.create_server(("", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    else:
        server = socket.create_server(("127.0.0.1", 0))
    say(f"listening {server.getsockname()[1]}")
    while True:
        connection, _ = server.accept()
        threading.Thread(target=serve, args=(connection, context), daemon=True).start()


if __name__ == "__main__":
    main()
