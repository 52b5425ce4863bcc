"""the brand's dashboard reads its cohorts from one covering index

ix_leads_oem_cohort (oem_id, arrived_at, then the dealer, origin, stage and milestones: what a cohort's measures
read, app.services.lead_measures) replaces ix_leads_oem_arrived (oem_id, arrived_at), whose prefix it keeps: a
brand's month of leads (a hundred thousand or more at 1,000,000 leads) is read from the index without visiting
the table. The downgrade puts the narrow index back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 06:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = ['oem_id', 'arrived_at', 'dealer_id', 'origin', 'stage', 'first_contact_at', 'first_contact_due_at',
           'invited_at', 'visited_at', 'test_drive_at', 'ordered_at', 'delivered_at']


def upgrade():
    op.create_index('ix_leads_oem_cohort', 'leads', COLUMNS)
    op.drop_index('ix_leads_oem_arrived', table_name='leads')


def downgrade():
    op.create_index('ix_leads_oem_arrived', 'leads', ['oem_id', 'arrived_at'])
    op.drop_index('ix_leads_oem_cohort', table_name='leads')
