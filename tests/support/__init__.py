"""What the tests, the benchmark and the fault harness share, and the product never installs.

``infra`` makes a private RabbitMQ vhost and databases, a cuttable TCP proxy and the platform
(in one process or as processes); ``prepare`` readies the machine before ``make test``; the
other modules are helpers several test modules use. Only this package is imported across test
modules (tests/unit/test_test_support_layout.py keeps it so): pyproject.toml packages
``services*`` alone, and the image's .dockerignore leaves tests/ and bench/ out.
"""
