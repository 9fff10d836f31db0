"""accounts: invitations by mail, password resets, two-factor login; passwords shown on screen stop working

Revision ID: accounts_7f3a9c1d
Revises: 52cf1abd8f4b
Create Date: 2026-11-27 18:45:00

Accounts created by "add a member" before invitations existed had their password shown to the adding owner.
Whoever saw it holds the account as much as its owner does, so those passwords stop opening the account: the
holder sets a new one through a link mailed to the account's address, and every session ends.
"""
from datetime import timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = 'accounts_7f3a9c1d'
down_revision = '52cf1abd8f4b'
branch_labels = None
depends_on = None

ROLE = sa.Enum('viewer', 'editor', 'owner', name='member_role', native_enum=False, length=16)


def upgrade():
    # Plain ALTER TABLE, never a batch copy: on SQLite, copying `users` would drop the original table, and the
    # foreign keys' ON DELETE rules would delete every membership and blank every audit entry's user.
    op.add_column('users', sa.Column('must_reset_password', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('users', sa.Column('totp_secret', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('totp_last_step', sa.Integer(), nullable=True))

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('role', ROLE, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_invitations_organisation_id_organisations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('organisation_id', 'email', name='uq_invitations_org_email'),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('account_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_tokens_token_hash'))
    )
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    flag_passwords_shown_on_screen(op.get_bind())


def _aware(value):
    if isinstance(value, str):  # SQLite hands back text
        from datetime import datetime

        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def flag_passwords_shown_on_screen(conn) -> int:
    """Flag every account created through the admin's "add a member" (its password was shown to the adding
    owner) and end its sessions. Such an account's creation is audited as "member set" by a logged-in admin
    (a user id) in the same request; accounts made on the command line by their holder are not."""
    users = sa.table('users', sa.column('id'), sa.column('email'), sa.column('created_at'),
                     sa.column('must_reset_password'), sa.column('session_version'))
    audit = sa.table('audit_log', sa.column('user_id'), sa.column('action'), sa.column('target'), sa.column('at'))
    added_by_web = {}
    for target, at in conn.execute(sa.select(audit.c.target, audit.c.at).where(
            audit.c.action == 'member set', audit.c.user_id.is_not(None))):
        email = (target or '').rpartition(' as ')[0].lower()
        if email:
            added_by_web.setdefault(email, []).append(_aware(at))
    flagged = 0
    for user_id, email, created_at in conn.execute(sa.select(users.c.id, users.c.email, users.c.created_at)):
        created = _aware(created_at)
        if any(abs(at - created) <= timedelta(minutes=1) for at in added_by_web.get(email.lower(), [])):
            conn.execute(sa.update(users).where(users.c.id == user_id).values(
                must_reset_password=True, session_version=users.c.session_version + 1))
            flagged += 1
    return flagged


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_tokens_user_id'))
    op.drop_table('account_tokens')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_email'))
    op.drop_table('invitations')
    for column in ('totp_last_step', 'totp_secret', 'must_reset_password'):
        op.execute(f'ALTER TABLE users DROP COLUMN {column}')  # SQLite 3.35+ and PostgreSQL; no table copy
