from django.contrib import admin

from config.events.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "organization", "object_type", "object_id", "created_at"]
    list_filter = ["type", "object_type"]
    search_fields = ["key"]
    readonly_fields = [f.name for f in Event._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
