"""avisim/schema_data.py is exactly what tools/gen_sim_schema.py writes from the shared inputs."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("gen_sim_schema", ROOT / "tools" / "gen_sim_schema.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schema_data_is_generated_and_up_to_date() -> None:
    gen = load_generator()
    for folder in (gen.SWAGGER_DIR, gen.CASSETTE_DIR):
        assert folder.is_dir(), f"{folder} is missing (CI checks out shared/ beside the repository)"
    text = (ROOT / "avisim" / "schema_data.py").read_text()
    assert "GENERATED FILE" in text.split('"""')[1]
    assert f"`{gen.COMMAND}`" in text.split('"""')[1]
    assert text == gen.generate(), f"avisim/schema_data.py is stale or edited by hand: run `{gen.COMMAND}`"
