"""lead milestones: when each lead first reached invited, visited, test drive, ordered and delivered

Five nullable timestamps on leads (app.services.milestones has the rules), filled for the leads that exist from
what their history tells, with the rules of the service: a step reached implies the earlier ones, and each
milestone is the earliest moment that any evidence shows the step (or a later one) reached. The evidence:
- audit entries of stage changes ("lead.stage_changed"): the stage after, and the stage before, at the entry's
  time (the precise source, written since stage changes were audited);
- audit entries of approval decisions ("approval.approved" / "approval.rejected"): the stage before, at the
  decision's time (how far a lead closed as lost or invalid had got);
- stage-change activities ("contacted → visited", the history older than the audit): both stages, at their time;
- visit and test-drive activities (walk-ins, repeat visits, appointments marked showed): visited or test drive;
- visit and test-drive appointments, whenever booked: invited, at the booking;
- a lead still open past "new", or delivered: its current stage, when it closed (delivered) or was last updated
  (a late bound, used only when nothing earlier shows the step). A lost or invalid lead gets no milestone from
  its current stage: only its history counts.
first_contact_at stays as it is (it runs the first-contact clock). The downgrade drops the columns.

Indexes: a dealer's funnel counts its leads by arrival (ix_leads_dealer_arrived, dealer_id + arrived_at, exists)
and reads the milestones of those rows; the brand's counts its leads by arrival across all dealers
(ix_leads_oem_arrived, new); a dealer's orders in a period are found by ix_leads_dealer_ordered (new).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00

"""
import json
from collections import defaultdict

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = ('invited_at', 'visited_at', 'test_drive_at', 'ordered_at', 'delivered_at')
# The steps in order and their columns, frozen as at this revision (app.services.milestones: STEPS, MILESTONES).
STEPS = ('contacted', 'invited', 'visited', 'test_drive', 'negotiating', 'ordered', 'delivered')
MILESTONES = {'invited': 'invited_at', 'visited': 'visited_at', 'test_drive': 'test_drive_at',
              'ordered': 'ordered_at', 'delivered': 'delivered_at'}
BATCH = 2000  # leads per round: their history is read with a range of ids, their milestones written at once

leads = sa.table('leads', sa.column('id', sa.Integer), sa.column('stage', sa.String),
                 sa.column('updated_at', sa.DateTime), sa.column('closed_at', sa.DateTime),
                 *(sa.column(name, sa.DateTime) for name in COLUMNS))
audit_log = sa.table('audit_log', sa.column('action', sa.String), sa.column('object_type', sa.String),
                     sa.column('object_id', sa.Integer), sa.column('before', sa.JSON), sa.column('after', sa.JSON),
                     sa.column('created_at', sa.DateTime))
approval_requests = sa.table('approval_requests', sa.column('id', sa.Integer), sa.column('lead_id', sa.Integer))
activities = sa.table('activities', sa.column('lead_id', sa.Integer), sa.column('kind', sa.String),
                      sa.column('summary', sa.String), sa.column('occurred_at', sa.DateTime))
appointments = sa.table('appointments', sa.column('lead_id', sa.Integer), sa.column('kind', sa.String),
                        sa.column('created_at', sa.DateTime))


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(), nullable=True))
    bind = op.get_bind()
    last = 0
    while ids := bind.execute(sa.select(leads.c.id).where(leads.c.id > last).order_by(leads.c.id)
                              .limit(BATCH)).scalars().all():
        _backfill(bind, ids[0], ids[-1])
        last = ids[-1]
    # The dashboards: the brand's leads by arrival (its cohorts across all dealers), a dealer's by order date.
    op.create_index('ix_leads_oem_arrived', 'leads', ['oem_id', 'arrived_at'])
    op.create_index('ix_leads_dealer_ordered', 'leads', ['dealer_id', 'ordered_at'])


def downgrade():
    op.drop_index('ix_leads_dealer_ordered', table_name='leads')
    op.drop_index('ix_leads_oem_arrived', table_name='leads')
    # Never a copy of the table on SQLite: dropping and renaming leads fails while foreign keys point at its rows.
    # The columns carry no index or constraint, so SQLite's own ALTER TABLE DROP COLUMN (3.35+) drops them.
    with op.batch_alter_table('leads', schema=None, recreate='never') as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)


def _backfill(bind, low: int, high: int) -> None:
    """Fill the milestones of the leads with ids from low to high, as the module describes."""
    evidence = defaultdict(list)  # lead id → [(stage, at)]
    for lead_id, before, after, at in bind.execute(
            sa.select(audit_log.c.object_id, audit_log.c.before, audit_log.c.after, audit_log.c.created_at)
            .where(audit_log.c.object_type == 'leads', audit_log.c.action == 'lead.stage_changed',
                   audit_log.c.object_id.between(low, high))):
        evidence[lead_id] += [(_stage(before), at), (_stage(after), at)]
    for lead_id, before, at in bind.execute(
            sa.select(approval_requests.c.lead_id, audit_log.c.before, audit_log.c.created_at)
            .join(audit_log, sa.and_(audit_log.c.object_type == 'approval_requests',
                                     audit_log.c.object_id == approval_requests.c.id))
            .where(audit_log.c.action.in_(('approval.approved', 'approval.rejected')),
                   approval_requests.c.lead_id.between(low, high))):
        evidence[lead_id].append((_stage(before), at))
    for lead_id, kind, summary, at in bind.execute(
            sa.select(activities.c.lead_id, activities.c.kind, activities.c.summary, activities.c.occurred_at)
            .where(activities.c.lead_id.between(low, high),
                   activities.c.kind.in_(('stage_change', 'visit', 'test_drive')))):
        if kind == 'stage_change':  # "contacted → visited", as lead_changes and approvals word it
            evidence[lead_id] += [(stage.strip(), at) for stage in (summary or '').split('→')]
        else:
            evidence[lead_id].append(('visited' if kind == 'visit' else 'test_drive', at))
    for lead_id, at in bind.execute(
            sa.select(appointments.c.lead_id, appointments.c.created_at)
            .where(appointments.c.lead_id.between(low, high), appointments.c.kind.in_(('visit', 'test_drive')))):
        evidence[lead_id].append(('invited', at))
    rows = []
    for lead_id, stage, updated_at, closed_at in bind.execute(
            sa.select(leads.c.id, leads.c.stage, leads.c.updated_at, leads.c.closed_at)
            .where(leads.c.id.between(low, high))):
        if stage in STEPS:  # open past "new", or delivered: lost and invalid have only their history
            evidence[lead_id].append((stage, closed_at if stage == 'delivered' and closed_at else updated_at))
        milestones = _milestones(evidence.get(lead_id, ()))
        if milestones:
            rows.append({'lead_id': lead_id, **{name: milestones.get(name) for name in COLUMNS}})
    if rows:
        bind.execute(leads.update().where(leads.c.id == sa.bindparam('lead_id'))
                     .values({name: sa.bindparam(name) for name in COLUMNS}), rows)


def _milestones(evidence) -> dict:
    """Each milestone: the earliest moment the lead is known to have reached its step or a later one."""
    reached = {}
    for stage, at in evidence:
        if stage not in STEPS or at is None:
            continue
        for step in STEPS[:STEPS.index(stage) + 1]:
            name = MILESTONES.get(step)
            if name and (reached.get(name) is None or at < reached[name]):
                reached[name] = at
    return reached


def _stage(values) -> str | None:
    """The "stage" of an audit entry's before or after values (a dict, or its JSON text on some drivers)."""
    if isinstance(values, str):
        values = json.loads(values)
    return values.get('stage') if isinstance(values, dict) else None
