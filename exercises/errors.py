"""The errors a person should see, as sentences that say what to do next."""


class UserFacingError(Exception):
    """An error whose message is meant for a person: say what went wrong and what to do next.

    The project's one base for such errors; other apps subclass it. Views show the message;
    anything that is not a UserFacingError is logged and shown as a generic failure.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidManifest(UserFacingError):
    """An exercise manifest breaks the schema; the message names the bad field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidPredictions(UserFacingError):
    """A participant's output files cannot be scored."""


class InvalidBundle(UserFacingError):
    """An exercise bundle is incomplete or its data (such as a hidden set) cannot be used."""


class DatasetNotReady(UserFacingError):
    """An uploaded exercise's data is not built yet: only a worker builds it, in the sandbox."""


class ScoringFailed(Exception):
    """The platform itself could not score an output (a sandboxed scoring step did not start or run).

    Not a UserFacingError: it is never the participant's fault, and grading retries it as an infrastructure
    failure, where anything a participant's file causes is InvalidPredictions.
    """
