"""The errors of exercises (manifests, bundles, participants' outputs), as sentences that say what to do next."""

from sandbox.errors import UserFacingError


class ExercisesError(UserFacingError):
    """The base of the exercise errors a person should see: a manifest, a bundle or an output that cannot be used."""


class InvalidManifest(ExercisesError):
    """An exercise manifest breaks the schema; the message names the bad field."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidPredictions(ExercisesError):
    """A participant's output files cannot be scored."""


class InvalidBundle(ExercisesError):
    """An exercise bundle is incomplete or its data (such as a hidden set) cannot be used."""


class DatasetNotReady(ExercisesError):
    """An uploaded exercise's data is not built yet: only a worker builds it, in the sandbox."""


class ScoringFailed(Exception):
    """The platform itself could not score an output (a sandboxed scoring step did not start or run).

    Not a UserFacingError: it is never the participant's fault, and grading retries it as an infrastructure
    failure, where anything a participant's file causes is InvalidPredictions.
    """
