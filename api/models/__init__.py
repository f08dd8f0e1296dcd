"""Table models and API schemas, one module per resource.

Importing this package registers every table on `metadata` (Alembic and tests rely on it).
The naming convention in `base` is set before any table module is imported.
"""

from api.models import (  # noqa: F401
    activity,
    applications,
    auth,
    base,
    brands,
    briefs,
    budgets,
    conversations,
    creators,
    deals,
    deliverables,
    events,
    idempotency,
    matching,
    memberships,
    shipments,
    usage_rights,
    users,
    webhooks,
)
from api.models.base import metadata

__all__ = ["metadata"]
