"""The deployment recipe's files (deploy/) agree with each other and keep secrets out: what Docker Compose, the
Helm chart and the instance would each only discover at start-up on a cluster, checked here without an engine.
(The instance itself runs on a real PostgreSQL server in test_postgres_instance.py.)"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
DEPLOY = ROOT / "deploy"
PG_VARS = ["DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"]
SECRETS = [
    "DAGSTER_PG_PASSWORD",
    "HIGHLEVEL_TOKEN",
    "HIGHLEVEL_CLIENT_SECRET",
    "SENDOWL_KEY",
    "SENDOWL_SECRET",
    "SENDAPP_API_KEY",
    "SENDAPP_CHANNEL_TOKEN",
    "ETL_ALERT_WEBHOOK_URL",
]
PER_LOCATION = {"key": "etl/location", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}


def load(name: str) -> Any:
    return yaml.safe_load((DEPLOY / name).read_text())


def keys(tree: Any) -> Iterator[str]:
    """Every mapping key in a parsed YAML tree."""
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield str(key)
            yield from keys(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from keys(item)


@pytest.fixture(scope="module")
def instance() -> dict[str, Any]:
    return load("dagster.yaml")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load("docker-compose.yml")


@pytest.fixture(scope="module")
def helm() -> dict[str, Any]:
    return load("helm/values.yaml")


def test_the_instance_reads_postgres_from_the_environment_and_limits_runs_per_location(
    instance: dict[str, Any],
) -> None:
    db = instance["storage"]["postgres"]["postgres_db"]
    fields = {k: v for k, v in db.items() if k != "scheme"}
    names = ["hostname", "port", "username", "password", "db_name"]
    assert fields == {name: {"env": var} for name, var in zip(names, PG_VARS, strict=True)}
    runs = instance["concurrency"]["runs"]
    assert PER_LOCATION in runs["tag_concurrency_limits"]
    assert runs["max_concurrent_runs"] > 1  # locations run side by side
    assert instance["concurrency"]["pools"]["default_limit"] == instance["concurrency"]["runs"]["max_concurrent_runs"]
    # Dagster refuses limits in both the run coordinator and `concurrency`.
    queued = instance["run_coordinator"]["config"]
    assert not {"max_concurrent_runs", "tag_concurrency_limits"} & set(queued)
    assert instance["telemetry"] == {"enabled": False}


def test_compose_keeps_every_secret_in_the_environment(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        for key in set(SECRETS) & set(env):
            assert re.fullmatch(r"\$\{" + key + r"(:[-?][^}]*)?\}", env[key]), f"{name}: {key} is not from the env"
    assert compose["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${DAGSTER_PG_PASSWORD:?")
    helm_keys = set(keys(load("helm/values.yaml")))
    assert not helm_keys & {*SECRETS, "postgresqlPassword"}  # Kubernetes Secrets hold them


def test_run_containers_get_what_the_daemon_passes_on(compose: dict[str, Any], instance: dict[str, Any]) -> None:
    """DockerRunLauncher copies each listed variable from the daemon and refuses to start a run when one is
    missing; runs join the compose network and mount the data volume by their fixed names."""
    launcher = instance["run_launcher"]
    assert launcher["class"] == "DockerRunLauncher"
    daemon, user_code = compose["services"]["daemon"], compose["services"]["user_code"]
    missing = [v for v in launcher["config"]["env_vars"] if v not in daemon["environment"]]
    assert not missing, f"the daemon lacks {missing}"
    assert set(PG_VARS) <= set(launcher["config"]["env_vars"])
    # The location registry is in PostgreSQL: the runs and the code server's sensors reach it from any machine.
    for service in (daemon, user_code):
        assert service["environment"]["ETL_REGISTRY"] == "postgres" and set(PG_VARS) <= set(service["environment"])
    assert launcher["config"]["network"] == compose["networks"]["dagster"]["name"]
    (volume,) = launcher["config"]["container_kwargs"]["volumes"]
    name, target = volume.split(":")
    assert compose["volumes"]["etl-data"]["name"] == name and target == "/data"
    for service in (daemon, user_code):
        assert f"etl-data:{target}" in service["volumes"]
    assert any(v.startswith("/var/run/docker.sock:") for v in daemon["volumes"])
    # The code server's image is the runs' image, and the workspace points at the code server.
    assert "DAGSTER_CURRENT_IMAGE" in user_code["environment"]
    (location,) = load("workspace.yaml")["load_from"]
    command = user_code["command"]
    assert location["grpc_server"]["host"] == "user_code"
    assert str(location["grpc_server"]["port"]) == command[command.index("-p") + 1]
    assert command[command.index("-m") + 1] == "etl_project.definitions"


def test_the_image_installs_the_launcher_the_recipe_uses() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert re.search(r"^ARG LAUNCHER=docker$", dockerfile, re.M) and {"docker", "k8s"} <= set(extras)
    assert extras["docker"][0].startswith("dagster-docker") and extras["k8s"][0].startswith("dagster-k8s")
    ignore = [line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines() if line.startswith("!")]
    for line in re.findall(r"^COPY (.+) \S+$", dockerfile, re.M):
        for source in line.split():
            assert (ROOT / source).exists(), source
            assert f"!{source}" in ignore or f"!{source}/" in ignore, f"{source} is not in the build context"


def test_helm_values_match_the_instance(helm: dict[str, Any], instance: dict[str, Any]) -> None:
    assert helm["runLauncher"]["type"] == "K8sRunLauncher"
    assert helm["postgresql"]["enabled"] is False and "postgresqlPassword" not in helm["postgresql"]
    assert helm["generatePostgresqlPasswordSecret"] is False and helm["global"]["postgresqlSecretName"]
    assert helm["postgresql"]["postgresqlScheme"] == instance["storage"]["postgres"]["postgres_db"]["scheme"]
    runs = instance["concurrency"]["runs"]
    assert helm["concurrency"]["enabled"] is True
    assert helm["concurrency"]["runs"] == {
        "maxConcurrentRuns": runs["max_concurrent_runs"],
        "tagConcurrencyLimits": runs["tag_concurrency_limits"],
    }
    assert helm["concurrency"]["pools"] == {"defaultLimit": instance["concurrency"]["pools"]["default_limit"]}
    # The chart's `QueuedRunCoordinator` type writes `max_concurrent_runs: -1` beside `concurrency`, and Dagster refuses
    # that instance: the same queue, named as a custom class, without limits of its own.
    coordinator = helm["dagsterDaemon"]["runCoordinator"]
    assert coordinator["type"] == "CustomRunCoordinator"
    queued = coordinator["config"]["customRunCoordinator"]
    assert (queued["module"], queued["class"]) == (instance["run_coordinator"]["module"], "QueuedRunCoordinator")
    assert not {"max_concurrent_runs", "tag_concurrency_limits"} & set(queued["config"])
    assert queued["config"]["dequeue_num_workers"] == instance["run_coordinator"]["config"]["dequeue_num_workers"]
    # Step logs where the Docker instance keeps them, on the shared volume, which the UI mounts to read them.
    logs = helm["computeLogManager"]["config"]["customComputeLogManager"]
    assert logs == instance["compute_logs"]
    assert {m["mountPath"] for m in helm["dagsterWebserver"]["volumeMounts"]} == {"/data"}
    assert helm["telemetry"] == {"enabled": False}


def test_helm_runs_mount_the_shared_data_claim(helm: dict[str, Any]) -> None:
    (deployment,) = helm["dagster-user-deployments"]["deployments"]
    assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}  # runs inherit volumes, env, Secrets
    (volume,) = deployment["volumes"]
    (mount,) = deployment["volumeMounts"]
    assert mount == {"name": volume["name"], "mountPath": "/data"}
    claim = load("helm/data-pvc.yaml")
    assert volume["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert not set(SECRETS) & set(deployment["env"]) and deployment["envSecrets"]
    # Every machine reads and writes the location registry: in PostgreSQL, not in SQLite on the shared volume.
    assert deployment["env"]["ETL_REGISTRY"] == "postgres" and "DAGSTER_PG_PASSWORD" not in deployment["env"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "etl_project.definitions"]


def test_docker_compose_accepts_the_files() -> None:
    """`docker compose config` needs no engine; skipped where the compose plugin is not installed."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI")
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    env = {**os.environ, "DAGSTER_PG_PASSWORD": "unused", "ETL_NFS_SERVER": "nfs.invalid", "ETL_NFS_EXPORT": "/x"}
    files = [arg for name in ("docker-compose.yml", "docker-compose.nfs.yml") for arg in ("-f", str(DEPLOY / name))]
    command = ["docker", "compose", *files]
    done = subprocess.run([*command, "config", "--quiet"], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    env.pop("DAGSTER_PG_PASSWORD")
    refused = subprocess.run([*command, "config", "--quiet"], env=env, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "DAGSTER_PG_PASSWORD" in refused.stderr
