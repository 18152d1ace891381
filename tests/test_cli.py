"""The command line: bad values and unreachable backends end in one line with exit code 2,
before any work and without a traceback; --help starts with what scenmine is and how to use it."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scenmine import preflight, schema
from scenmine.config import ConfigError

REPO = Path(__file__).resolve().parents[1]

# the bad values (screening on where the key only matters then), and what is allowed
BAD_VALUES = [
    (["screening.threshold=abc"], "screening.threshold='abc' is not allowed: expected a number >= 0 and <= 1"),
    (["exp=full", "screening.threshold=1.7"], "screening.threshold=1.7 is not allowed"),
    (["execute.timeout_s=-1"], "execute.timeout_s=-1 is not allowed: expected a number > 0"),
    (["exp=full", "screening.max_iterations=-3"], "screening.max_iterations=-3 is not allowed: expected an integer >= 1"),
    (["generate.strategy=agnet"], "generate.strategy='agnet' is not allowed: expected one of single_pass, agent"),
    (["+generate.stratgy=agent"], "generate.stratgy is not a known key (did you mean generate.strategy?)"),
    (["+verifier.geometric.treshold=0.5", "verifier=geometric"], "verifier.geometric.treshold is not a known key"),
    (["llm=openai", "llm.token_param=max"], "llm.token_param='max' is not allowed: expected one of"),
    (["dataset=av2"], "no value for dataset.logs"),
]


def run_cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    environ.update(env, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "scenmine", *args, f"paths.outputs={cwd / 'out'}",
                           f"paths.mlruns={cwd / 'ml'}"], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def output_lines(proc) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("overrides,message", BAD_VALUES)
def test_schema_refuses_bad_values_naming_key_value_and_allowed(make_cfg, overrides, message):
    with pytest.raises(ConfigError) as err:
        schema.check(make_cfg(overrides))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_every_option_of_every_group_passes_its_schema(make_cfg):
    for overrides in (["verifier=both", "vlm=openai"], ["vlm=transformers", "llm=anthropic"],
                      ["llm=vllm", "vlm=qwen3vl_vllm"], ["llm=replay", "reviewer=llm"],
                      ["llm=claude_code", "dataset=av2", "dataset.logs=x"], ["exp=tune_verifier"]):
        schema.check(make_cfg(overrides))


@pytest.mark.parametrize("args,needle", [
    (["+exp=full", "screening.threshold=abc"], "screening.threshold='abc' is not allowed"),
    (["screening.treshold=0.8"], "screening.treshold is not a known key (did you mean screening.threshold?)"),
    (["exp=fulll"], "Could not find 'exp/fulll'"),
])
def test_cli_bad_value_is_one_line_exit_2(tmp_path, args, needle):
    proc = run_cli(args, tmp_path)
    lines = output_lines(proc)
    assert proc.returncode == 2 and len(lines) == 1 and needle in lines[0], lines
    assert not (tmp_path / "ml").exists()  # refused before any work


def test_api_profile_with_a_closed_port_fails_fast_in_one_line(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/v1"
    proc = run_cli(["+exp=ablation_no_vlm", "backends=api", f"llm.base_url={url}"], tmp_path,
                   OPENAI_API_KEY="sk-test")
    lines = output_lines(proc)
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert f"cannot reach the LLM server at {url}" in lines[0] and "llm.base_url=" in lines[0]
    assert not (tmp_path / "ml").exists()


def test_preflight_names_an_unset_key_variable_and_the_setting(make_cfg):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
        cfg = make_cfg(["exp=full", "backends=api", f"llm.base_url={url}",
                        "llm.api_key_env=SCENMINE_TEST_UNSET_KEY", "verifier=none"])
        with pytest.raises(preflight.BackendUnavailable) as err:
            preflight.check(cfg)
    assert "$SCENMINE_TEST_UNSET_KEY (llm.api_key_env) is not set" in str(err.value)
    assert preflight.needs(make_cfg([])) == []  # the offline profile calls nothing


def test_preflight_covers_reviewer_and_vlm_servers(make_cfg):
    cfg = make_cfg(["exp=full", "backends=api", "llm.api_key_env=null",
                    f"vlm.base_url=http://127.0.0.1:{closed_port()}/v1"])
    keys = [need.key for need in preflight.needs(cfg)]
    assert keys == ["llm.base_url", "vlm.base_url"]  # the reviewer shares the generator's server
    paper = [need.key for need in preflight.needs(make_cfg(["exp=paper"]))]
    assert paper == ["llm.command", "llm.env_from.ANTHROPIC_AUTH_TOKEN"]


def test_help_starts_with_description_commands_and_docs(tmp_path):
    proc = run_cli(["--help"], tmp_path)
    assert proc.returncode == 0
    head = proc.stdout.split("== Config groups")[0]
    assert proc.stdout.startswith("scenmine: LLM-driven scenario mining")
    assert "+exp=full backends=api" in head and "Docs:" in head
    assert "backends: api, local, offline, paper" in proc.stdout
