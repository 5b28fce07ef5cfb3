"""Consumers of the hub's topics: inspection (tail), the prosecutor's inbox, auditors."""
