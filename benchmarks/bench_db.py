"""The benchmark database on the PostgreSQL server: made afresh, dropped, looked up.

Shared by the scripts that generate a large dataset inside PostgreSQL (kpis.py, ticket_search.py).
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def admin_connection(server: str):
    return psycopg.connect(f"{server}/postgres", autocommit=True)


def exists(server: str, db: str) -> bool:
    with admin_connection(server) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone() is not None


def recreate(server: str, db: str) -> None:
    with admin_connection(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))


def drop(server: str, db: str) -> None:
    from django.db import connections

    connections.close_all()
    with admin_connection(server) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
