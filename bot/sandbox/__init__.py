"""Run a repository's tests (untrusted code) under bubblewrap and rlimits, and read the results."""

from bot.sandbox.limits import SandboxLimits, SandboxResult
from bot.sandbox.network import RegistryAccess
from bot.sandbox.runner import run_sandboxed
from bot.sandbox.status import SandboxStatus, SandboxUnavailable, sandbox_status
from bot.sandbox.test_report import TestFailure, TestReport, parse_test_output

__all__ = [
    "RegistryAccess",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "SandboxUnavailable",
    "TestFailure",
    "TestReport",
    "parse_test_output",
    "run_sandboxed",
    "sandbox_status",
]
