"""Signing (Ed25519) and field encryption: pure functions over bytes and keys."""
