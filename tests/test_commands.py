"""The command line in-process (click's CliRunner): every command, its help, its usage errors
and exit codes, and the README's command table generated from it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from turnaround import readme
from turnaround.commands import cli, error_line, run

COMMANDS = ("load", "build", "refresh", "report", "docs", "check", "pull-slurm", "demo", "shell")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), prog_name="turnaround")
    return result.exit_code, result.stdout, result.stderr


def test_the_group_lists_every_command_in_the_order_of_a_day() -> None:
    code, out, _ = invoke("--help")
    assert code == 0
    listed = [line.split()[0] for line in out.split("Commands:")[1].strip().splitlines()]
    assert listed == list(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_usage_line(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0
    assert out.startswith(f"usage: turnaround {command} [OPTIONS]")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "usage: turnaround"),
        (("nonsense",), "No such command 'nonsense'"),
        (("load", "--bogus"), "No such option '--bogus'"),
        (("load", "not_a_source"), "not_a_source"),
        (("demo",), "Missing option '--out'"),
        (("pull-slurm", "--window-days", "many"), "'many' is not a valid integer"),
    ],
)
def test_usage_errors_exit_2_in_one_message(args: tuple[str, ...], says: str) -> None:
    code, _, err = invoke(*args)
    assert code == 2
    assert says in err
    assert "Traceback" not in err


def test_run_returns_the_code_of_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["load", "--bogus"]) == 2
    assert "No such option '--bogus'" in capsys.readouterr().err


@pytest.mark.parametrize("scale", ["0", "1000"])
def test_an_input_error_is_one_line_and_exit_2(tmp_path: Path, scale: str) -> None:
    code, _, err = invoke("demo", "--out", str(tmp_path / "d"), "--scale", scale)
    assert code == 2
    assert err.strip().splitlines() == [
        f"turnaround: error: --scale must be between 1 and 100, not {scale}"
    ]
    assert not (tmp_path / "d").exists()


def test_a_missing_config_is_named(tmp_path: Path) -> None:
    code, _, err = invoke("load", "--config", str(tmp_path / "none.toml"))
    assert code == 2
    assert str(tmp_path / "none.toml") in err and "not found" in err


def test_the_window_is_checked_before_sacct_runs(tmp_path: Path) -> None:
    config = tmp_path / "turnaround.toml"
    config.write_text("", encoding="utf-8")
    code, _, err = invoke("pull-slurm", "--config", str(config), "--window-days", "0")
    assert code == 2
    assert "--window-days must be between 1 and 3660, not 0" in err


def test_demo_writes_a_project_and_exits_0(tmp_path: Path) -> None:
    code, out, err = invoke("demo", "--out", str(tmp_path / "d"))
    assert code == 0, err
    assert "config: " in out and (tmp_path / "d" / "turnaround.toml").is_file()


def test_an_unexpected_error_is_one_internal_line() -> None:
    line, code = error_line(ValueError("boom"), None)
    assert (line, code) == ("turnaround: internal error: ValueError: boom (please report it)", 2)


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "turnaround", "load", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: turnaround load")


def test_the_readme_command_table_is_generated_from_the_help() -> None:
    text = readme.README.read_text(encoding="utf-8")
    assert readme.rewritten(text) == text, "run `make readme` (the help changed)"
    for command in COMMANDS:
        assert f"| `turnaround {command}" in text


def test_the_table_follows_a_change_of_the_help() -> None:
    load = cli.commands["load"]
    kept = load.help
    try:
        load.help = "Something else entirely."
        assert "| `turnaround load [--config FILE] [--strict] [SOURCE ...]` | Something else" in (
            readme.table()
        )
    finally:
        load.help = kept


def test_once_a_load_returned_an_interrupt_says_it_committed(tmp_path: Path) -> None:
    # a Ctrl-C while the summary prints: the load is in the warehouse, and the line says so
    from loaders.config import load_config
    from turnaround import app
    from turnaround.interrupts import INTERRUPTS, LOAD_COMMITTED

    config_path = tmp_path / "turnaround.toml"
    config_path.write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    INTERRUPTS.doing = ""
    try:
        app._load(load_config(config_path), [])
        assert INTERRUPTS.doing == LOAD_COMMITTED
    finally:
        INTERRUPTS.doing = ""


def test_a_ctrl_c_while_click_parses_the_arguments_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # CI caught it once: an interrupt landing in click's own parsing printed click's blank line
    # before ours
    from turnaround import commands

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(commands.Turnaround, "parse_args", interrupted)
    monkeypatch.setattr(sys, "argv", ["turnaround", "load", "slurm"])
    monkeypatch.setattr(commands.INTERRUPTS, "install", lambda: None)
    monkeypatch.setattr(commands.signal, "signal", lambda *args: None)

    def exited(code: int) -> None:  # os._exit, which would end pytest too
        raise SystemExit(code)

    monkeypatch.setattr(commands.os, "_exit", exited)
    with pytest.raises(SystemExit) as ended:
        commands.main()
    assert ended.value.code == 130
    assert capsys.readouterr().err == "turnaround: interrupted\n"


def test_an_interrupt_python_could_not_raise_is_raised_later_not_printed() -> None:
    # CI caught it once: a Ctrl-C landing in a finaliser during the imports was raised again
    # inside the unraisable hook, which printed it ("Exception ignored in sys.unraisablehook")
    script = """
import signal, time
from turnaround.interrupts import INTERRUPTS
INTERRUPTS.install()
class Finalised:
    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # the handler raises where Python cannot
try:
    Finalised()
    for _ in range(2000):
        time.sleep(0.001)
    print("never delivered")
except KeyboardInterrupt:
    print("delivered")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.stdout.strip() == "delivered", done.stdout + done.stderr
    assert done.stderr == "", done.stderr
