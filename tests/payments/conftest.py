from tests.stack import (  # noqa: F401 - fixtures
    everything,
    localstripe_url,
    mail,
    payments_config,
    stack,
    stripe_client,
    webhook,
)
