"""The distribution: public surface, typing marker, light imports, examples that run."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import agent_trace
import agent_trace.events

ROOT = Path(__file__).resolve().parents[1]


def test_py_typed_is_shipped() -> None:
    assert (Path(agent_trace.__file__).parent / "py.typed").is_file()


def test_version_is_served() -> None:
    from importlib.metadata import version

    assert agent_trace.__version__ == version("agent-trace")  # one version, installed
    assert isinstance(agent_trace.__version__, str)
    assert agent_trace.__version__[0].isdigit()
    with pytest.raises(AttributeError):
        _ = agent_trace.no_such_attribute


def test_public_api_is_listed_and_importable() -> None:
    names = agent_trace.events.__all__
    assert len(names) == len(set(names))
    for name in names:
        assert hasattr(agent_trace.events, name), name
    public = {n for n in dir(agent_trace.events) if not n.startswith("_")}
    # every public attribute of the package that is one of ours is listed in __all__
    ours = {
        n
        for n in public
        if getattr(getattr(agent_trace.events, n), "__module__", "").startswith("agent_trace")
    }
    assert ours <= set(names), sorted(ours - set(names))


def test_no_top_level_events_or_cli_package() -> None:
    assert not (ROOT / "events" / "__init__.py").exists()
    assert not (ROOT / "cli" / "__init__.py").exists()


def _modules_after(statement: str) -> set[str]:
    code = f"{statement}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return {m.split(".")[0] for m in json.loads(out)}


def test_events_import_is_light() -> None:
    loaded = _modules_after("import agent_trace.events")
    heavy = loaded & {"git", "click", "jsonschema", "importlib_metadata"}
    assert not heavy, heavy


def test_private_modules_are_not_the_api() -> None:
    for module in ("_wire", "_codec", "_jsonl", "_vocabulary", "_envelope", "_emitters"):
        assert importlib.import_module(f"agent_trace.events.{module}")
        assert module not in agent_trace.events.__all__


def test_examples_run_end_to_end(tmp_path: Path) -> None:
    emitted = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "emit_json.py")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    log = tmp_path / "run.jsonl"
    log.write_text(emitted, encoding="utf-8")
    assert len(emitted.splitlines()) == 7
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "ingest_log.py"), str(log)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "commands: 1, succeeded: 1, success rate: 100%"


def test_top_level_api_is_listed_and_loads_lazily() -> None:
    names = agent_trace.__all__
    assert len(names) == len(set(names))
    homes = agent_trace._MODULE_OF
    assert set(names) - {"__version__"} == set(homes), set(names) ^ set(homes)
    for name in names:
        value = getattr(agent_trace, name)
        assert value is not None, name
        if name != "__version__" and hasattr(value, "__module__"):
            assert value.__module__.startswith("agent_trace."), (name, value.__module__)


def test_top_level_import_is_light() -> None:
    loaded = _modules_after("import agent_trace")
    heavy = loaded & {"git", "click", "jsonschema", "sqlite3", "attrs", "cattrs", "mmh3"}
    assert not heavy, heavy
    # using the record model loads neither git, click nor jsonschema
    loaded = _modules_after("from agent_trace import TraceRecord, content_hash")
    assert not loaded & {"git", "click", "jsonschema", "sqlite3"}


def test_the_records_guide_example_runs() -> None:
    text = (ROOT / "docs" / "records.md").read_text(encoding="utf-8")
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(block, "docs/records.md", "exec"), namespace)
    record = namespace["record"]
    assert isinstance(record, agent_trace.TraceRecord)
    assert record.ours == {"run_id": "run-1", "turn": 3}


def test_schema_data_file_is_packaged() -> None:
    schema = agent_trace.record_json_schema()
    assert schema["$id"] == "https://agent-trace.dev/schemas/v1/trace-record.json"
    assert schema["required"] == ["version", "id", "timestamp", "files"]


def test_agent_loop_example_attributes_its_lines(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "agent_loop.py"), str(repo)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "summary: {'human': 0, 'ai': 6, 'mixed': 0, 'unknown': 0}" in out
    assert "  1 anthropic/claude-sonnet-4-5  def greet(name):" in out


def test_every_command_is_in_the_lazy_table() -> None:
    """Each top-level command defined in ``agent_trace.cli`` modules is reachable by its
    name, from the module the table names, and nothing else is listed."""
    import click

    import agent_trace.cli as cli_package
    from agent_trace.cli import cli

    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert names == sorted(cli_package.cli.lazy), names
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        assert command.name == name
        relative = cli.lazy[name].partition(":")[0]
        assert command.callback is not None
        home = f"agent_trace.cli{relative}"
        assert command.callback.__module__ in (home, "agent_trace.cli._events"), (name, home)
    subgroups = {n: cli.get_command(ctx, n) for n in ("schema", "events", "notes", "hooks")}
    schema = subgroups["schema"]
    assert isinstance(schema, click.Group)
    assert sorted(schema.commands) == ["events", "record"]
    # every click command defined at the top of a cli module is reachable somewhere
    reachable: set[int] = set()
    stack: list[click.Command] = [cli.get_command(ctx, n) for n in names]  # type: ignore[misc]
    while stack:
        command = stack.pop()
        reachable.add(id(command))
        if isinstance(command, click.Group):
            stack.extend(command.commands.values())
    for module_name in {v.partition(":")[0] for v in cli.lazy.values()}:
        loaded = importlib.import_module(module_name, "agent_trace.cli")
        for attribute, value in vars(loaded).items():
            callback = value.callback if isinstance(value, click.Command) else None
            if callback is not None and callback.__module__ == loaded.__name__:
                assert id(value) in reachable, f"{loaded.__name__}.{attribute} is not a command"


def test_a_command_loads_only_its_own_module(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from agent_trace.cli import main\n"
        "try:\n"
        "    main(['blame', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('agent_trace.cli'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    loaded = json.loads(proc.stdout.splitlines()[-1])
    assert loaded == ["agent_trace.cli", "agent_trace.cli._app", "agent_trace.cli._blame"]
    assert "Who wrote each line of PATH" in proc.stdout
