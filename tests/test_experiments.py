"""Experiment overlays x backends profiles compose in the right precedence; a two-job multirun
gives two grouped, tagged MLflow runs; rerun.

The multirun (two overlays on the offline profile, one log of the embedded dataset, two
prompts) runs once per session in a subprocess (``sweep_result``); tests/test_report.py and
tests/test_export.py reuse it. Every overlay that needs no model also runs end to end offline.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
OVERLAYS = sorted(p.stem for p in (CONF / "exp").glob("*.yaml"))
PROFILES = sorted(p.stem for p in (CONF / "backends").glob("*.yaml"))
# overlays that run end to end on the offline profile (paper selects the paper's profile)
OFFLINE = [name for name in OVERLAYS if name not in ("paper", "tune_verifier")]
# Offline these run exactly as `full` (the rules parser has no generation strategy, the embedded
# dataset no tracker input): composed and checked above, not run again end to end.
SAME_AS_FULL_OFFLINE = ("tech_decompose", "tech_refine_tracks")
SWEEP_OVERLAYS = ("refprog_baseline", "ablation_no_screening")
PROMPTS = ("vehicle turning left", "vehicle with a bicycle to its right")
OFFLINE_BACKENDS = {"llm": {"scenmine.generate.rules.RulesGenerator"},
                    "reviewer": {"none", "static"}, "verifier": {"none", "geometric"},
                    "vlm": {"none"}}


def compose_cfg(*overrides: str, hydra_cfg: bool = False):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=hydra_cfg)


def run_scenmine(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "HYDRA_FULL_ERROR": "1"}
    return subprocess.run([sys.executable, "-m", "scenmine", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def quick_args(root: Path, mini_root: Path) -> list[str]:
    prompts = root / "prompts.txt"
    prompts.write_text("\n".join(PROMPTS) + "\n")
    return [f"dataset.root={mini_root}", "dataset.max_logs=1", f"dataset.prompts={prompts}",
            f"tracking.dir={root / 'mlruns'}", "output.progress=false", "execute.workers=1"]


_SWEEP: dict = {}


def sweep_result(tmp_path_factory, mini_root: Path) -> dict:
    """Run ``python -m scenmine -m +exp=A,B ...`` once per session; its store and runs."""
    if "root" not in _SWEEP:
        root = tmp_path_factory.mktemp("sweep")
        args = ["-m", f"+exp={','.join(SWEEP_OVERLAYS)}",  # +exp= is accepted as exp=
                *quick_args(root, mini_root), f"hydra.sweep.dir={root / 'multirun'}"]
        proc = run_scenmine(args, cwd=root)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
        from scenmine import track
        tracking = OmegaConf.create({"uri": None, "dir": str(root / "mlruns"),
                                     "experiment": "scenmine", "enabled": True})
        client = track.client(tracking)
        exp = client.get_experiment_by_name("scenmine")
        runs = client.search_runs([exp.experiment_id], max_results=100)
        _SWEEP.update(root=root, tracking=tracking, runs=runs, stdout=proc.stdout,
                      sweep_dir=root / "multirun")
    return _SWEEP


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, mini_root):
    return sweep_result(tmp_path_factory, mini_root)


# -- composition ---------------------------------------------------------------------------

def test_overlays_exist_once():
    assert {"full", "ablation_no_vlm", "ablation_no_review", "ablation_no_screening",
            "refprog_baseline", "paper", "screen_train"} <= set(OVERLAYS)
    assert not [name for name in OVERLAYS if name.endswith("_offline")]
    assert set(PROFILES) == {"offline", "api", "paper", "local"}


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_composes_on_every_profile(name, profile):
    from scenmine import schema
    schema.check(compose_cfg(f"exp={name}", f"backends={profile}"))  # resolves and validates
    text = (CONF / "exp" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "Question" in text.split("defaults:")[0] or name.startswith(("screen", "tune")), \
        f"{name}.yaml: the header comment should say which question the overlay answers"


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_say_only_which_stages_run(name):
    """No overlay picks a backend or repeats the screening settings (they live once, in
    conf/screening/default.yaml); paper only adds its profile to full."""
    text = (CONF / "exp" / f"{name}.yaml").read_text()
    for group in ("llm", "vlm"):
        assert f"/{group}:" not in text and f"\n{group}:" not in text, (name, group)
    assert "threshold:" not in text and "max_iterations:" not in text, name
    assert ("/backends:" in text) == (name == "paper")


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_profile_needs_no_model(name):
    cfg = compose_cfg(f"exp={name}")
    assert cfg.dataset.name == "mini"
    assert cfg.llm._target_ in OFFLINE_BACKENDS["llm"]
    for group in ("reviewer", "verifier", "vlm"):
        assert cfg[group].name in OFFLINE_BACKENDS[group], (name, group)


def test_stage_switches():
    full, no_vlm = compose_cfg("exp=full"), compose_cfg("exp=ablation_no_vlm")
    assert (full.screening.name, full.reviewer.name, full.verifier.name) == \
        ("default", "static", "geometric")
    assert no_vlm.verifier.name == "none" and no_vlm.reviewer.name == "static"
    assert compose_cfg("exp=ablation_no_review").reviewer.name == "none"
    assert compose_cfg("exp=ablation_no_screening").screening.name == "off"
    base = compose_cfg("exp=refprog_baseline")
    assert (base.screening.name, base.reviewer.name, base.verifier.name) == ("off", "none", "none")
    assert base.generate.strategy == "single_pass"
    default = compose_cfg()
    assert (default.screening.name, default.reviewer.name, default.verifier.name) == \
        ("off", "none", "none")


def test_profiles_choose_the_backends():
    api = compose_cfg("exp=full", "backends=api")
    OmegaConf.resolve(api)
    assert api.llm._target_.endswith("OpenAIBackend") and api.vlm.name == "openai"
    assert api.reviewer.name == "llm" and api.reviewer.backend == api.llm
    assert api.verifier.name == "vlm"
    local = compose_cfg("exp=full", "backends=local")
    assert local.llm.max_concurrency == 1 and "127.0.0.1" in local.llm.base_url
    assert (local.reviewer.name, local.verifier.name) == ("llm", "geometric")
    assert compose_cfg("exp=ablation_no_vlm", "backends=api").verifier.name == "none"


def test_precedence_profile_then_overlay_then_command_line():
    cfg = compose_cfg("exp=full", "backends=api", "reviewer=static", "llm=anthropic",
                      "screening.threshold=0.6", "generate.strategy=single_pass")
    assert cfg.reviewer.name == "static" and cfg.llm._target_.endswith("AnthropicBackend")
    assert cfg.screening.threshold == 0.6 and cfg.generate.strategy == "single_pass"
    assert cfg.verifier.name == "vlm"  # untouched: the overlay's stage with the profile's verifier


def test_paper_overlay_is_the_published_setting():
    cfg = compose_cfg("exp=paper")
    OmegaConf.resolve(cfg)
    assert cfg.llm._target_.endswith("ClaudeCodeBackend")
    assert cfg.llm.env.ANTHROPIC_MODEL == "glm-5.1" and "z.ai" in cfg.llm.env.ANTHROPIC_BASE_URL
    assert (cfg.screening.threshold, cfg.screening.max_iterations) == (0.8, 5)
    assert cfg.reviewer.name == "llm" and cfg.reviewer.backend._target_.endswith("ClaudeCodeBackend")
    assert cfg.verifier.name == "vlm" and cfg.vlm.name == "qwen3vl_vllm"
    assert cfg == compose_cfg("exp=full", "backends=paper")


def test_plus_exp_is_accepted_as_exp():
    from scenmine.__main__ import normalise_args
    assert normalise_args(["+exp=full,ablation_no_vlm", "+rerun=x", "exp=a"]) == \
        ["exp=full,ablation_no_vlm", "+rerun=x", "exp=a"]


def test_local_parallel_launcher_composes():
    cfg = compose_cfg("hydra/launcher=local_parallel", hydra_cfg=True)
    assert "joblib" in cfg.hydra.launcher._target_.lower()
    assert cfg.hydra.launcher.n_jobs >= 1


# -- a two-job multirun --------------------------------------------------------------------

def test_multirun_gives_two_grouped_runs(sweep):
    runs = sweep["runs"]
    parents = [r for r in runs if r.data.tags.get("scenmine.role") == "sweep"]
    children = [r for r in runs if r.data.tags.get("scenmine.role") == "sweep_job"]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0].info.run_id
    assert all(r.data.tags["mlflow.parentRunId"] == parent for r in children)
    assert {r.data.tags["override.exp"] for r in children} == set(SWEEP_OVERLAYS)
    assert {r.info.run_name for r in children} == {f"exp={n}" for n in SWEEP_OVERLAYS}
    assert sorted(r.data.tags["sweep.job_num"] for r in children) == ["0", "1"]
    assert {r.data.tags["sweep.dir"] for r in children} == {str(sweep["sweep_dir"].resolve())}
    assert all(r.info.status == "FINISHED" for r in children)
    assert "hota_temporal" in children[0].data.metrics


def test_runs_carry_reproducibility_tags(sweep):
    from scenmine.hashing import file_hash as sha256_file

    run = next(r for r in sweep["runs"] if r.data.tags.get("scenmine.role") == "sweep_job")
    tags = run.data.tags
    for key in ("git.commit", "git.dirty", "version.scenmine", "version.av2", "version.numpy",
                "version.mlflow", "version.hydra", "seed", "data.log_ids_sha256",
                "data.ground_truth_sha256", "data.fewshot_library", "hydra.overrides"):
        assert tags.get(key), key
    assert tags["data.n_logs"] == "1" and tags["seed"] == "0"
    assert tags["data.ground_truth_sha256"] == sha256_file(tags["data.ground_truth_file"])
    assert tags["data.fewshot_library"] == "none"


def test_rerun_recomposes_the_logged_config(sweep):
    from scenmine import repro

    run = next(r for r in sweep["runs"] if r.data.tags.get("scenmine.role") == "sweep_job")
    cfg = compose_cfg(f"+rerun={run.info.run_id}", f"tracking.dir={sweep['tracking'].dir}")
    again = repro.recompose(cfg)
    logged = repro.load_run_config(sweep["tracking"], run.info.run_id)
    assert OmegaConf.to_container(again.dataset) == OmegaConf.to_container(logged.dataset)
    assert again.reviewer.name == logged.reviewer.name and "rerun" not in again
    with pytest.raises(repro.RerunError):
        repro.load_run_config(sweep["tracking"], "0" * 32)


def test_report_and_sweep_groups_helpers():
    from scenmine.repro import varying_overrides

    launched = ["exp=a,b", "dataset.max_logs=1", "screening.threshold=range(0.6,1.0,0.1)"]
    assert varying_overrides(["exp=a", "dataset.max_logs=1", "screening.threshold=0.7"],
                             launched) == ["exp=a", "screening.threshold=0.7"]


@pytest.mark.parametrize("name", [n for n in OFFLINE if n not in SAME_AS_FULL_OFFLINE])
def test_offline_overlay_runs(name, tmp_path, mini_root):
    screening = compose_cfg(f"exp={name}").screening
    quick_screen = ["screening.max_prompts=2"] if "max_prompts" in screening else []
    proc = run_scenmine([f"+exp={name}", *quick_args(tmp_path, mini_root), *quick_screen,
                         f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    assert (tmp_path / "run" / "submission.pkl").exists()


@pytest.mark.parametrize("name", SAME_AS_FULL_OFFLINE)
def test_technique_overlays_differ_from_full_only_by_their_switch(name):
    full, tech = compose_cfg("exp=full"), compose_cfg(f"exp={name}")
    assert OmegaConf.to_container(full.generate) != OmegaConf.to_container(tech.generate) or \
        tech.tracks.refine and not full.tracks.refine
    assert OmegaConf.to_container(full.screening) == OmegaConf.to_container(tech.screening)
