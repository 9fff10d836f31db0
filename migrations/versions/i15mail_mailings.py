"""Update mailings to signers who opted in: mailings, mailing_versions, outbox.mailing_id

New tables, and one nullable column with its index added to the outbox: no table is rebuilt on upgrade. The
column has no foreign key: SQLite could add one only inline, which it then reflects without its name or ON DELETE. On SQLite the downgrade rebuilds the outbox only (nothing refers to it).

Revision ID: i15mail_mailings
Revises: i15hooks_webhooks
"""
import sqlalchemy as sa
from alembic import op

revision = 'i15mail_mailings'
down_revision = 'i15hooks_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mailings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('draft', 'sending', 'paused', 'done', 'cancelled', name='mailing_status',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_signature_id', sa.Integer(), server_default='0', nullable=False),
        sa.Column('up_to_signature_id', sa.Integer(), server_default='0', nullable=False),
        sa.Column('recipients', sa.Integer(), server_default='0', nullable=False),
        sa.Column('queued', sa.Integer(), server_default='0', nullable=False),
        sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('window_count', sa.Integer(), server_default='0', nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_mailings_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mailings_created_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mailings')),
    )
    op.create_index(op.f('ix_mailings_campaign_id'), 'mailings', ['campaign_id'], unique=False)
    op.create_table(
        'mailing_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mailing_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['mailing_id'], ['mailings.id'], name=op.f('fk_mailing_versions_mailing_id_mailings'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mailing_versions')),
        sa.UniqueConstraint('mailing_id', 'language', name='uq_mailing_versions_language'),
    )
    op.create_index(op.f('ix_mailing_versions_mailing_id'), 'mailing_versions', ['mailing_id'], unique=False)
    op.add_column('outbox', sa.Column('mailing_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_outbox_mailing_id'), 'outbox', ['mailing_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_outbox_mailing_id'), table_name='outbox')
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('outbox') as batch_op:  # the outbox only: nothing refers to it
            batch_op.drop_column('mailing_id')
    else:
        op.drop_column('outbox', 'mailing_id')
    op.drop_index(op.f('ix_mailing_versions_mailing_id'), table_name='mailing_versions')
    op.drop_table('mailing_versions')
    op.drop_index(op.f('ix_mailings_campaign_id'), table_name='mailings')
    op.drop_table('mailings')
