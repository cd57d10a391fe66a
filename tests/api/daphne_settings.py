"""Settings for the daphne processes of tests/api/test_daphne_stack.py: the product's own
(config.settings.local, configured by the environment like production) with the test suite's
fast password hasher, so users created by the test process can sign in."""

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
