"""Handler modules, one per topic; each registers its handlers with ``register(app)``."""
