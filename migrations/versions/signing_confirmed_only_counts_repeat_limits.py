"""count only confirmed signatures by default (existing campaigns too); limits on mails to repeat signers

Revision ID: signing_confirmed_only
Revises: accounts_7f3a9c1d
Create Date: 2026-11-27 18:40:00

Existing campaigns switch to confirmed-only counting and their stored counts are recomputed from the rows:
a count that moves when an unconfirmed signature is made tells anyone whether an address has signed.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'signing_confirmed_only'
down_revision = 'accounts_7f3a9c1d'
branch_labels = None
depends_on = None


def upgrade():
    # New campaigns get the safe default from the model. The column's server default is left alone: on SQLite,
    # changing it recreates the table, and with foreign keys on, dropping the old table deletes every signature.
    op.execute(
        "UPDATE campaigns SET count_confirmed_only = true, signature_count = ("
        "SELECT count(*) FROM signatures WHERE signatures.campaign_id = campaigns.id "
        "AND signatures.confirmed_at IS NOT NULL) WHERE count_confirmed_only = false"
    )
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('repeat_mails', sa.SmallInteger(), nullable=False, server_default='0'))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('repeat_mails')
        batch_op.drop_column('repeat_day')
