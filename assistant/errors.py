"""Mistakes a person can fix, and the exit codes the command line reports them with.

Code anywhere below the CLI (settings, the store steps, the demo setup) raises
:class:`UserError` for an ordinary mistake (a missing file, a bad environment value, no
index yet); ``shop-assistant`` turns it into one line on stderr, saying what is wrong and
what to do, and its exit code, instead of a traceback.  Anything else is a bug and keeps
its traceback (behind ``--debug``).
"""

from __future__ import annotations

EXIT_FAILURE = 1  # the command was well formed but could not be done (missing file, no index, store unreachable)
EXIT_USAGE = 2  # the command line or the environment is malformed (as argparse reports its own errors)
EXIT_STORE_NOT_SYNCED = 3  # the catalog change is done, the store's product mirror could not be updated
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class UserError(Exception):
    """An ordinary mistake: ``problem`` says what is wrong, ``fix`` what to do about it."""

    exit_code = EXIT_FAILURE

    def __init__(self, problem: str, fix: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.problem}; {self.fix}" if self.fix else self.problem


class UsageError(UserError):
    """The command line or an environment value is malformed: exit code 2, as argparse's own errors."""

    exit_code = EXIT_USAGE
