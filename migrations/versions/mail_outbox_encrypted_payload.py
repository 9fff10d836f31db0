"""outbox: personal data only encrypted (payload), discreet flag, attempt time

Revision ID: mail_outbox_payload
Revises: signing_confirmed_only
Create Date: 2026-11-27 18:45:00

Queued and failed messages are encrypted on the way up (with the running app's OUTBOX_KEY or SECRET_KEY), so no
mail is lost; on the way down they come back as plaintext columns.
"""
import json

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'mail_outbox_payload'
down_revision = 'signing_confirmed_only'
branch_labels = None
depends_on = None

_PLAIN = ('to_address', 'subject', 'text_body', 'html_body', 'headers')


def upgrade():
    from petition_app.mailer import seal_payload

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('discreet', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('payload', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=True))
    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('payload', sa.LargeBinary()),
                      *(sa.column(name, sa.Text()) for name in _PLAIN))
    conn = op.get_bind()
    rows = conn.execute(sa.select(outbox).where(outbox.c.to_address.is_not(None))).mappings().all()
    for row in rows:
        payload = {"to": row["to_address"], "subject": row["subject"], "text": row["text_body"],
                   "html": row["html_body"], "headers": json.loads(row["headers"] or "{}")}
        conn.execute(outbox.update().where(outbox.c.id == row["id"]).values(payload=seal_payload(payload)))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.alter_column('discreet', server_default=None)
        for name in _PLAIN:
            batch_op.drop_column(name)


def downgrade():
    from petition_app.mailer import open_payload

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('to_address', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=400), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('text_body', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('html_body', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('headers', sa.Text(), nullable=False, server_default='{}'))
    outbox = sa.table('outbox', sa.column('id', sa.Integer()), sa.column('payload', sa.LargeBinary()),
                      sa.column('status', sa.String()), *(sa.column(name, sa.Text()) for name in _PLAIN))
    conn = op.get_bind()
    for row in conn.execute(sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.payload.is_not(None))).all():
        payload = open_payload(row)
        if "subject" not in payload:  # a signer's mail not rendered yet: the old code cannot render it later
            conn.execute(outbox.update().where(outbox.c.id == row.id).values(status='cancelled'))
            continue
        conn.execute(outbox.update().where(outbox.c.id == row.id).values(
            to_address=payload["to"], subject=payload["subject"], text_body=payload["text"],
            html_body=payload["html"], headers=json.dumps(payload["headers"])))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        for name in ('subject', 'text_body', 'html_body', 'headers'):
            batch_op.alter_column(name, server_default=None)
        batch_op.drop_column('attempted_at')
        batch_op.drop_column('payload')
        batch_op.drop_column('discreet')
