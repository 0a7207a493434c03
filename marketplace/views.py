"""HTML pages of the marketplace app, as thin as the APIs."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.views.generic import DetailView

from marketplace.access import get_acting_organization
from marketplace.selectors import organization_visible_list


class OrganizationDetailView(LoginRequiredMixin, DetailView):
    template_name = "marketplace/organization_detail.html"
    context_object_name = "organization"

    def get_queryset(self):
        return organization_visible_list(
            viewer=get_acting_organization(self.request, required=False), is_operator=self.request.user.is_staff
        )
