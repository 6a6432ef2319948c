"""The API's database module as the real services lay it out: the engine lives inside `db_manager`.

`from database import engine` (the manual's probe) finds no `engine` here.
"""

from sqlalchemy import create_engine, text

from settings import settings


class DatabaseManager:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(
            url, pool_pre_ping=True, pool_size=5, pool_recycle=300, connect_args={"connect_timeout": 3}
        )

    def ping(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT 1")).scalar())


db_manager = DatabaseManager(settings.db_url)
