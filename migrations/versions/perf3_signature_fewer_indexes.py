"""Signatures: drop the indexes of campaign_id alone and of country alone

Every read of signatures is per campaign and is served by the indexes led by campaign_id (the unique key on
campaign and keyed hash, the two overview indexes); each signature no longer writes two more B-trees.
Only indexes are dropped: no table is rebuilt.

Revision ID: perf3_signature_fewer_indexes
Revises: i15mail_mailings
"""
from alembic import op

revision = 'perf3_signature_fewer_indexes'
down_revision = 'i15mail_mailings'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_signatures_country', table_name='signatures')
    op.drop_index('ix_signatures_campaign_id', table_name='signatures')


def downgrade():
    op.create_index('ix_signatures_campaign_id', 'signatures', ['campaign_id'])
    op.create_index('ix_signatures_country', 'signatures', ['country'])
