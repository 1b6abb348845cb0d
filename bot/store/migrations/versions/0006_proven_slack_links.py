"""proven slack links: the GitHub user id behind each link; claimed links are dropped

Until now `/crew link <login>` stored whatever login was typed. Those links were claims, not
proofs, so the upgrade deletes them all: every person links again with `/crew link`, which
now proves the account with GitHub's device flow and records its id. The downgrade keeps the
proven links' logins.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM slack_link")
    with op.batch_alter_table("slack_link") as batch:
        batch.add_column(sa.Column("github_user_id", sa.BigInteger(), nullable=False))
        batch.create_unique_constraint("uq_slack_link_github_user", ["team_id", "github_user_id"])


def downgrade() -> None:
    with op.batch_alter_table("slack_link") as batch:
        batch.drop_constraint("uq_slack_link_github_user", type_="unique")
        batch.drop_column("github_user_id")
