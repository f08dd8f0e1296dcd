"""Users: stored emails in their normal form (NFKC, email-validator, lower case).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-07 11:40:00.000000

Registration now stores `api.models.users.normalize_email(address)`, so look-alike
spellings of one address (fullwidth letters, combining accents, IDNA domains) meet the
one unique key on `users.email`. This brings the rows stored before into that form. The
schema does not change. A row is left as it was when its address cannot be normalised
(it was accepted by the older, looser check; sign-in still finds it lower-cased) or when
its normal form is already taken by another account (the older account keeps it; the
other needs an admin to look at it). The normalisation is frozen here, not imported, so
this revision does the same whatever the application's rule becomes.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

revision: str = "0013"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"}


def _normal_form(value: str) -> str | None:
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in value):
        return None
    try:
        valid = validate_email(
            unicodedata.normalize("NFKC", value.strip()), check_deliverability=False
        )
    except EmailNotValidError:
        return None
    return unicodedata.normalize("NFKC", valid.normalized.lower())


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, email FROM users ORDER BY created_at, id")).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        normal = _normal_form(email)
        if normal is None or normal == email or normal in taken:
            continue
        conn.execute(
            sa.text("UPDATE users SET email = :email WHERE id = :id"),
            {"email": normal, "id": user_id},
        )
        taken.discard(email)
        taken.add(normal)


def downgrade() -> None:
    # The spellings the rows had before are not kept; the normal forms stay valid.
    pass
