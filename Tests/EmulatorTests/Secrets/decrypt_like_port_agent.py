#!/usr/bin/env python3
"""Decrypts secret inputs the way port-agent does (app/utils.py: decrypt_field), with
pycryptodome, independently of the project's Swift code.

Usage: decrypt_like_port_agent.py KEY < {"name": "<base64>", ...}
Prints {"name": "<plaintext>", ...}; exits 1 with the reason when a value does not decrypt.
"""
import base64
import json
import sys

from Crypto.Cipher import AES


def decrypt_field(encrypted_value: str, key: str) -> str:
    encrypted_data = base64.b64decode(encrypted_value)
    if len(encrypted_data) < 32:
        raise ValueError("Encrypted data is too short")
    iv = encrypted_data[:16]
    ciphertext = encrypted_data[16:-16]
    tag = encrypted_data[-16:]
    key_bytes = key.encode("utf-8")
    if len(key_bytes) < 32:
        raise ValueError("Encryption key must be at least 32 bytes")
    key_bytes = key_bytes[:32]
    cipher = AES.new(key_bytes, AES.MODE_GCM, nonce=iv)
    return cipher.decrypt_and_verify(ciphertext, tag).decode("utf-8")


key = sys.argv[1]
values = json.load(sys.stdin)
try:
    print(json.dumps({name: decrypt_field(value, key) for name, value in values.items()}))
except Exception as error:
    print(f"cannot decrypt: {type(error).__name__}: {error}")
    sys.exit(1)
