"""Alembic environment: uses the connection handed over by bot.store.migrate when there is one."""

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from bot.store import (  # noqa: F401  (registers the tables on the metadata)
    models,
    question_models,
    review_models,
    sprint_models,
    standup_models,
)

target_metadata = SQLModel.metadata
config = context.config


def run_migrations(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as new_connection:
        run_migrations(new_connection)
