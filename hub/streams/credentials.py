"""The broker security settings (config: broker.security) in the shapes the asyncio
clients take: faust's credentials for the worker, keyword arguments for the plain
aiokafka clients (the notary's reader, the SDK's AsyncPublisher). kafka-python takes
``BrokerSettings.client_kwargs`` directly; aiokafka wants an SSL context instead of file
names, which is the whole difference."""

from __future__ import annotations

import ssl
from typing import Any

from hub.config import SecuritySettings


def ssl_context(s: SecuritySettings) -> ssl.SSLContext | None:
    if "SSL" not in s.protocol:
        return None
    context = ssl.create_default_context(cafile=str(s.ssl_cafile) if s.ssl_cafile else None)
    if s.ssl_certfile is not None:  # mTLS: the client's own certificate
        context.load_cert_chain(str(s.ssl_certfile), str(s.ssl_keyfile) if s.ssl_keyfile else None)
    return context


def faust_credentials(s: SecuritySettings) -> Any | None:
    """faust.App(broker_credentials=...), or None for PLAINTEXT."""
    import faust

    if s.protocol == "PLAINTEXT":
        return None
    context = ssl_context(s)
    if s.protocol == "SSL":
        return faust.SSLCredentials(context)
    assert s.sasl_password is not None  # SecuritySettings requires it for SASL
    return faust.SASLCredentials(
        username=s.sasl_username,
        password=s.sasl_password.get_secret_value(),
        mechanism=s.sasl_mechanism,
        ssl_context=context,
    )


def aiokafka_kwargs(s: SecuritySettings, client_id: str) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"security_protocol": s.protocol, "client_id": client_id}
    if s.sasl_mechanism:
        kwargs["sasl_mechanism"] = s.sasl_mechanism
        kwargs["sasl_plain_username"] = s.sasl_username
        kwargs["sasl_plain_password"] = (
            s.sasl_password.get_secret_value() if s.sasl_password else None
        )
    context = ssl_context(s)
    if context is not None:
        kwargs["ssl_context"] = context
    return kwargs
