"""The one place where the generator's failures are named.

A *problem* is something a contributor did wrong in the data: it is collected, never raised, so that one run
reports every mistake. An *exception* stops the current step; the CLI turns each into an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Place = tuple[str, int, int]


@dataclass(frozen=True, order=True)
class Problem:
    """One finding about the data, anchored at a place a contributor can open in an editor."""

    path: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: str = "error"
    #: Where the problem this one follows from is reported (an ID written wrongly breaks every reference to it);
    #: validation folds this one under that one, so the cause is what a contributor reads first.
    cause: Place | None = field(default=None, compare=False)
    #: How many problems were folded under this one.
    knock_ons: int = field(default=0, compare=False)
    #: Reported before the problems of every file, whatever its place: others may follow from it without it being
    #: known which (a record given another's ID leaves the references to its old ID unknown, in other files).
    first: bool = field(default=False, compare=False)

    @property
    def place(self) -> Place:
        return (self.path, self.line, self.column)

    def text(self) -> str:
        """One line, whatever the values quoted in it hold: editors' problem matchers read a line per problem."""
        hint = f" ({self.hint})" if self.hint else ""
        return one_line(f"{self.path}:{self.line}:{self.column}: {self.severity}: {self.message}{hint}{self.folded()}")

    def folded(self) -> str:
        if not self.knock_ons:
            return ""
        many = self.knock_ons != 1
        return f" … and {self.knock_ons} more error{'s' * many} that follow{'' if many else 's'} from it"


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


#: Characters of a value a message quotes: enough to recognise it, however long the value is.
SHOWN_CHARACTERS = 60


def clip(text: str) -> str:
    """`text`, or its start and its length when it is too long to quote in a one-line message."""
    if len(text) <= SHOWN_CHARACTERS:
        return text
    return f"{text[: SHOWN_CHARACTERS - 20]}… ({len(text):,} characters)"


class PlaybookError(Exception):
    """Base of every error the generator raises on purpose."""


class DataError(PlaybookError):
    """The data is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem], subject: str = "data") -> None:
        self.problems = problems
        #: What the problems are in, for the report's summary line: "data", "templates", "content".
        self.subject = subject
        super().__init__(f"{len(problems)} problem(s) in the {subject}")

    def __reduce__(self):  # crosses from a rendering process intact, not rebuilt from its message
        return (type(self), (self.problems, self.subject))


class YamlLoadError(PlaybookError):
    """A YAML file cannot be turned into plain data; carries the one problem that stopped it."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.text())


class UsageError(PlaybookError):
    """The command was called wrongly (a missing folder, a bad option)."""
