"""Errors a user can act on. Each renders as one line; the CLI prints it without a traceback."""


class HubError(Exception):
    """Base of every error the hub reports to a person rather than to a developer."""


class ConfigError(HubError):
    """The configuration file or environment does not describe a usable hub."""


class DeploymentError(HubError):
    """deploy/ (agencies, keys, topics) is missing, malformed or inconsistent."""


class BrokerError(HubError):
    """The embedded broker could not be started, reached or stopped."""
