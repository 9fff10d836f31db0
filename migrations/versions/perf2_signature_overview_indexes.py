"""Signature indexes for the admin overview: (campaign_id, country) and (campaign_id, created_at, confirmed_at)

Both cover the overview's aggregate queries, so a million signatures are counted from the index alone.
Only indexes are added: no table is rebuilt.

Revision ID: perf2_signature_overview_indexes
Revises: perf_counter_shards
"""
from alembic import op

revision = 'perf2_signature_overview_indexes'
down_revision = 'perf_counter_shards'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_signatures_campaign_country', 'signatures', ['campaign_id', 'country'])
    op.create_index('ix_signatures_campaign_created', 'signatures', ['campaign_id', 'created_at', 'confirmed_at'])


def downgrade():
    op.drop_index('ix_signatures_campaign_created', table_name='signatures')
    op.drop_index('ix_signatures_campaign_country', table_name='signatures')
