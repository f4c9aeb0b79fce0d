"""The refusals of the event domain (registration, groups, exercises of an event, staffing), said as sentences."""

from __future__ import annotations

from sandbox.errors import UserFacingError


class EventsError(UserFacingError):
    """The base of the event domain's refusals: what an event's rules do not allow; nothing was changed."""


class RegistrationRefused(EventsError):
    """A registration, cancellation or offer answer that the event's rules do not allow."""


class ImportRefused(EventsError):
    """A registrants' CSV that cannot be imported; nothing was changed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("The CSV was not imported and nothing changed: " + " ".join(problems))
        self.problems = problems


class GroupChangeRefused(EventsError):
    """A manual group move that does not fit the event."""


class ExerciseChangeRefused(EventsError):
    """A change to an event's exercises that would silently lose participants' work or groups."""


class StaffingRefused(EventsError):
    """An invitation, acceptance or revocation that the event's rules do not allow; nothing changed."""


class AnnouncementRefused(EventsError):
    """An announcement that cannot be sent as written or to that audience; nothing was sent."""
