"""hit queries: hits dated by their article and carrying its domain and feed, indexes for the filters,
full-text search over articles

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:00:00

`hits.article_date` stays nullable: SQLite adds a NOT NULL column only with a default or by rebuilding the
table, and rebuilding `hits` with foreign keys on (they cannot be switched off inside the migration's
transaction) would cascade-delete every alert. `store_hit` always sets it, and this migration fills it.

The full-text index (see storage.search) is filled here for the articles already stored.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); END",
    "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN "
    "INSERT INTO articles_fts(articles_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text); "
    "INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text); END",
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]
# Texts past a million characters are indexed up to there: a tsvector holds at most 1 MB.
POSTGRES_FTS = [
    "ALTER TABLE articles ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, title || ' ' || left(text, 1000000))) STORED",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("article_date", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("domain", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "feed_id",
                sa.Integer(),
                sa.ForeignKey("feeds.id", name="fk_hits_feed_id_feeds", ondelete="SET NULL"),
                nullable=True,
            )
        )
    op.execute(
        "UPDATE hits SET article_date = (SELECT coalesce(articles.published_at, articles.fetched_at) "
        "FROM articles WHERE articles.id = hits.article_id), "
        "domain = (SELECT articles.domain FROM articles WHERE articles.id = hits.article_id), "
        "feed_id = (SELECT articles.feed_id FROM articles WHERE articles.id = hits.article_id)"
    )
    now = datetime.now(UTC)
    op.get_bind().execute(
        sa.text("UPDATE hits SET article_date = coalesce(created_at, :now) WHERE article_date IS NULL").bindparams(
            sa.bindparam("now", now.replace(tzinfo=None) if sqlite else now, type_=sa.DateTime(timezone=True))
        )
    )
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index("ix_hits_rule")
        batch_op.drop_index("ix_hits_article_id")
        batch_op.create_index("ix_hits_article_id_article_date_id", ["article_id", "article_date", "id"], unique=False)
        batch_op.create_index("ix_hits_article_date_id", ["article_date", "id"], unique=False)
        batch_op.create_index("ix_hits_rule_article_date_id", ["rule", "article_date", "id"], unique=False)
        batch_op.create_index("ix_hits_severity_article_date_id", ["severity", "article_date", "id"], unique=False)
        batch_op.create_index("ix_hits_domain_article_date_id", ["domain", "article_date", "id"], unique=False)
        batch_op.create_index("ix_hits_feed_id_article_date_id", ["feed_id", "article_date", "id"], unique=False)
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.create_index("ix_articles_site_name_domain", ["site_name", "domain"], unique=False)
        batch_op.create_index(batch_op.f("ix_articles_feed_id"), ["feed_id"], unique=False)
    for statement in SQLITE_FTS if sqlite else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("articles_fts_update", "articles_fts_delete", "articles_fts_insert"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE articles_fts")
    else:
        op.execute("DROP INDEX ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN search_vector")
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_articles_feed_id"))
        batch_op.drop_index("ix_articles_site_name_domain")
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index("ix_hits_feed_id_article_date_id")
        batch_op.drop_index("ix_hits_domain_article_date_id")
        batch_op.drop_index("ix_hits_severity_article_date_id")
        batch_op.drop_index("ix_hits_rule_article_date_id")
        batch_op.drop_index("ix_hits_article_date_id")
        batch_op.drop_index("ix_hits_article_id_article_date_id")
        batch_op.create_index("ix_hits_rule", ["rule"], unique=False)
        batch_op.create_index("ix_hits_article_id", ["article_id"], unique=False)
    # In place, as a rebuild of hits would delete the alerts; SQLite drops no column with a foreign key in
    # place, so there `hits.feed_id` stays.
    columns = ["domain", "article_date"]
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_hits_feed_id_feeds", "hits", type_="foreignkey")
        columns.append("feed_id")
    for column in columns:
        op.execute(f"ALTER TABLE hits DROP COLUMN {column}")
