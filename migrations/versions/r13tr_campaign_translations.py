"""Campaign versions in other languages: campaign_translations and campaign_update_translations

Only new tables: nothing existing is rebuilt.

Revision ID: r13tr_campaign_translations
Revises: perf2_signature_overview_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = 'r13tr_campaign_translations'
down_revision = 'perf2_signature_overview_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'campaign_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('lead', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('quote', sa.Text(), nullable=False),
        sa.Column('quote_attribution', sa.String(length=300), nullable=False),
        sa.Column('petition_heading', sa.String(length=300), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('petition_text', sa.Text(), nullable=False),
        sa.Column('demands', sa.Text(), nullable=False),
        sa.Column('petition_closing', sa.Text(), nullable=False),
        sa.Column('delivery_note', sa.Text(), nullable=False),
        sa.Column('source_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('is_demo', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_campaign_translations_campaign_id_campaigns'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_translations')),
        sa.UniqueConstraint('campaign_id', 'language', name='uq_campaign_translations_campaign_language'),
    )
    op.create_index(op.f('ix_campaign_translations_campaign_id'), 'campaign_translations', ['campaign_id'])
    op.create_table(
        'campaign_update_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('update_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['update_id'], ['campaign_updates.id'],
                                name=op.f('fk_campaign_update_translations_update_id_campaign_updates'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_update_translations')),
        sa.UniqueConstraint('update_id', 'language', name='uq_campaign_update_translations_update_language'),
    )
    op.create_index(op.f('ix_campaign_update_translations_update_id'), 'campaign_update_translations',
                    ['update_id'])


def downgrade():
    op.drop_index(op.f('ix_campaign_update_translations_update_id'), table_name='campaign_update_translations')
    op.drop_table('campaign_update_translations')
    op.drop_index(op.f('ix_campaign_translations_campaign_id'), table_name='campaign_translations')
    op.drop_table('campaign_translations')
