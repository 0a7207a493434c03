"""Operators' admin for organisations and people. Verification goes through the service, so the
marketplace hears of it (its listings become searchable) exactly as through the API."""

from django.contrib import admin, messages

from organizations.models import Invitation, Membership, Organization
from organizations.services import organization_verify


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kinds_display", "verified", "location", "default_currency", "created_at"]
    list_filter = ["verified", "is_buyer", "is_supplier", "is_trader", "is_solution_house", "is_factory", "default_currency"]
    search_fields = ["name", "slug", "location"]
    readonly_fields = ["verified", "verified_at", "created_at"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    actions = ["verify_selected"]

    @admin.display(description="Kinds")
    def kinds_display(self, obj: Organization) -> str:
        return ", ".join(obj.kinds)

    @admin.action(description="Verify selected suppliers (their listings and kits become visible)")
    def verify_selected(self, request, queryset):
        count = 0
        for org in queryset.filter(verified=False):
            organization_verify(organization=org)
            count += 1
        self.message_user(request, f"Verified {count} organisation(s).", messages.SUCCESS)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organization", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name"]
    readonly_fields = ["token", "status", "invited_by", "accepted_by", "requested_by", "requested_at", "emailed_at",
                       "created_at", "decided_at"]
    autocomplete_fields = ["organization"]
