"""eventsourcing's own conformance suites, run against the recorders okra uses.

Each storage backend proves that the recorder it configures behaves as
eventsourcing expects (ordering, uniqueness, notification ids without gaps,
concurrent writers), and that its infrastructure factory builds okra's recorders
from the settings the backend produces.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    ProcessRecorder,
    TrackingRecorder,
)
from eventsourcing.popo import (
    POPOAggregateRecorder,
    POPOApplicationRecorder,
    POPOFactory,
    POPOProcessRecorder,
    POPOTrackingRecorder,
)
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresDatastore,
    PostgresFactory,
    PostgresProcessRecorder,
    PostgresTrackingRecorder,
)
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
    SQLiteTrackingRecorder,
)
from eventsourcing.tests.persistence import (
    AggregateRecorderTestCase,
    ApplicationRecorderTestCase,
    InfrastructureFactoryTestCase,
)
from eventsourcing.utils import Environment

from okra_adapters.storage.memory import MemoryFactory, TreePOPORecorder
from okra_adapters.storage.postgres_recorder import GuardedPostgresRecorder
from okra_adapters.storage.sqlite import GuardedSQLiteRecorder
from okra_core.store._store import store_env

# --- memory:// ---------------------------------------------------------------------


class TestMemoryAggregateRecorder(AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        return POPOAggregateRecorder()


class TestMemoryApplicationRecorder(ApplicationRecorderTestCase[POPOApplicationRecorder]):
    def create_recorder(self) -> POPOApplicationRecorder:
        return POPOApplicationRecorder()


class TestTreeMemoryApplicationRecorder(ApplicationRecorderTestCase[TreePOPORecorder]):
    """okra's memory recorder (which keeps the log's hash tree) is still a full recorder."""

    def create_recorder(self) -> TreePOPORecorder:
        return TreePOPORecorder()


class _MemoryTracking(POPOTrackingRecorder):
    pass


class TestMemoryFactory(InfrastructureFactoryTestCase[POPOFactory]):
    def setUp(self) -> None:
        self.env = Environment("TestCase", store_env("memory://"))
        super().setUp()

    def expected_factory_class(self) -> type[POPOFactory]:
        return MemoryFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return POPOAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return TreePOPORecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return POPOTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _MemoryTracking

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return POPOProcessRecorder


# --- sqlite:/// --------------------------------------------------------------------


class _SQLiteFile:
    """A temporary folder per test for the SQLite file."""

    folder: Path

    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="okra-conformance-"))
        super().setUp()  # type: ignore[misc]

    def tearDown(self) -> None:
        super().tearDown()  # type: ignore[misc]
        shutil.rmtree(self.folder, ignore_errors=True)

    def datastore(self) -> SQLiteDatastore:
        return SQLiteDatastore(db_name=str(self.folder / "okra.sqlite"), lock_timeout=30)


class TestSQLiteAggregateRecorder(_SQLiteFile, AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        recorder = SQLiteAggregateRecorder(self.datastore(), events_table_name="okra_snapshots")
        recorder.create_table()
        return recorder


class TestGuardedSQLiteRecorder(_SQLiteFile, ApplicationRecorderTestCase[GuardedSQLiteRecorder]):
    def create_recorder(self) -> GuardedSQLiteRecorder:
        recorder = GuardedSQLiteRecorder(self.datastore())
        recorder.create_table()
        return recorder


class _SQLiteTracking(SQLiteTrackingRecorder):
    pass


class TestSQLiteFactory(_SQLiteFile, InfrastructureFactoryTestCase[SQLiteFactory]):
    def setUp(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="okra-conformance-"))
        self.env = Environment("TestCase", store_env(f"sqlite:///{self.folder / 'okra.sqlite'}"))
        InfrastructureFactoryTestCase.setUp(self)

    def expected_factory_class(self) -> type[SQLiteFactory]:
        return SQLiteFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return SQLiteAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return GuardedSQLiteRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return SQLiteTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _SQLiteTracking

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return SQLiteProcessRecorder


# --- postgresql:// -----------------------------------------------------------------


class _PostgresSchema:
    """A fresh schema per test on the session's real PostgreSQL server."""

    url: str
    _datastores: list[PostgresDatastore]

    @pytest.fixture(autouse=True)
    def _schema(self, postgres_url: str) -> Any:
        self.url = postgres_url
        self._datastores = []
        yield
        for datastore in self._datastores:
            datastore.close()

    def datastore(self) -> PostgresDatastore:
        env = store_env(self.url)
        datastore = PostgresDatastore(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            schema=env["POSTGRES_SCHEMA"],
            pool_size=4,
            max_overflow=12,
            lock_timeout=30,
        )
        self._datastores.append(datastore)
        return datastore


class TestPostgresAggregateRecorder(_PostgresSchema, AggregateRecorderTestCase):
    def create_recorder(self) -> AggregateRecorder:
        # The schema is made by okra's application recorder; snapshots go beside it.
        GuardedPostgresRecorder(self.datastore(), events_table_name="okra_events").create_table()
        recorder = PostgresAggregateRecorder(self.datastore(), events_table_name="okra_snapshots")
        recorder.create_table()
        return recorder


class TestGuardedPostgresRecorder(
    _PostgresSchema, ApplicationRecorderTestCase[GuardedPostgresRecorder]
):
    def create_recorder(self) -> GuardedPostgresRecorder:
        recorder = GuardedPostgresRecorder(self.datastore(), events_table_name="okra_events")
        recorder.create_table()
        return recorder


class _PostgresTracking(PostgresTrackingRecorder):
    pass


class TestPostgresFactory(_PostgresSchema, InfrastructureFactoryTestCase[PostgresFactory]):
    def setUp(self) -> None:
        self.env = Environment("TestCase", store_env(self.url))
        # eventsourcing's factory does not create schemas; okra's recorder does.
        GuardedPostgresRecorder(self.datastore(), events_table_name="okra_events").create_table()
        super().setUp()

    def expected_factory_class(self) -> type[PostgresFactory]:
        return PostgresFactory

    def expected_aggregate_recorder_class(self) -> type[AggregateRecorder]:
        return PostgresAggregateRecorder

    def expected_application_recorder_class(self) -> type[ApplicationRecorder]:
        return GuardedPostgresRecorder

    def expected_tracking_recorder_class(self) -> type[TrackingRecorder]:
        return PostgresTrackingRecorder

    def tracking_recorder_subclass(self) -> type[TrackingRecorder]:
        return _PostgresTracking

    def expected_process_recorder_class(self) -> type[ProcessRecorder]:
        return PostgresProcessRecorder


def test_the_postgres_suites_use_a_loopback_server(postgres_url: str) -> None:
    assert urlsplit(postgres_url).hostname in {"127.0.0.1", "localhost", "::1"}
