"""LEAD Hub: the event-sourced interagency data-sharing hub for LEAD programs."""

__version__ = "0.1.0"
