"""The dbt DAG runs one way, staging -> intermediate -> marts, and the marts are named for their
grain: `fct_` for a row per event, plain names for summaries that answer one question."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from loaders.config import load_config
from turnaround.dbt import PROJECT_DIR, dbt_environment, dbt_executable

Manifest = dict[str, dict[str, dict[str, object]]]

#: what each layer may read, by layer (seeds and sources are layers of their own)
MAY_READ = {
    "staging": {"source", "seed", "staging"},
    "intermediate": {"seed", "staging", "intermediate"},
    "marts": {"seed", "staging", "intermediate", "marts"},
}
PREFIXES = {"staging": "stg_", "intermediate": "int_"}
#: prefixes a summary's plain name must not carry (a layer's, or another naming scheme's)
NOT_PLAIN = ("stg_", "int_", "fct_", "fact_", "dim_", "agg_", "rpt_", "mart_")
#: macros that aggregate rows into statistics (a model calling one is a summary)
AGGREGATING_MACROS = frozenset(
    {
        "macro.turnaround.statistics_with_and_without_outliers",
        "macro.turnaround.summary_statistics",
    }
)
KEY_TESTS = frozenset({"unique", "unique_combination_of_columns"})


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The project as `dbt parse` sees it (manifest.json), parsed against a scratch warehouse."""
    folder = tmp_path_factory.mktemp("dag")
    config_path = folder / "turnaround.toml"
    config_path.write_text('warehouse = "w.duckdb"\n', encoding="utf-8")
    env = dbt_environment(load_config(config_path))
    done = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--no-partial-parse"],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path = Path(env["DBT_TARGET_PATH"]) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def layer(manifest: Manifest, unique_id: str) -> str:
    """The layer of a node: source, seed, or the models/ folder the model lies in."""
    if unique_id.startswith("source."):
        return "source"
    node = manifest["nodes"][unique_id]
    if node["resource_type"] == "seed":
        return "seed"
    parts = Path(str(node["original_file_path"])).parts
    return parts[1] if parts[0] == "models" and len(parts) > 2 else "models"


def models(manifest: Manifest, in_layer: str | None = None) -> dict[str, dict[str, object]]:
    """The project's models (of one layer), by unique id."""
    return {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["package_name"] == "turnaround"
        and (in_layer is None or layer(manifest, unique_id) == in_layer)
    }


def reads(node: dict[str, object]) -> list[str]:
    """The nodes a model reads (refs, sources, `-- depends_on:` lines alike)."""
    depends_on = node["depends_on"]
    assert isinstance(depends_on, dict)
    return list(depends_on["nodes"])


def test_every_model_lies_in_a_layer_and_is_named_for_it(manifest: Manifest) -> None:
    found = models(manifest)
    assert found
    for unique_id, node in found.items():
        name = str(node["name"])
        in_layer = layer(manifest, unique_id)
        assert in_layer in MAY_READ, f"{node['original_file_path']}: not under a layer's folder"
        if in_layer in PREFIXES:
            assert name.startswith(PREFIXES[in_layer]), f"{name} lies in models/{in_layer}/"
        else:
            assert not name.startswith(tuple(PREFIXES.values())), f"{name} lies in models/marts/"


@pytest.mark.parametrize("in_layer", sorted(MAY_READ))
def test_each_layer_reads_only_the_layers_before_it(manifest: Manifest, in_layer: str) -> None:
    wrong = sorted(
        f"{node['name']} reads {upstream} ({layer(manifest, upstream)})"
        for node in models(manifest, in_layer).values()
        for upstream in reads(node)
        if layer(manifest, upstream) not in MAY_READ[in_layer]
    )
    assert not wrong, f"models/{in_layer}/ may read only {sorted(MAY_READ[in_layer])}: {wrong}"


def test_only_staging_models_read_sources(manifest: Manifest) -> None:
    readers = sorted(
        str(node["name"])
        for unique_id, node in models(manifest).items()
        if layer(manifest, unique_id) != "staging"
        and any(upstream.startswith("source.") for upstream in reads(node))
    )
    assert not readers, f"read a source outside models/staging/: {readers}"
    for name, source in manifest["sources"].items():
        readers = [node["name"] for node in models(manifest).values() if name in reads(node)]
        if source["name"] != "rejected_records":  # read by a singular test only
            assert readers, f"{name}: no staging model reads it"


def key_tests(manifest: Manifest, unique_id: str) -> list[str]:
    """The uniqueness tests on a model's rows: its grain, enforced."""
    return [
        str(node["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and node.get("attached_node") == unique_id
        and (node.get("test_metadata") or {}).get("name") in KEY_TESTS
    ]


def aggregates(node: dict[str, object]) -> bool:
    """The model summarises rows: a `group by` of its own, or a statistics macro."""
    depends_on = node["depends_on"]
    assert isinstance(depends_on, dict)
    return bool(re.search(r"\bgroup\s+by\b", str(node["raw_code"]), re.IGNORECASE)) or bool(
        AGGREGATING_MACROS & set(depends_on["macros"])
    )


def test_mart_names_follow_the_rule(manifest: Manifest) -> None:
    """`fct_<events>`: a row per event, its grain held by a uniqueness test, no aggregation;
    a plain name: a summary (it aggregates), one row per answer, held by a uniqueness test."""
    marts = models(manifest, "marts")
    assert marts
    for unique_id, node in marts.items():
        name = str(node["name"])
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name), name
        assert key_tests(manifest, unique_id), f"{name}: no unique test states its grain"
        if name.startswith("fct_"):
            assert not aggregates(node), f"{name}: a fct_ mart is a row per event, not a summary"
        else:
            assert not name.startswith(NOT_PLAIN), f"{name}: a summary has a plain name"
            assert aggregates(node), f"{name}: a plain name is for a summary; events are fct_"
