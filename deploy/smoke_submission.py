"""Submit one notebook through the site's own service and wait for the worker's score (the smoke run's last step).

Run inside the platform's image: `entrypoint.sh manage shell < deploy/smoke_submission.py`. It makes an event with
one confirmed participant and the breast-cancer exercise open, submits a notebook that scores every test row by
its mean radius, waits until a worker has scored it, and exits non-zero when it is not scored in time.
"""

import datetime as dt
import sys
import time

import nbformat
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from exercises.models import Exercise
from grading.models import Submission
from grading.services import submit_notebook
from hackathon import services as events
from hackathon.models import Event

SOURCE = """
import csv
with open("data/test.csv") as f:
    rows = list(csv.DictReader(f))
with open("output/predictions.csv", "w") as f:
    f.write("id,score\\n" + "".join(f"{r['id']},{float(r['mean_radius'])}\\n" for r in rows))
"""

now = timezone.now()
label = now.strftime("%H%M%S")
users = get_user_model().objects
organizer = users.create_user(username=f"smoke-organizer-{label}", email=f"smoke-org-{label}@example.org")
event = events.create_event(
    organizer=organizer,
    title=f"Smoke run {label}",
    slug=f"smoke-{label}",
    level=Event.Level.BASE,
    mode=Event.Mode.ONLINE,
    starts_on=timezone.localdate(),
    ends_on=timezone.localdate() + dt.timedelta(days=1),
    registration_opens_at=now - dt.timedelta(days=1),
    registration_closes_at=now + dt.timedelta(days=1),
    capacity=5,
    participants_per_tutor=5,
    compute=Event.Compute.CPU,
)
events.set_event_exercises(
    event=event,
    exercises=[Exercise.objects.get(slug="breast-cancer")],
    opens_at=now - dt.timedelta(hours=1),
    closes_at=now + dt.timedelta(days=1),
)
participant = users.create_user(username=f"smoke-participant-{label}", email=f"smoke-p-{label}@example.org")
details = events.RegistrationDetails(
    affiliation="other", affiliation_other="Smoke", career_stage="student", ml_experience="basic"
)
events.register(event=event, user=participant, details=details)
notebook = nbformat.v4.new_notebook()
notebook.cells = [nbformat.v4.new_code_cell(SOURCE)]
with transaction.atomic():
    submission = submit_notebook(
        participant=participant, event_exercise=event.event_exercises.get(), raw=nbformat.writes(notebook).encode()
    )
started = time.monotonic()
while time.monotonic() - started < 600:
    submission.refresh_from_db()
    if submission.status not in (Submission.Status.QUEUED, Submission.Status.RUNNING):
        break
    time.sleep(2)
print(f"smoke submission {submission.pk}: {submission.status} after {time.monotonic() - started:.0f} s")
print(f"message: {submission.message}")
sys.exit(0 if submission.status == Submission.Status.SCORED else 1)
