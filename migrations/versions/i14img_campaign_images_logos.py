"""Campaign pictures and organisation logos: two new tables naming re-encoded image files

Only tables are added: no existing table is rebuilt.

Revision ID: i14img_campaign_images_logos
Revises: i14site_site_settings
"""
import sqlalchemy as sa
from alembic import op

revision = 'i14img_campaign_images_logos'
down_revision = 'i14site_site_settings'
branch_labels = None
depends_on = None


def _image_columns():
    return [
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('widths', sa.String(length=60), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade():
    op.create_table(
        'campaign_images',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('alt', sa.String(length=300), nullable=False),
        *_image_columns(),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_images_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_campaign_images')),
    )
    op.create_index(op.f('ix_campaign_images_name'), 'campaign_images', ['name'])
    op.create_table(
        'organisation_logos',
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        *_image_columns(),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_organisation_logos_organisation_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organisation_id', name=op.f('pk_organisation_logos')),
    )
    op.create_index(op.f('ix_organisation_logos_name'), 'organisation_logos', ['name'])


def downgrade():
    op.drop_index(op.f('ix_organisation_logos_name'), table_name='organisation_logos')
    op.drop_table('organisation_logos')
    op.drop_index(op.f('ix_campaign_images_name'), table_name='campaign_images')
    op.drop_table('campaign_images')
