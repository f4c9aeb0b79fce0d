"""The event domain's pages: events, registration, staff, groups, reports (the root URL map includes them)."""

from django.urls import path

from hackathon import announcement_views, views

app_name = "hackathon"

urlpatterns = [
    path("", views.home, name="home"),
    # Browsers ask for /favicon.ico on pages that name no icon (the admin's); send them to the site's.
    path("favicon.ico", views.favicon),
    path("events/new/", views.event_create, name="event_create"),
    path("editions/", views.editions, name="editions"),
    path("events/<slug:slug>/", views.event_detail, name="event_detail"),
    path("events/<slug:slug>/edit/", views.event_edit, name="event_edit"),
    path("events/<slug:slug>/register/", views.register, name="register"),
    path("events/<slug:slug>/registration/cancel/", views.cancel_registration, name="cancel_registration"),
    path("events/<slug:slug>/registration/accept/", views.accept_offer, name="accept_offer"),
    path("events/<slug:slug>/registrations/", views.registrations, name="registrations"),
    path("events/<slug:slug>/registrations/<int:pk>/decide/", views.decide_registration, name="decide_registration"),
    path("events/<slug:slug>/registrations.csv", views.export_registrations, name="export_registrations"),
    path("events/<slug:slug>/registrations/import/", views.import_registrations, name="import_registrations"),
    path("events/<slug:slug>/tutoring/", views.tutoring, name="tutoring"),
    path("events/<slug:slug>/groups/", views.groups, name="groups"),
    path("events/<slug:slug>/groups/assign/", views.assign_groups, name="assign_groups"),
    path("events/<slug:slug>/groups/<int:number>/", views.group_detail, name="group_detail"),
    path("events/<slug:slug>/my-group/", views.my_groups, name="my_groups"),
    path("events/<slug:slug>/staff/", views.staff, name="staff"),
    path("events/<slug:slug>/staff/<int:pk>/revoke/", views.revoke_role, name="revoke_role"),
    path(
        "events/<slug:slug>/staff/invitations/<int:pk>/withdraw/",
        views.withdraw_invitation,
        name="withdraw_invitation",
    ),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("events/<slug:slug>/feedback/", views.feedback, name="feedback"),
    path("events/<slug:slug>/report/", views.report, name="report"),
    path("events/<slug:slug>/report.csv", views.report_csv, name="report_csv"),
    path("announcements/", announcement_views.my_announcements, name="my_announcements"),
    path("announcements/banner/", announcement_views.announcement_banner, name="announcement_banner"),
    path("announcements/read/", announcement_views.mark_announcements_read, name="mark_announcements_read"),
    path("profile/preferences/", announcement_views.preferences, name="preferences"),
]
