"""Django admin for events, their programme, roles, registrations, groups, feedback and announcements (site staff)."""

from django.contrib import admin

from hackathon.models import (
    Announcement,
    Event,
    EventRole,
    Extension,
    Feedback,
    Group,
    Registration,
    Session,
    TutorProfile,
)


class EventRoleInline(admin.TabularInline):
    model = EventRole
    extra = 0
    autocomplete_fields = ["user"]


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "mode", "starts_on", "capacity", "published"]
    list_filter = ["level", "mode", "published"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [EventRoleInline, SessionInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "status", "affiliation", "career_stage", "created_at"]
    list_filter = ["event", "status", "affiliation", "career_stage"]
    search_fields = ["user__email"]
    raw_id_fields = ["group"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["number", "event", "event_exercise"]
    list_filter = ["event"]
    filter_horizontal = ["tutors"]


@admin.register(TutorProfile)
class TutorProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "max_groups"]
    list_filter = ["event"]
    filter_horizontal = ["expertise"]


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["event", "user", "rating", "created_at"]
    list_filter = ["event", "rating"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    """Read-only: an announcement's audience was resolved and recorded when it was sent."""

    list_display = ["title", "event", "audience_text", "sent_at"]
    list_filter = ["event"]
    readonly_fields = ["event", "author", "title", "body", "audience", "audience_text", "sent_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Extension)
class ExtensionAdmin(admin.ModelAdmin):
    list_display = ["user", "event_exercise", "until", "granted_by", "granted_at"]
    list_filter = ["event_exercise__event"]
    raw_id_fields = ["user", "group", "granted_by"]
