"""A stand-in for the four OPD backends, for development, demos and tests."""

from integrations.sandbox.app import (
    SANDBOX_TOKEN,
    create_sandbox_app,
    default_tokens,
    fault_switch,
    run_sandbox,
    start_sandbox,
)
from integrations.sandbox.faults import FaultConfig

__all__ = [
    "SANDBOX_TOKEN",
    "FaultConfig",
    "create_sandbox_app",
    "default_tokens",
    "fault_switch",
    "run_sandbox",
    "start_sandbox",
]
