"""Audit: the tamper-evident decision log and what auditors verify with it."""
