"""A TLS client for the front's SASL_SSL listener: `complete` finishes a handshake trusting the
CA file and closes; `hangup` sends its ClientHello, reads the server's first flight and closes
without answering, as a client does that drops a connection mid-handshake.
Usage: tls_hangup_client.py HOST PORT complete|hangup CA_FILE"""

import socket
import ssl
import sys

host, port, mode, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if mode == "complete":
    context = ssl.create_default_context(cafile=ca)
    context.check_hostname = False
    with socket.create_connection((host, port), timeout=30) as raw:
        with context.wrap_socket(raw, server_hostname=host):
            pass
    print("completed")
else:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname=host)
    try:
        session.do_handshake()
    except ssl.SSLWantReadError:
        pass
    with socket.create_connection((host, port), timeout=30) as raw:
        raw.sendall(outgoing.read())
        raw.recv(65536)
    print("hung up")
