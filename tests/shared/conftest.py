"""Fixtures for the tests that restart the local RabbitMQ node."""

import subprocess

import pytest


def rabbitmqctl(*args):
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)


@pytest.fixture
def broker_down():
    """Stop RabbitMQ for the duration of a block; always start it again."""
    stopped = []

    class Control:
        def stop(self):
            rabbitmqctl("stop_app")
            stopped.append(True)

        def start(self):
            rabbitmqctl("start_app")
            rabbitmqctl("await_startup")
            stopped.clear()

    yield Control()
    if stopped:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")
