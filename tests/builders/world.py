"""The security tests' world: two events, their groups and people, one object of every kind, and its URL paths."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from grading.api_auth import create_token
from grading.models import HelpRequest, Submission
from grading.tutoring import services as help_requests
from hackathon.models import Event, EventExercise, Group, Registration, StaffInvitation
from tests.builders.events import make_event, make_groups, open_exercise
from tests.builders.exercises import breast_cancer_exercise
from tests.builders.people import join, make_organizer, make_tutor, make_user
from tests.builders.submissions import scored_submission

# The eight people of the matrix, in the order its rows list outcomes.
ROLES = (
    "anonymous",
    "participant_a",
    "participant_b",
    "tutor_x",
    "tutor_y",
    "organizer_b",
    "organizer_a",
    "staff",
)
FIGURE = "roc-curve.png"


@dataclass(frozen=True)
class World:
    """Event A (groups X and Y, each with a tutor) and event B, each with the breast-cancer exercise open.

    participant_a is in group X and owns the submission, the help request and the API token the URLs name;
    organizer_b organizes only event B; staff is site staff with no role in either event.
    """

    event_a: Event
    event_b: Event
    exercise_a: EventExercise
    exercise_b: EventExercise
    group_x: Group
    group_y: Group
    people: dict[str, AbstractBaseUser | None]
    submission_a: Submission
    submission_b: Submission
    help_request_a: HelpRequest
    help_request_b: HelpRequest
    pending_registration_a: Registration
    registration_b: Registration
    token_pk: int

    def kwargs_for(self, route: str) -> dict[str, str]:
        """Return values for a route's URL arguments, each naming an object of event A (or one that cannot exist)."""
        values: dict[str, str] = {
            "slug": self.event_a.slug,
            "exercise_slug": self.exercise_a.exercise.slug,
            "number": str(self.group_x.number),
            "uid": str(self.submission_a.uid),
            "name": FIGURE,
            "rest": "no/such/endpoint/",
            "key": "not-a-real-key",
            "uidb36": "1",
            "provider_id": "infn-aai",
            "app_label": "hackathon",
            "object_id": "1",
            "id": "1",
            "content_type_id": "1",
            "url": "nowhere/",
            "token": self.event_a.staff_invitations.get().token,
        }
        if "registrations/" in route:
            values["pk"] = str(self.pending_registration_a.pk)
        elif "/help/" in route:
            values["pk"] = str(self.help_request_a.pk)
        elif "tokens/" in route:
            values["pk"] = str(self.token_pk)
        elif "staff/invitations/" in route:
            values["pk"] = str(self.event_a.staff_invitations.get().pk)
        elif "staff/" in route:
            values["pk"] = str(self.event_a.roles.get(user=self.people["tutor_x"]).pk)
        else:
            values["pk"] = "1"
        if route.startswith("exercises/") or route.startswith("api/v1/exercises/"):
            values["slug"] = self.exercise_a.exercise.slug
        return values


def path_of(route: str, kwargs: dict[str, str]) -> str:
    """Turn a full route (path converters or regular expressions, as the resolver prints them) into a URL path."""
    path = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", lambda m: kwargs[m.group(1)], route)
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: kwargs[m.group(1)], path)
    return "/" + path.replace("^", "").replace("$", "").replace("\\", "")


def _submission(event_exercise: EventExercise, participant: Any) -> Submission:
    return scored_submission(
        event_exercise,
        participant,
        score=0.81,
        private_score=0.79,
        notebook=f"submissions/{event_exercise.event_id}/test.ipynb",
        figures={"images": [{"file": FIGURE, "title": "ROC curve"}]},
        queued_at=timezone.now() - dt.timedelta(minutes=3),
        duration_s=None,
    )


def build_world() -> World:
    """Create the world; the events start today so feedback forms and boards are open."""
    today = timezone.localdate()
    event_a = make_event(starts_on=today, ends_on=today + dt.timedelta(days=2))
    event_b = make_event(starts_on=today, ends_on=today + dt.timedelta(days=2))
    exercise_a = open_exercise(event_a, breast_cancer_exercise())
    exercise_b = open_exercise(event_b, breast_cancer_exercise())
    tutor_x, tutor_y = make_tutor(event_a), make_tutor(event_a)
    group_x, group_y = make_groups(exercise_a, tutor_x, tutor_y)
    participant_a = join(event_a, group_x)
    join(event_a, group_y)
    participant_b = join(event_b, None)
    pending = Registration.objects.create(event=event_a, user=make_user(), status=Registration.Status.PENDING)
    StaffInvitation.objects.create(event=event_a, email="invited-tutor@example.org", role="tutor")
    people: dict[str, AbstractBaseUser | None] = {
        "anonymous": None,
        "participant_a": participant_a,
        "participant_b": participant_b,
        "tutor_x": tutor_x,
        "tutor_y": tutor_y,
        "organizer_b": make_organizer(event_b),
        "organizer_a": make_organizer(event_a),
        "staff": make_user(staff=True),
    }
    return World(
        event_a=event_a,
        event_b=event_b,
        exercise_a=exercise_a,
        exercise_b=exercise_b,
        group_x=group_x,
        group_y=group_y,
        people=people,
        submission_a=_submission(exercise_a, participant_a),
        submission_b=_submission(exercise_b, participant_b),
        help_request_a=help_requests.raise_help_request(
            participant=participant_a, event=event_a, message="My notebook cannot find data/test.csv, why?"
        ),
        help_request_b=help_requests.raise_help_request(
            participant=participant_b, event=event_b, message="How do I choose a threshold for the scores?"
        ),
        pending_registration_a=pending,
        registration_b=Registration.objects.get(event=event_b, user=participant_b),
        token_pk=create_token(user=participant_a, name="laptop").token.pk,
    )
