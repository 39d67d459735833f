"""``scan --dask-scheduler``: hashing on a Dask cluster gives the report a local scan gives.

A ``LocalCluster`` on loopback stands in for a lab's cluster: separate worker processes
that import hashmatch themselves and receive only picklable tasks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hashmatch.errors import ClusterError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.scan import ScanOptions, scan

from .evidence import Evidence, build

distributed = pytest.importorskip("distributed", reason="the optional extra hashmatch[dask]")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=50,
    ) as local:  # fmt: skip
        yield local.scheduler_address


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    return build(tmp_path_factory.mktemp("dask"))


def report_of(store: HashSetStore, evidence: Evidence, case: Path, **options: object) -> dict:
    scan(ScanOptions(sources=(evidence.root,), case_dir=case, case_id="D-1", **options), store)
    report = json.loads((case / "report.json").read_text())
    for key in ("started", "finished", "command"):
        report["case"].pop(key)
    return report


def test_dask_cluster_gives_the_local_report(
    cluster: str, evidence: Evidence, store: HashSetStore, tmp_path: Path
) -> None:
    store.import_file(evidence.known_md5, name="ref", category=Category.KNOWN_BAD)
    store.import_file(evidence.known_pdq, name="ref-pdq", format_name="pdq",
                      category=Category.KNOWN_BAD)  # fmt: skip
    local = report_of(store, evidence, tmp_path / "local", jobs=2)
    remote = report_of(store, evidence, tmp_path / "dask", dask_scheduler=cluster)
    assert remote == local
    assert len(remote["matches"]) == len(evidence.copies) + len(evidence.variants)
    assert remote["summary"]["files"] == evidence.file_count


@pytest.fixture
def quick_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused connection is retried until the timeout; tests need not wait 20 s."""
    monkeypatch.setattr("hashmatch.dask_backend.CONNECT_TIMEOUT", "1s")


@pytest.mark.usefixtures("quick_timeout")
def test_unreachable_scheduler_is_a_clear_error(store: HashSetStore, tmp_path: Path) -> None:
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "a.txt").write_text("a")
    options = ScanOptions(sources=(tmp_path / "e",), case_dir=tmp_path / "case",
                          dask_scheduler="tcp://127.0.0.1:9")  # fmt: skip
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler"):
        scan(options, store)


@pytest.mark.usefixtures("quick_timeout")
def test_cli_names_the_unreachable_scheduler(runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from hashmatch.cli import cli
    from hashmatch.cli.errors import ExitCode

    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "a.txt").write_text("a")
    result = runner.invoke(cli, ["--store", str(tmp_path / "s"), "scan", str(tmp_path / "e"),
                                 "-o", str(tmp_path / "case"), "-q",
                                 "--dask-scheduler", "tcp://127.0.0.1:9"])  # fmt: skip
    assert result.exit_code == ExitCode.CASE_OR_STORE
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert "Traceback" not in result.output
