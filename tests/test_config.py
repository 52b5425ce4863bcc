"""Configuration from the environment and the instance folder."""
import pytest

from app.config import database_url, from_environment


def test_sqlite_in_the_instance_folder_by_default(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url(str(tmp_path)) == f"sqlite:///{tmp_path / 'dealer_leads.sqlite3'}"


@pytest.mark.parametrize("given", ["postgres://u:p@db:5432/crm", "postgresql://u:p@db:5432/crm"])
def test_postgres_urls_use_psycopg_3(monkeypatch, tmp_path, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url(str(tmp_path)) == "postgresql+psycopg://u:p@db:5432/crm"


def test_secret_key_is_generated_once_into_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = from_environment(str(tmp_path))["SECRET_KEY"]
    assert len(first) > 40
    assert from_environment(str(tmp_path))["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_the_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    assert from_environment(str(tmp_path))["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


def test_postgresql_plans_every_statement(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/crm")
    assert from_environment(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"prepare_threshold": None}
