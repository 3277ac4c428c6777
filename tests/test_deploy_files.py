"""Static checks of the deploy files (deploy/): no Docker engine or cluster runs here.

What a user's first `docker compose up` or `helm install` would trip over is checked from
the files themselves: the YAML parses, every service, volume and network referenced exists,
every ${VAR} has its line in .env.example, every environment variable the processes read in
production is handed to them (the list is derived from assistant/settings.py, rasa_addons/,
credentials.yml and endpoints.production.yml, so a new setting fails here until it is
wired), the Dockerfiles copy only what the build context holds, and the Helm chart renders
and lints with Helm's own engine (`make helm-tools`; skipped with a message without it).
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.settings import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
CHART = DEPLOY / "helm" / "shop-assistant"
HELM_PYTHON = PROJECT_ROOT / "var" / "helm-tools" / "bin" / "python"
PRODUCTION_ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"
ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# ${VAR}, ${VAR:-default}, ${VAR:?message}, ${VAR-default}; "$${...}" is a literal dollar in Compose.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")
APP_SERVICES = ("migrate", "actions", "web", "tools")
SECRETS = {name: f"test-{name.lower()}" for name in (
    "SHOP_STORE_SECRET", "RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "GATEWAY_TOKEN", "SHOP_WEB_SECRET",
    "SHOP_STOREFRONT_KEY",
)}


# --- what the processes read ---------------------------------------------------------------------

def settings_variables() -> set[str]:
    """Every environment name in assistant/settings.py, the one module that reads the app's environment."""
    tree = ast.parse((PROJECT_ROOT / "assistant" / "settings.py").read_text())
    return {
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value)
    }


def _environ_reads(path: Path) -> set[str]:
    """Names read with os.environ.get / os.environ[...] / os.getenv in one module (constants resolved)."""
    tree = ast.parse(path.read_text())
    constants = {
        target.id: node.value.value
        for node in tree.body if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }

    def name_of(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    def is_environ(node: ast.expr) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if (node.func.attr == "get" and is_environ(node.func.value)) or node.func.attr == "getenv":
                found.add(name_of(node.args[0]))
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            found.add(name_of(node.slice))
    return {name for name in found if name}


def _uncommented_references(path: Path) -> set[str]:
    """${VAR}s of a Rasa YAML file outside comments (Rasa expands only those)."""
    lines = (line.split("#", 1)[0] for line in path.read_text().splitlines())
    return {name for line in lines for name in INTERPOLATION.findall(line)}


def rasa_variables() -> set[str]:
    """What the Rasa process reads: its endpoints and credentials files and our code running inside it."""
    if not PRODUCTION_ENDPOINTS.exists():
        pytest.skip("endpoints.production.yml (the production profile's Rasa endpoints) is not in this tree yet")
    names = _uncommented_references(PRODUCTION_ENDPOINTS) | _uncommented_references(PROJECT_ROOT / "credentials.yml")
    for module in sorted((PROJECT_ROOT / "rasa_addons").glob("*.py")):
        names |= _environ_reads(module)
    return names


# --- Compose -------------------------------------------------------------------------------------

@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for key, value in node.items() for text in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return [node] if isinstance(node, str) else []


def env_example_names() -> set[str]:
    """The variables .env.example assigns (NAME=value lines)."""
    return {m.group(1) for m in re.finditer(r"^([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE)}


def service_environment(service: str) -> set[str]:
    environment = compose()["services"][service].get("environment", {})
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def test_compose_references_only_what_it_defines() -> None:
    spec = compose()
    services = spec["services"]
    assert {"postgres", "redis", "rabbitmq", "rasa", "actions", "web", "loadbalancer", "migrate"} <= set(services)
    for name, service in services.items():
        depends = service.get("depends_on", {})
        for dependency in depends if isinstance(depends, list) else depends.keys():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                assert source in spec.get("volumes", {}), f"{name} mounts undeclared volume {source}"
            elif source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts {source}, missing beside compose.yaml"
        if "build" in service:
            build = service["build"]
            assert (DEPLOY / build["context"]).resolve() == PROJECT_ROOT, f"{name} builds from outside the repository root"
            assert (PROJECT_ROOT / build["dockerfile"]).is_file(), f"{name} builds from missing {build['dockerfile']}"
        networks = service.get("networks", [])
        for network in networks if isinstance(networks, list) else networks.keys():
            assert network in spec.get("networks", {}), f"{name} joins undeclared network {network}"


def test_app_services_wait_for_the_migration() -> None:
    services = compose()["services"]
    for name in ("actions", "rasa", "web"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    assert services["migrate"]["command"] == ["shop-assistant", "db", "migrate"]


def test_every_running_service_has_a_health_check() -> None:
    """Long-running services have a health check; one-shots (migrate, tools) are waited for by exit code."""
    for name, service in compose()["services"].items():
        one_shot = service.get("restart") == "no" or "profiles" in service
        assert one_shot or service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_only_the_load_balancer_publishes_ports() -> None:
    published = {name for name, service in compose()["services"].items() if service.get("ports")}
    assert published == {"loadbalancer"}


def test_every_compose_variable_is_documented_in_env_example() -> None:
    used = {name for text in _strings(compose()) for name in INTERPOLATION.findall(text)}
    missing = used - env_example_names()
    assert not missing, f"deploy/.env.example lacks {sorted(missing)}"


def test_compose_hands_every_setting_to_the_application_processes() -> None:
    wanted = settings_variables()
    assert {"SHOP_DATABASE_URL", "SHOP_STORE_SECRET", "SHOP_WEB_SECRET"} <= wanted  # the derivation itself works
    for service in APP_SERVICES:
        missing = wanted - service_environment(service)
        assert not missing, f"compose service {service} lacks {sorted(missing)} (read by assistant/settings.py)"


def test_compose_hands_rasa_what_it_reads() -> None:
    missing = rasa_variables() - service_environment("rasa")
    assert not missing, f"compose service rasa lacks {sorted(missing)}"


def test_secrets_are_required_not_defaulted() -> None:
    """A secret is `${NAME:?...}` in Compose: missing in the env file, Compose refuses to start."""
    texts = _strings(compose())
    for name in (*SECRETS, "POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD"):
        uses = [text for text in texts if f"${{{name}" in text]
        assert uses, name
        assert all(f"${{{name}:?" in text for text in uses), f"{name} must be required: {uses}"


def test_the_env_file_is_never_committed_nor_sent_to_a_build() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=PROJECT_ROOT, check=False)
    assert ignored.returncode == 0, "deploy/.env must be in .gitignore"
    assert _docker_ignored("deploy/.env") and _docker_ignored(".env")


@pytest.mark.skipif(shutil.which("haproxy") is None, reason="haproxy is not installed (make test installs it with apt-get)")
def test_haproxy_configuration_is_valid() -> None:
    check = subprocess.run(
        ["haproxy", "-c", "-f", str(DEPLOY / "haproxy" / "haproxy.cfg")], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


# --- Dockerfiles ---------------------------------------------------------------------------------

def _docker_ignored(path: str) -> bool:
    """Whether .dockerignore leaves ``path`` out of the build context (last matching rule wins)."""
    ignored = False
    for rule in (PROJECT_ROOT / ".dockerignore").read_text().splitlines():
        rule = rule.strip()
        if not rule or rule.startswith("#"):
            continue
        negated = rule.startswith("!")
        pattern = rule.lstrip("!").rstrip("/")
        parts = Path(path).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
               for prefix in prefixes):
            ignored = not negated
    return ignored


def makefile_artifacts() -> set[str]:
    """Paths the Makefile builds (``NAME := relative/path`` of a target), e.g. the trained model."""
    text = (PROJECT_ROOT / "Makefile").read_text()
    return set(re.findall(r"^[A-Z_]+ := ((?:models|var)/\S+)$", text, re.MULTILINE))


def copy_sources(dockerfile: Path) -> list[str]:
    sources: list[str] = []
    for line in re.sub(r"\\\n", " ", dockerfile.read_text()).splitlines():
        words = line.split()
        if words and words[0] == "COPY" and not any(word.startswith("--from") for word in words):
            sources += [word for word in words[1:-1] if not word.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", ["app.Dockerfile", "rasa.Dockerfile"])
def test_dockerfiles_copy_what_the_build_context_holds(dockerfile: str) -> None:
    built = makefile_artifacts()
    for source in copy_sources(DEPLOY / dockerfile):
        made_by_make = any(artifact == source or artifact.startswith(source.rstrip("/") + "/") for artifact in built)
        if source == "endpoints.production.yml" and not PRODUCTION_ENDPOINTS.exists():
            continue  # the production profile's file; rasa_variables() skips with the reason
        assert (PROJECT_ROOT / source).exists() or made_by_make, f"{dockerfile} copies {source}, which nothing provides"
        assert not _docker_ignored(source), f"{dockerfile} copies {source}, which .dockerignore leaves out"


def test_images_pin_their_python_and_install_with_hashes() -> None:
    app = (DEPLOY / "app.Dockerfile").read_text()
    rasa = (DEPLOY / "rasa.Dockerfile").read_text()
    assert "FROM python:3.11-slim" in app and "FROM python:3.10-slim" in rasa
    assert "--require-hashes" in app and "-r requirements.lock" in app and "whl/cpu" in app
    assert "--require-hashes -r requirements-rasa.lock" in rasa
    for text in (app, rasa):
        assert re.search(r"^USER 10001$", text, re.MULTILINE), "images run as a non-root user"


# --- Helm ----------------------------------------------------------------------------------------

def helm(command: str, values: dict[str, Any]) -> dict[str, Any]:
    """Run tools/helm_chart.py (Helm's Go engine) in var/helm-tools; skip when it is not installed."""
    if not HELM_PYTHON.exists():
        pytest.skip("Helm's SDK is not installed: run `make helm-tools` (make test does) to render and lint the chart")
    result = subprocess.run(
        [str(HELM_PYTHON), str(PROJECT_ROOT / "tools" / "helm_chart.py"), command, str(CHART),
         "--values-json", json.dumps(values)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def rendered(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The chart's manifests as documents, with secrets given."""
    answer = helm("render", {"secrets": SECRETS} | (values or {}))
    assert "error" not in answer, answer.get("error")
    return [
        document for path, text in answer["manifests"].items() if path.endswith(".yaml")
        for document in yaml.safe_load_all(text) if document
    ]


def workload(documents: list[dict[str, Any]], kind: str, component: str) -> dict[str, Any]:
    matches = [d for d in documents if d["kind"] == kind and d["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert len(matches) == 1, f"{kind} {component}: {len(matches)} found"
    return matches[0]


def container_environment(documents: list[dict[str, Any]], pod_spec: dict[str, Any]) -> set[str]:
    """Names a pod's first container gets: env entries and the keys of the Secrets it takes whole."""
    container = pod_spec["containers"][0]
    names = {item["name"] for item in container.get("env", [])}
    secrets = {d["metadata"]["name"]: d for d in documents if d["kind"] == "Secret"}
    for source in container.get("envFrom", []):
        names |= set(secrets[source["secretRef"]["name"]]["data"])
    return names


def test_chart_lints_clean() -> None:
    report = helm("lint", {"secrets": SECRETS})
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report["errors"]
    assert not problems, problems


def test_chart_renders_every_part() -> None:
    documents = rendered()
    kinds = {(d["kind"], d["metadata"]["labels"].get("app.kubernetes.io/component")) for d in documents}
    for component in ("rasa", "actions", "web"):
        assert ("Deployment", component) in kinds and ("Service", component) in kinds
        assert ("HorizontalPodAutoscaler", component) in kinds
        spec = workload(documents, "Deployment", component)["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == container["livenessProbe"]["httpGet"]["path"]
        assert container["resources"]["requests"]["cpu"]
        assert spec["securityContext"]["runAsNonRoot"] is True
    assert {"Ingress", "Secret", "ConfigMap", "Job", "PersistentVolumeClaim"} <= {d["kind"] for d in documents}
    job = workload(documents, "Job", "migrate")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["shop-assistant", "db", "migrate"]


def test_chart_hands_every_setting_to_the_application_pods() -> None:
    documents = rendered({"cronJobs": {"nudge": {"enabled": True, "schedule": "*/10 * * * *", "args": ["nudge", "run"]}}})
    wanted = settings_variables()
    pods = {
        component: workload(documents, kind, component)["spec"]["template"]["spec"]
        for kind, component in (("Deployment", "web"), ("Deployment", "actions"), ("Job", "migrate"))
    }
    for component in ("tracker-prune", "nudge"):
        pods[component] = workload(documents, "CronJob", component)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pods["nudge"]["containers"][0]["args"] == ["shop-assistant", "nudge", "run"]
    for component, pod in pods.items():
        missing = wanted - container_environment(documents, pod)
        assert not missing, f"{component} lacks {sorted(missing)} (read by assistant/settings.py)"


def test_chart_hands_rasa_what_it_reads() -> None:
    documents = rendered()
    names = container_environment(documents, workload(documents, "Deployment", "rasa")["spec"]["template"]["spec"])
    missing = rasa_variables() - names
    assert not missing, f"the Rasa Deployment lacks {sorted(missing)}"


def test_chart_refuses_to_render_without_secrets() -> None:
    answer = helm("render", {})
    assert "secrets.SHOP_STORE_SECRET" in answer.get("error", ""), answer


def test_chart_with_an_existing_secret_creates_none() -> None:
    documents = rendered({"secrets": {}, "existingSecret": "shop-secrets"})
    assert "Secret" not in [d["kind"] for d in documents]
    web = workload(documents, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    assert {item["valueFrom"]["secretKeyRef"]["name"] for item in web["env"] if "valueFrom" in item} == {"shop-secrets"}


def test_chart_pulls_the_model_from_a_model_server_when_asked() -> None:
    documents = rendered({"rasa": {"model": {"url": "https://models.shop.example/current.tar.gz"}}})
    spec = workload(documents, "Deployment", "rasa")["spec"]["template"]["spec"]
    assert spec["initContainers"][0]["name"] == "fetch-model"
    args = spec["containers"][0]["args"]
    assert args[args.index("--model") + 1] == "/models/current.tar.gz"
    default = workload(rendered(), "Deployment", "rasa")["spec"]["template"]["spec"]
    assert "initContainers" not in default


def test_ingress_never_exposes_the_gateway_channel() -> None:
    documents = rendered({"ingress": {"enabled": True, "hosts": ["a.example"], "rasaWebhookPaths": ["/webhooks/telegram/webhook"]}})
    ingress = next(d for d in documents if d["kind"] == "Ingress")
    backends = {p["path"]: p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert backends["/"].endswith("-web") and backends["/webhooks/telegram/webhook"].endswith("-rasa")
    refused = helm("render", {"secrets": SECRETS, "ingress": {"rasaWebhookPaths": ["/webhooks/gateway/webhook"]}})
    assert "gateway channel" in refused.get("error", ""), refused
