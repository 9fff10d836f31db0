"""Counter shards: campaign_counts(campaign_id, shard, n), summed with campaigns.signature_count on read

Revision ID: perf_counter_shards
Revises: quality_link_requests
"""
import sqlalchemy as sa
from alembic import op

revision = 'perf_counter_shards'
down_revision = 'quality_link_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_counts',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('shard', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_counts_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'shard', name=op.f('pk_campaign_counts')),
    )


def downgrade():
    conn = op.get_bind()
    conn.execute(sa.text(
        "UPDATE campaigns SET signature_count = signature_count + COALESCE("
        "(SELECT SUM(n) FROM campaign_counts WHERE campaign_counts.campaign_id = campaigns.id), 0)"))
    op.drop_table('campaign_counts')
