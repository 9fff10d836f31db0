"""Partner origins allowed to frame a campaign's embeddable page

A new table only: no existing table is rebuilt.

Revision ID: i15api_embed_origins
Revises: i14img_campaign_images_logos
"""
import sqlalchemy as sa
from alembic import op

revision = 'i15api_embed_origins'
down_revision = 'i14img_campaign_images_logos'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'embed_origins',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('origin', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_embed_origins_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', 'origin', name=op.f('pk_embed_origins')),
    )


def downgrade():
    op.drop_table('embed_origins')
