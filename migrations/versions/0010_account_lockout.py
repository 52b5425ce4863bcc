"""account lockout: failed sign-ins counted on the user, and the time a locked account opens again

Three columns on users (app.services.accounts.authenticate has the rules): failed_sign_ins (0 for every
existing account), failed_sign_in_at (the first failure of the current window) and locked_until. The downgrade
drops them, and with them any lock in force.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('failed_sign_in_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))


def downgrade():
    # Never a copy of the table on SQLite: dropping and renaming users fails while foreign keys point at its rows.
    # The columns carry no index or constraint, so SQLite's own ALTER TABLE DROP COLUMN (3.35+) drops them.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_sign_in_at')
        batch_op.drop_column('failed_sign_ins')
