"""History keeps no version that was valid for no time: a row changed or deleted by the transaction that made
it (valid from now() to now()) leaves nothing in <table>_history (see ``spatial/sql/history.sql``).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from alembic import op

from spatial.sql import read_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(read_sql("history.sql"))


def downgrade() -> None:
    # The trigger function of 0016 wrote the empty versions too; leaving them out changes no "as of" answer
    # (an empty period contains no instant), so the function stays as it is.
    pass
