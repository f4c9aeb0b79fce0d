"""The one base of the errors a person should see; plain Python on the ground floor, so that every app may import it."""


class UserFacingError(Exception):
    """An error whose message is meant for a person: say what went wrong and what to do next.

    The project's one base for such errors; each app subclasses it with its own base (exercises.errors,
    hackathon.errors, grading.errors). Views show the message; anything that is not a UserFacingError is logged
    and shown as a generic failure.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
