"""webhooks: endpoints per organisation and their deliveries (new tables only)

Revision ID: i15hooks_webhooks
Revises: i15api_embed_origins
"""
import sqlalchemy as sa
from alembic import op

revision = 'i15hooks_webhooks'
down_revision = 'i15api_embed_origins'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('url', sa.String(length=500), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('secret', sa.LargeBinary(), nullable=False),
        sa.Column('events', sa.String(length=200), nullable=False),
        sa.Column('detail', sa.Enum('counts', 'signer', name='webhook_detail', native_enum=False, length=16),
                  nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=300), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('failing_since', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_webhook_endpoints_organisation_id_organisations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints')),
    )
    op.create_index(op.f('ix_webhook_endpoints_organisation_id'), 'webhook_endpoints', ['organisation_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_type', sa.String(length=64), nullable=False),
        sa.Column('webhook_id', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=True),
        sa.Column('status', sa.Enum('queued', 'delivered', 'failed', 'cancelled', name='webhook_delivery_status',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('signature_id', sa.Integer(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_webhook_deliveries_campaign_id_campaigns'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'],
                                name=op.f('fk_webhook_deliveries_signature_id_signatures'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_deliveries_webhook_id')),
    )
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'])
    op.create_index(op.f('ix_webhook_deliveries_campaign_id'), 'webhook_deliveries', ['campaign_id'])
    op.create_index(op.f('ix_webhook_deliveries_endpoint_id'), 'webhook_deliveries', ['endpoint_id'])
    op.create_index(op.f('ix_webhook_deliveries_signature_id'), 'webhook_deliveries', ['signature_id'])


def downgrade():
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
