"""Shared fixtures of the Spark tests: the simulated world with `moat detect`'s report, and a real PostgreSQL."""
import csv
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

MOAT = os.environ["MOAT_BIN"]


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("world")
    subprocess.run([MOAT, "simulate", "--scenario", "smoke", "--seed", "3", "--out", str(d), "--builtin-corpus"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([MOAT, "detect", str(d / "exchanges.jsonl"), "--accounts", str(d / "accounts.jsonl"),
                    "--out", str(d / "report.json"), "--quiet"], check=True)
    return d


def postgres_bin():
    """Where initdb and pg_ctl are: PATH, else Debian's /usr/lib/postgresql/*/bin (as MoatTestServers looks)."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return str(Path(initdb).resolve().parent)
    base = Path("/usr/lib/postgresql")
    versions = sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: -int(p.name)) if base.is_dir() else []
    for v in versions:
        if (v / "bin" / "initdb").exists():
            return str(v / "bin")
    return None


class PostgresServer:
    """A PostgreSQL server of the test's own, as Sources/MoatTestServers/PostgresServer.swift starts it: `initdb` on a
    temporary directory, `pg_ctl start` on a free loopback port, one database `moat`, user `moat`, trust
    authentication; as root, the server runs as the `postgres` user."""

    user = "moat"

    def __init__(self, database="moat"):
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's server is not installed (no initdb): apt-get install -y postgresql")
        self.bin, self.database = bin_dir, database
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.directory = Path("/tmp/moat-pg-%s" % uuid.uuid4().hex[:8])
        self.directory.mkdir()
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.directory, pw.pw_uid, pw.pw_gid)
        data = str(self.directory / "data")
        self._command("initdb", "-D", data, "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync")
        last = None
        for _ in range(3):
            port = free_port()
            try:
                self._command("pg_ctl", "-D", data, "-l", str(self.directory / "server.log"), "-w", "-t", "30", "-o",
                              "-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" % (port, self.directory),
                              "start")
                self.port = port
                break
            except subprocess.CalledProcessError as e:
                last = e
        else:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise last
        self._command("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, database)

    @property
    def url(self):
        """As `moat serve --store` takes it."""
        return "postgres://%s@127.0.0.1:%d/%s" % (self.user, self.port, self.database)

    def sql(self, statement):
        """Runs SQL with psql; its rows, one a line, fields split by `|`."""
        return subprocess.run(self._psql() + ["-At", "-c", statement], check=True, capture_output=True, text=True).stdout

    def copy_in(self, table, columns, rows):
        """Loads rows with COPY ... FROM STDIN (CSV), in the given order."""
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        subprocess.run(self._psql() + ["-c", "\\copy %s (%s) FROM pstdin WITH (FORMAT csv)" % (table, ", ".join(columns))],
                       input=buf.getvalue(), check=True, capture_output=True, text=True)

    def stop(self):
        try:
            self._command("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def _psql(self):
        return [os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", self.database,
                "-v", "ON_ERROR_STOP=1"]

    def _command(self, name, *args):
        cmd = [os.path.join(self.bin, name), *args]
        if self.run_as:
            cmd = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", self.run_as, "--"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, cwd=tempfile.gettempdir())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres():
    server = PostgresServer()
    try:
        yield server
    finally:
        server.stop()
