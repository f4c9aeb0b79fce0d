"""Django admin for events, roles and registrations (site staff only)."""

from django.contrib import admin

from hackathon.models import Event, EventRole, Registration


class EventRoleInline(admin.TabularInline):
    model = EventRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "level", "mode", "starts_on", "capacity", "published"]
    list_filter = ["level", "mode", "published"]
    search_fields = ["title", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [EventRoleInline]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = ["user", "event", "status", "created_at"]
    list_filter = ["event", "status"]
    search_fields = ["user__email"]
