"""A failed set-up, told where the run is visible: the command, the tail of its log, what the
registry proxy refused, and how to configure the environment explicitly."""

from __future__ import annotations

from collections.abc import Sequence

TAIL_LINES = 40
HINT = (
    "To set the environment up explicitly, add to `.repocrew.toml`:\n\n"
    '```toml\n[environment]\nsetup = ["python -m venv .venv", '
    '".venv/bin/pip install -e \'.[test]\'"]\n# python = "3.12"\n\n'
    '[tests]\ncommand = "python -m pytest"\n```'
)


class SetupFailed(RuntimeError):
    """The set-up of a repository's environment did not finish."""

    def __init__(
        self,
        command: str,
        exit_code: int | None,
        output: str,
        refused: Sequence[str],
        reason: str = "",
    ) -> None:
        self.command = command
        self.exit_code = exit_code
        self.output = output
        self.refused = tuple(refused)
        self.reason = reason or (
            f"`{command}` exited with {exit_code}" if command else "the set-up failed"
        )
        super().__init__(f"the environment's set-up failed: {self.reason}")

    def tail(self) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-TAIL_LINES:])

    def report(self) -> str:
        """Markdown for a comment, a check run or (shortened) a Slack post."""
        parts = [f"**The environment could not be set up**: {self.reason}."]
        if self.refused:
            named = ", ".join(f"`{where}`" for where in self.refused)
            parts.append(
                f"Refused by the registry allowlist: {named} (set-up may reach package "
                "registries only; the operator sets REPOCREW_REGISTRY_ALLOWLIST)."
            )
        if self.output.strip():
            parts.append(f"The end of its log:\n\n```\n{self.tail()}\n```")
        parts.append(HINT)
        return "\n\n".join(parts)


def failed_command(output: str, commands: Sequence[str]) -> str:
    """The set-up command whose `$ command` line came last in the log (the one that failed)."""
    marks = [line[2:] for line in output.splitlines() if line.startswith("$ ")]
    for mark in reversed(marks):
        if mark in commands:
            return mark
    return commands[0] if commands else ""
