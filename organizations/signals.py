"""Events later apps react to (apps depend one way: organizations knows nothing of them)."""

from django.dispatch import Signal

# Sent inside the verifying transaction with `organization`; the marketplace refreshes the
# copied vendor flag on its listings so they become searchable at once.
organization_verified = Signal()
