from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "marketplace"

    def ready(self):
        from organizations.signals import organization_verified

        # Services enqueue tasks by name (the outbox); registering them here lets any process,
        # not only a worker, run them eagerly or look them up.
        from marketplace import tasks  # noqa: F401

        organization_verified.connect(_vendor_verified, dispatch_uid="marketplace.vendor_verified")


def _vendor_verified(sender, organization, **kwargs):
    # Listings copy their vendor's verified flag for search; refresh it so they show at once.
    organization.listings.refresh_search_columns()
