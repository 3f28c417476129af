"""The gateway's routes, one module per domain: a mixin of handlers and the ``ROUTES`` documenting them."""
