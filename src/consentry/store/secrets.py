"""Named secrets the store keeps for other layers (`Store.secrets`): the pipeline's pseudonym key, receipt keys."""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from consentry.store.database import WRITE, store_error, transaction
from consentry.store.schema import pipeline_secrets

__all__ = ["SqlSecrets"]


class SqlSecrets:
    """`Secrets` in the `pipeline_secrets` table."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, name: str) -> str | None:
        """The stored value of `name`, or None."""
        with transaction(self._engine) as c:
            value: str | None = c.execute(
                select(pipeline_secrets.c.value).where(pipeline_secrets.c.name == name)
            ).scalar()
        return value

    def setdefault(self, name: str, value: str) -> str:
        """The stored value of `name`, storing `value` first if there is none (a concurrent first writer wins)."""
        try:
            with self._engine.connect().execution_options(**WRITE) as c, c.begin():
                c.execute(insert(pipeline_secrets).values(name=name, value=value))
        except IntegrityError:
            pass  # another process stored it first; theirs stands
        except SQLAlchemyError as e:
            raise store_error(e) from None
        stored = self.get(name)
        assert stored is not None
        return stored

    def names(self, prefix: str) -> list[str]:
        """The names stored that start with `prefix`, sorted."""
        with transaction(self._engine) as c:
            rows = c.execute(
                select(pipeline_secrets.c.name).where(pipeline_secrets.c.name.startswith(prefix, autoescape=True))
            ).scalars()
            return sorted(str(n) for n in rows)
