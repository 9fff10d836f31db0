"""starter link requests: /start/link stores the address's keyed hash; the worker looks it up

Revision ID: quality_link_requests
Revises: mail_outbox_payload
Create Date: 2026-11-27 19:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'quality_link_requests'
down_revision = 'mail_outbox_payload'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('starter_link_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_starter_link_requests'))
    )


def downgrade():
    op.drop_table('starter_link_requests')
