"""changes: their fields in their own row, a JSON array of [field, old, new] (jsonb on PostgreSQL)

Recording a change was a row in changes and one per field in change_fields (a second
INSERT, and a row and index entry per field); it is now one row. The fields keep their
order.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 17:00:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

FILL = {
    'postgresql': """
        UPDATE changes SET fields = f.fields
        FROM (SELECT change_id, jsonb_agg(jsonb_build_array(field, old, new) ORDER BY id) AS fields
              FROM change_fields GROUP BY change_id) AS f
        WHERE f.change_id = changes.id
    """,
    # SQLite's json_group_array takes the rows in the order the subquery gives them.
    'sqlite': """
        UPDATE changes SET fields = (
            SELECT json_group_array(json_array(f.field, f.old, f.new))
            FROM (SELECT field, old, new FROM change_fields
                  WHERE change_id = changes.id ORDER BY id) AS f)
        WHERE id IN (SELECT change_id FROM change_fields)
    """,
}
SPLIT = {
    'postgresql': """
        INSERT INTO change_fields (change_id, field, old, new)
        SELECT c.id, e.value ->> 0, e.value ->> 1, e.value ->> 2
        FROM changes AS c, jsonb_array_elements(c.fields) WITH ORDINALITY AS e(value, n)
        ORDER BY c.id, e.n
    """,
    'sqlite': """
        INSERT INTO change_fields (change_id, field, old, new)
        SELECT c.id, json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]'),
               json_extract(e.value, '$[2]')
        FROM changes AS c, json_each(c.fields) AS e
        ORDER BY c.id, e.key
    """,
}


def upgrade():
    kind = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.add_column('changes', sa.Column('fields', kind, server_default='[]', nullable=False))
    op.execute(FILL[op.get_bind().dialect.name])
    with op.batch_alter_table('change_fields', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_fields_change_id'))
    op.drop_table('change_fields')


def downgrade():
    op.create_table('change_fields',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('change_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=50), nullable=False),
    sa.Column('old', sa.Text(), nullable=True),
    sa.Column('new', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['change_id'], ['changes.id'], name=op.f('fk_change_fields_change_id_changes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_fields'))
    )
    with op.batch_alter_table('change_fields', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_fields_change_id'), ['change_id'], unique=False)
    op.execute(SPLIT[op.get_bind().dialect.name])
    # Dropped in place (SQLite 3.35+ can): rebuilding the table would lose its trigger.
    op.execute('ALTER TABLE changes DROP COLUMN fields')
