"""Site settings edited in the admin: one row per setting and language

Only a new table is added: no existing table is rebuilt.

Revision ID: i14site_site_settings
Revises: r13tr_campaign_translations
"""
import sqlalchemy as sa
from alembic import op

revision = 'i14site_site_settings'
down_revision = 'r13tr_campaign_translations'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'site_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_site_settings')),
        sa.UniqueConstraint('key', 'language', name='uq_site_settings_key_language'),
    )


def downgrade():
    op.drop_table('site_settings')
