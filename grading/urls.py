"""URLs of submitting, feedback and pictures."""

from django.urls import path

from grading.views import (
    announcements,
    boards,
    certificates,
    closing,
    participant,
    reference_gate,
    reports,
    submissions,
    tokens,
    tutoring,
)

app_name = "grading"

urlpatterns = [
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/", submissions.event_exercise, name="event_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/submit/", submissions.submit, name="submit"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/download/", submissions.download, name="download_exercise"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/mine/", submissions.my_submissions, name="my_submissions"),
    path("events/<slug:slug>/report/grading/", reports.event_report_section, name="event_report_grading"),
    path("submissions/<uuid:uid>/", submissions.submission_detail, name="submission_detail"),
    path("submissions/<uuid:uid>/status/", submissions.submission_status, name="submission_status"),
    path("submissions/<uuid:uid>/pictures/", submissions.submission_pictures, name="submission_pictures"),
    path("submissions/<uuid:uid>/sharing/", submissions.submission_sharing, name="submission_sharing"),
    path("submissions/<uuid:uid>/figures/<str:name>", submissions.submission_figure, name="submission_figure"),
]

# Tutors and participants at work (issue 8): My event, the tutor's dashboard, help requests.
urlpatterns += [
    path("events/<slug:slug>/me/", participant.my_event, name="my_event"),
    path("events/<slug:slug>/me/submissions/", participant.my_event_submissions, name="my_event_submissions"),
    path("events/<slug:slug>/me/help/", participant.my_help, name="my_help"),
    path("events/<slug:slug>/help/new/", participant.raise_help_request, name="raise_help_request"),
    path("events/<slug:slug>/help/", tutoring.event_help_requests, name="event_help_requests"),
    path("events/<slug:slug>/help/<int:pk>/", tutoring.help_request, name="help_request"),
    path("events/<slug:slug>/help/<int:pk>/thread/", tutoring.help_request_thread, name="help_request_thread"),
    path("events/<slug:slug>/help/<int:pk>/claim/", tutoring.claim_help_request, name="claim_help_request"),
    path("events/<slug:slug>/help/<int:pk>/answer/", tutoring.answer_help_request, name="answer_help_request"),
    path("events/<slug:slug>/help/<int:pk>/resolve/", tutoring.resolve_help_request, name="resolve_help_request"),
    path("events/<slug:slug>/tutor/", tutoring.tutor_dashboard, name="tutor_dashboard"),
    path("events/<slug:slug>/tutor/groups/", tutoring.tutor_dashboard_groups, name="tutor_dashboard_groups"),
    path("events/<slug:slug>/tutor/help/", tutoring.tutor_help_queue, name="tutor_help_queue"),
]

# Leaderboards and the organizer's view (issue 7).
urlpatterns += [
    path("events/<slug:slug>/boards/", boards.event_board, name="event_board"),
    path("events/<slug:slug>/boards.csv", boards.boards_csv, name="boards_csv"),
    path("events/<slug:slug>/organizer/boards/", boards.organizer_boards, name="organizer_boards"),
    path("events/<slug:slug>/organizer/boards/live/", boards.organizer_boards_live, name="organizer_boards_live"),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/board/", boards.exercise_board, name="exercise_board"),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/board/rows/",
        boards.exercise_board_rows,
        name="exercise_board_rows",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/board.json",
        boards.exercise_board_json,
        name="exercise_board_json",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/board/final/",
        boards.final_selection,
        name="final_selection",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/board/settings/",
        boards.board_settings,
        name="board_settings",
    ),
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/board/reveal/", boards.reveal_board, name="reveal_board"),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/rescore/",
        boards.rescore_exercise,
        name="rescore_exercise",
    ),
    path("submissions/<uuid:uid>/disqualify/", boards.disqualify_submission, name="disqualify_submission"),
    path("submissions/<uuid:uid>/reinstate/", boards.reinstate_submission, name="reinstate_submission"),
]

# The reference gate: an exercise proves itself before it opens (issue 20).
urlpatterns += [
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/reference-check/",
        reference_gate.ask_reference_check,
        name="ask_reference_check",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/open-despite-gate/",
        reference_gate.open_despite_gate,
        name="open_despite_gate",
    ),
]

# The personal tokens that open the REST API (issue 9); the API itself is mounted by the root URL map.
urlpatterns += [
    path("profile/tokens/", tokens.token_list, name="api_tokens"),
    path("profile/tokens/new/", tokens.token_create, name="api_token_create"),
    path("profile/tokens/<int:pk>/revoke/", tokens.token_revoke, name="api_token_revoke"),
]

# After the deadline: debriefs, released notebooks and certificates (issue 19).
urlpatterns += [
    path("events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/", closing.debrief, name="debrief"),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/release/",
        closing.release_notebook,
        name="release_notebook",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/",
        closing.released_notebook,
        name="released_notebook",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/download/",
        closing.released_notebook_download,
        name="released_notebook_download",
    ),
    path(
        "events/<slug:slug>/exercises/<slug:exercise_slug>/debrief/notebooks/<int:pk>/withdraw/",
        closing.withdraw_notebook,
        name="withdraw_notebook",
    ),
    path("events/<slug:slug>/closing/", certificates.event_closing, name="event_closing"),
    path("events/<slug:slug>/certificates/issue/", certificates.issue_certificates, name="issue_certificates"),
    path("events/<slug:slug>/certificates.zip", certificates.certificates_zip, name="certificates_zip"),
    path("events/<slug:slug>/certificates/<int:pk>/", certificates.certificate_download, name="certificate_download"),
    path(
        "events/<slug:slug>/certificates/<int:pk>/revoke/", certificates.revoke_certificate, name="revoke_certificate"
    ),
    path("events/<slug:slug>/me/certificate.pdf", certificates.my_certificate, name="my_certificate"),
    path("certificates/<str:token>/", certificates.verify_certificate, name="verify_certificate"),
]

# Talking to the room (issue 19): announcements and extensions.
urlpatterns += [
    path("events/<slug:slug>/announcements/", announcements.event_announcements, name="event_announcements"),
    path("events/<slug:slug>/announcements/new/", announcements.announcement_new, name="announcement_new"),
    path("events/<slug:slug>/extensions/", announcements.event_extensions, name="event_extensions"),
]
