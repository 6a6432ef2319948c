"""alldata-api's database module: `from database import engine` (as in the manual)."""
from sqlalchemy import create_engine

from settings import settings

engine = create_engine(
    settings.db_url,
    pool_pre_ping=True,
    pool_size=5,
    pool_recycle=300,
    connect_args={"connect_timeout": 3},
)
