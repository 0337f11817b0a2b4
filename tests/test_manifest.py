"""Apply the rules of hassfest, the HACS action and HA's brands and quality scale to our files."""

# Neither validator runs here, so their rules are written down below, each next to where it comes
# from (home-assistant/core script/hassfest/*, hacs/integration custom_components/hacs/validate/*
# and utils/validate.py, home-assistant/brands README, developers.home-assistant quality scale),
# as of November 2026. When a validator changes, change the constant and say where from.

from __future__ import annotations

import ast
from collections.abc import Callable
import functools
import importlib.metadata
import json
import os
from pathlib import Path
import re
import tomllib
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionException, AwesomeVersionStrategy
import homeassistant
from homeassistant.const import Platform
from homeassistant.helpers import selector
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from PIL import Image
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
INTEGRATION = ROOT / "custom_components" / "home_guardian"
HA_COMPONENTS = Path(homeassistant.__file__).parent / "components"

# The oldest Home Assistant we support: hacs.json must claim exactly what the suite tests.
# requirements_test.txt pins pytest-homeassistant-custom-component, which pins Home Assistant.
OLDEST_HA = "2025.4.4"
PHCC_PINS = {"0.13.236": "2025.4.4"}

# hassfest manifest.py: INTEGRATION_MANIFEST_SCHEMA extended by CUSTOM_INTEGRATION_MANIFEST_SCHEMA,
# both PREVENT_EXTRA.
MANIFEST_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "preview_features",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
LIST_OF_STRINGS_KEYS = ("after_dependencies", "codeowners", "dependencies", "loggers", "mqtt")
STRING_KEYS = ("disabled", "documentation", "domain", "issue_tracker", "name", "version")
BOOL_KEYS = ("config_flow", "import_executor", "single_config_entry")
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
# "virtual" is for Home Assistant Core only.
INTEGRATION_TYPES = {"device", "entity", "hardware", "helper", "hub", "service", "system"}
QUALITY_SCALES = {
    "bronze",
    "silver",
    "gold",
    "platinum",
    "custom",
    "no_score",
    "internal",
    "legacy",
}
CORE_DOCUMENTATION = "https://www.home-assistant.io/integrations"
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# GitHub users (@name) and teams (@org/team), as CODEOWNERS spells them.
CODEOWNER = re.compile(r"^@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:/[A-Za-z0-9_.-]+)?$")

# hassfest dependencies.py: components anyone may import without declaring them.
ALLOWED_USED_COMPONENTS = {
    *(platform.value for platform in Platform),
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
    "mjpeg",
    "stream",
}

# hassfest requirements.py FORBIDDEN_PACKAGES, and packages with no musllinux wheels that HA OS
# (Alpine, musl) would have to build from source, which fails there.
FORBIDDEN_REQUIREMENTS = {
    "async-timeout": "use asyncio.timeout",
    "codecov": "it is not a runtime dependency",
    "mkdocs": "it is not a runtime dependency",
    "pyserial-asyncio": "use pyserial-asyncio-fast",
    "pytest": "it is not a runtime dependency",
    "setuptools": "it is not a runtime dependency",
    "sphinx": "it is not a runtime dependency",
    "wheel": "it is not a runtime dependency",
    "opencv-python": "it has no musl wheels, so it cannot install on HA OS",
    "opencv-python-headless": "it has no musl wheels, so it cannot install on HA OS",
    "opencv-contrib-python": "it has no musl wheels, so it cannot install on HA OS",
    "opencv-contrib-python-headless": "it has no musl wheels, so it cannot install on HA OS",
    "dlib": "it has no wheels and needs a C++ toolchain, so it cannot install on HA OS",
    "face-recognition": "it needs dlib, which cannot install on HA OS",
    "mediapipe": "it has no musl wheels, so it cannot install on HA OS",
    "onnxruntime": "it has no musl wheels, so it cannot install on HA OS",
    "tensorflow": "it has no musl wheels, so it cannot install on HA OS",
    "torch": "it has no musl wheels, so it cannot install on HA OS",
}

# hacs/integration utils/validate.py HACS_MANIFEST_JSON_SCHEMA (PREVENT_EXTRA) and
# INTEGRATION_MANIFEST_JSON_SCHEMA (what HACS requires of manifest.json).
HACS_JSON_TYPES: dict[str, type | tuple[type, ...]] = {
    "content_in_root": bool,
    "country": (str, list),
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
    "name": str,
}
HACS_MANIFEST_REQUIRED = (
    "codeowners",
    "documentation",
    "domain",
    "issue_tracker",
    "name",
    "version",
)

# Since HA 2026.3 an integration's brand/ folder serves these (developers.home-assistant.io blog
# 2026-02-24); sizes from the home-assistant/brands README: icons square 256 px (512 px @2x),
# logos with their shortest side 128 to 256 px (256 to 512 px @2x).
BRAND_IMAGES = {
    f"{dark}{kind}{hidpi}.png"
    for dark in ("", "dark_")
    for kind in ("icon", "logo")
    for hidpi in ("", "@2x")
}

# hassfest quality_scale.py ALL_RULES, by tier (docs-conditions and docs-triggers joined bronze
# in July 2026). A platinum claim needs every one of them done or exempt.
QUALITY_SCALE_RULES = {
    "bronze": {
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    },
    "silver": {
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    },
    "gold": {
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    },
    "platinum": {"async-dependency", "inject-websession", "strict-typing"},
}
TIERS = ("bronze", "silver", "gold", "platinum")
ALL_RULES = set().union(*QUALITY_SCALE_RULES.values())
ACTION_RULES = ("action-setup", "action-exceptions", "docs-actions")
# hassfest runtime_data.py: the typed config entry alias every entry point must use.
TYPED_ENTRY = re.compile(r"^[A-Za-z][A-Za-z0-9]+ConfigEntry$")
TYPED_ENTRY_FUNCTIONS = {
    "__init__": (
        "async_migrate_entry",
        "async_remove_config_entry_device",
        "async_remove_entry",
        "async_setup_entry",
        "async_unload_entry",
    ),
    "diagnostics": ("async_get_config_entry_diagnostics", "async_get_device_diagnostics"),
    **{platform.value: ("async_setup_entry",) for platform in Platform},
}
REGISTERS_ACTIONS = re.compile(
    r"hass\.services\.(?:async_)?register|async_register_entity_service|"
    r"async_register_admin_service"
)


@functools.cache
def manifest() -> dict[str, Any]:
    """Return custom_components/home_guardian/manifest.json."""
    return json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))


@functools.cache
def hacs_json() -> dict[str, Any]:
    """Return hacs.json."""
    return json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))


@functools.cache
def english() -> dict[str, Any]:
    """Return translations/en.json."""
    return json.loads((INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8"))


@functools.cache
def services() -> dict[str, Any]:
    """Return services.yaml, or nothing when the integration has no actions."""
    path = INTEGRATION / "services.yaml"
    if not path.exists():
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@functools.cache
def quality_scale() -> dict[str, Any]:
    """Return the rules of quality_scale.yaml."""
    data = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "quality_scale.yaml must be a mapping with one key, rules"
    assert set(data) == {"rules"}, "quality_scale.yaml must have exactly one top-level key, rules"
    return data["rules"]


def rule_status(rule: str) -> str | None:
    """Return a rule's status in quality_scale.yaml: done, exempt, todo, or None if absent."""
    value = quality_scale().get(rule)
    return value.get("status") if isinstance(value, dict) else value


def module(name: str) -> ast.Module:
    """Return the parsed source of one of the integration's modules."""
    return ast.parse((INTEGRATION / f"{name}.py").read_text(encoding="utf-8"))


def top_level_function(tree: ast.Module, name: str) -> ast.AsyncFunctionDef | None:
    """Return a module's top-level async function of that name."""
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef) and node.name == name:
            return node
    return None


def calls(tree: ast.AST, method: str) -> bool:
    """Return whether the code calls a method or attribute of that name."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        for node in ast.walk(tree)
    )


def is_url(value: object, *, schemes: tuple[str, ...] = ("http", "https")) -> bool:
    """Return whether a value is an absolute URL with one of the schemes, like vol.Url()."""
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in schemes and bool(parsed.netloc)


def package_name(line: str) -> str | None:
    """Return the canonical package name of a requirement line, or None for other lines."""
    line = line.split("#", 1)[0].strip()
    if not line or line.startswith("-"):
        return None
    try:
        return canonicalize_name(Requirement(line).name)
    except InvalidRequirement:
        return None


@functools.cache
def packages_home_assistant_ships() -> frozenset[str]:
    """Return the packages Home Assistant installs itself (its requirements and constraints)."""
    constraints = Path(homeassistant.__file__).parent / "package_constraints.txt"
    names = {package_name(line) for line in constraints.read_text(encoding="utf-8").splitlines()}
    names |= {package_name(line) for line in importlib.metadata.requires("homeassistant") or []}
    return frozenset(name for name in names if name)


# manifest.json


def test_manifest_has_only_keys_hassfest_knows() -> None:
    """hassfest rejects any key its custom integration schema does not list."""
    unknown = set(manifest()) - MANIFEST_KEYS
    assert not unknown, f"manifest.json: remove keys hassfest does not allow: {sorted(unknown)}"


def test_manifest_values_have_the_right_types() -> None:
    """Each manifest key has the type hassfest's schema asks for."""
    data = manifest()
    for key in (*LIST_OF_STRINGS_KEYS, "requirements"):
        if key in data:
            value = data[key]
            assert isinstance(value, list), f"manifest.json: {key} must be a list"
            assert all(isinstance(item, str) for item in value), f"{key}: list strings only"
    for key in STRING_KEYS:
        if key in data:
            assert isinstance(data[key], str), f"manifest.json: {key} must be a string"
    for key in BOOL_KEYS:
        if key in data:
            assert isinstance(data[key], bool), f"manifest.json: {key} must be true or false"


def test_manifest_keys_are_sorted() -> None:
    """hassfest wants domain, then name, then the other keys in alphabetical order."""
    keys = list(manifest())
    wanted = ["domain", "name", *sorted(key for key in keys if key not in {"domain", "name"})]
    assert keys == wanted, f"manifest.json: order the keys as {wanted}"


def test_manifest_has_the_keys_hassfest_and_hacs_require() -> None:
    """Custom integrations need a version; HACS also needs the issue tracker and code owners."""
    required = {"domain", "name", "documentation", "codeowners", "version", "iot_class"}
    missing = (required | set(HACS_MANIFEST_REQUIRED)) - set(manifest())
    assert not missing, f"manifest.json: add {sorted(missing)}"


def test_domain_is_the_folder_name_and_not_a_core_integration() -> None:
    """The domain names the folder, and no integration of Home Assistant has the same."""
    domain = manifest()["domain"]
    assert domain == INTEGRATION.name, f"manifest.json: domain must be {INTEGRATION.name!r}"
    assert not (HA_COMPONENTS / domain).exists(), f"{domain} collides with a core integration"


def test_version_is_one_awesomeversion_accepts() -> None:
    """Home Assistant refuses to load a custom integration whose version it cannot parse."""
    version = manifest()["version"]
    try:
        AwesomeVersion(version, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException:
        pytest.fail(f"manifest.json: version {version!r} is not CalVer, SemVer or PEP 440")


def test_documentation_and_issue_tracker_are_urls() -> None:
    """Documentation is an https URL of our own docs; the issue tracker is a URL too."""
    data = manifest()
    assert is_url(data["documentation"], schemes=("https",)), "documentation: use an https URL"
    assert not data["documentation"].startswith(CORE_DOCUMENTATION), (
        "documentation: point at this repository, not Home Assistant's integration pages"
    )
    assert is_url(data["issue_tracker"]), "issue_tracker: use the URL of the repository's issues"


def test_codeowners_are_github_handles() -> None:
    """A silver or better integration has code owners, written @user or @org/team."""
    owners = manifest()["codeowners"]
    assert owners, "manifest.json: codeowners must name at least one GitHub @handle"
    bad = [owner for owner in owners if not CODEOWNER.match(owner)]
    assert not bad, f"manifest.json: codeowners must be GitHub @handles, not {bad}"


def test_iot_class_and_integration_type_are_known() -> None:
    """iot_class and integration_type take one of the values hassfest lists."""
    data = manifest()
    assert data["iot_class"] in IOT_CLASSES, f"iot_class must be one of {sorted(IOT_CLASSES)}"
    kind = data.get("integration_type", "hub")
    assert kind in INTEGRATION_TYPES, f"integration_type must be one of {sorted(INTEGRATION_TYPES)}"


def test_quality_scale_is_a_known_tier() -> None:
    """The manifest's quality_scale is one hassfest knows."""
    scale = manifest().get("quality_scale")
    assert scale is None or scale in QUALITY_SCALES, f"quality_scale: one of {QUALITY_SCALES}"


def test_config_flow_matches_config_flow_py() -> None:
    """config_flow is true exactly when config_flow.py exists."""
    has_file = (INTEGRATION / "config_flow.py").is_file()
    assert manifest().get("config_flow", False) == has_file, (
        "manifest.json: set config_flow to true when config_flow.py exists, and only then"
    )


def test_dependencies_are_sorted_real_integrations() -> None:
    """Dependencies are sorted, unique, exist in Home Assistant and are not after-dependencies."""
    data = manifest()
    dependencies = data.get("dependencies", [])
    assert dependencies == sorted(set(dependencies)), "dependencies: sort them, without repeats"
    missing = [name for name in dependencies if not (HA_COMPONENTS / name).is_dir()]
    assert not missing, f"dependencies: {missing} are not integrations of Home Assistant"
    both = set(dependencies) & set(data.get("after_dependencies", []))
    assert not both, f"{sorted(both)} are in both dependencies and after_dependencies"


def test_imported_integrations_are_declared() -> None:
    """Code imports another integration only if the manifest depends on it (hassfest's rule)."""
    data = manifest()
    allowed = (
        ALLOWED_USED_COMPONENTS
        | set(data.get("dependencies", []))
        | set(data.get("after_dependencies", []))
        | {data["domain"]}
        | {path.stem for path in INTEGRATION.glob("*.py")}
    )
    undeclared: dict[str, str] = {}
    for path in sorted(INTEGRATION.rglob("*.py")):
        for domain in imported_integrations(ast.parse(path.read_text(encoding="utf-8"))):
            if domain not in allowed:
                undeclared[domain] = str(path.relative_to(INTEGRATION))
    assert not undeclared, (
        f"add these to dependencies or after_dependencies in manifest.json: {undeclared}"
    )


class IntegrationImports(ast.NodeVisitor):
    """Collect the integrations a module imports, outside TYPE_CHECKING blocks, as hassfest does."""

    def __init__(self) -> None:
        """Start with none found."""
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        """Skip imports made for type checkers only."""
        if getattr(node.test, "id", None) != "TYPE_CHECKING":
            self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """Note `from homeassistant.components(.x) import ...`."""
        if node.module and node.module.startswith("homeassistant.components."):
            self.found.add(node.module.split(".")[2])
        elif node.module == "homeassistant.components":
            self.found.update(alias.name for alias in node.names)

    def visit_Import(self, node: ast.Import) -> None:
        """Note `import homeassistant.components.x`."""
        self.found.update(
            alias.name.split(".")[2]
            for alias in node.names
            if alias.name.startswith("homeassistant.components.")
        )


def imported_integrations(tree: ast.Module) -> set[str]:
    """Return the integrations a module imports, outside TYPE_CHECKING blocks."""
    collector = IntegrationImports()
    collector.visit(tree)
    return collector.found


def test_requirements_are_well_formed() -> None:
    """Each requirement is one pip requirement without spaces, as hassfest checks."""
    for line in manifest().get("requirements", []):
        assert " " not in line, f"requirements: {line!r} contains a space"
        assert package_name(line), f"requirements: {line!r} is not a pip requirement"


def test_requirements_do_not_pin_what_home_assistant_ships() -> None:
    """A == pin of a package Home Assistant ships breaks installs whenever HA moves it."""
    shipped = packages_home_assistant_ships()
    pinned = [
        line
        for line in manifest().get("requirements", [])
        if "==" in line and package_name(line) in shipped
    ]
    assert not pinned, f"requirements: Home Assistant ships these, drop the == pin: {pinned}"


def test_requirements_install_on_every_home_assistant() -> None:
    """No requirement that hassfest forbids, nor one without musl wheels for HA OS."""
    bad = {
        line: FORBIDDEN_REQUIREMENTS[name]
        for line in manifest().get("requirements", [])
        if (name := package_name(line)) in FORBIDDEN_REQUIREMENTS
    }
    assert not bad, f"requirements: remove {bad}"


def test_repository_holds_one_integration() -> None:
    """HACS manages one integration per repository and hassfest validates every manifest.json."""
    folders = [path.name for path in (ROOT / "custom_components").iterdir() if path.is_dir()]
    assert folders == [INTEGRATION.name], f"custom_components must hold only {INTEGRATION.name}"
    skipped = {".git", "node_modules", "__pycache__", "config"}
    manifests = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = [d for d in subfolders if d not in skipped and not d.startswith(".venv")]
        manifests += [Path(folder, name) for name in files if name == "manifest.json"]
    assert manifests == [INTEGRATION / "manifest.json"], (
        f"only the integration may have a manifest.json; rename {manifests}"
    )


# hacs.json


def test_hacs_json_has_only_keys_hacs_allows() -> None:
    """HACS rejects hacs.json keys it does not know, and wants a name."""
    data = hacs_json()
    unknown = set(data) - set(HACS_JSON_TYPES)
    assert not unknown, f"hacs.json: remove keys HACS does not allow: {sorted(unknown)}"
    assert isinstance(data.get("name"), str), "hacs.json: name is required"
    for key, value in data.items():
        assert isinstance(value, HACS_JSON_TYPES[key]), f"hacs.json: {key} has the wrong type"
    assert not data.get("zip_release") or data.get("filename"), "zip_release needs a filename"


def test_hacs_json_names_the_oldest_tested_home_assistant() -> None:
    """hacs.json's minimum Home Assistant is the version the suite's oldest run installs."""
    minimum = hacs_json().get("homeassistant")
    assert minimum == OLDEST_HA, (
        f"hacs.json: set homeassistant to {OLDEST_HA!r}, the oldest version the suite tests"
    )
    assert AwesomeVersion(minimum).strategy != AwesomeVersionStrategy.UNKNOWN


def test_oldest_home_assistant_is_what_requirements_test_pins() -> None:
    """requirements_test.txt pins the pytest plugin that installs OLDEST_HA."""
    pins = {
        name: line.split("==", 1)[1].strip()
        for line in (ROOT / "requirements_test.txt").read_text(encoding="utf-8").splitlines()
        if (name := package_name(line)) and "==" in line
    }
    plugin = pins.get("pytest-homeassistant-custom-component")
    assert plugin, "requirements_test.txt: pin pytest-homeassistant-custom-component with =="
    assert PHCC_PINS.get(plugin) == OLDEST_HA, (
        f"pytest-homeassistant-custom-component {plugin} is pinned: add the Home Assistant version "
        "it requires to PHCC_PINS, and make OLDEST_HA and hacs.json agree"
    )
    if importlib.metadata.version("pytest-homeassistant-custom-component") == plugin:
        requires = importlib.metadata.requires("pytest-homeassistant-custom-component") or []
        assert f"homeassistant=={OLDEST_HA}" in requires, f"{plugin} does not pin {OLDEST_HA}"


# Brand images


@pytest.mark.parametrize("name", sorted(BRAND_IMAGES))
def test_brand_image_exists_as_png(name: str) -> None:
    """Every brand image Home Assistant looks for is there, a PNG in RGB colours."""
    path = INTEGRATION / "brand" / name
    assert path.is_file(), f"brand/{name} is missing"
    with Image.open(path) as image:
        assert image.format == "PNG", f"brand/{name} must be a PNG"
        assert image.mode in {"RGB", "RGBA"}, f"brand/{name}: save it as RGB(A), not {image.mode}"


def test_brand_folder_holds_only_brand_images() -> None:
    """Home Assistant serves only the known names; any other file in brand/ is a typo."""
    extra = {path.name for path in (INTEGRATION / "brand").iterdir()} - BRAND_IMAGES
    assert not extra, f"brand/: rename or remove {sorted(extra)}"


@pytest.mark.parametrize("name", sorted(name for name in BRAND_IMAGES if "icon" in name))
def test_brand_icon_size(name: str) -> None:
    """Icons are square: 256 by 256 pixels, 512 by 512 for @2x."""
    side = 512 if "@2x" in name else 256
    with Image.open(INTEGRATION / "brand" / name) as image:
        assert image.size == (side, side), f"brand/{name} must be {side}x{side}, not {image.size}"


@pytest.mark.parametrize("name", sorted(name for name in BRAND_IMAGES if "logo" in name))
def test_brand_logo_size(name: str) -> None:
    """A logo's shortest side is 128 to 256 pixels, 256 to 512 for @2x."""
    low, high = (256, 512) if "@2x" in name else (128, 256)
    with Image.open(INTEGRATION / "brand" / name) as image:
        shortest = min(image.size)
        assert low <= shortest <= high, (
            f"brand/{name}: its shortest side is {shortest} px; make it {low} to {high} px"
        )


# Translations and actions


def test_english_translation_exists() -> None:
    """translations/en.json holds the texts; a config flow needs its config section."""
    texts = english()
    assert isinstance(texts, dict), "translations/en.json must be a JSON object"
    if manifest().get("config_flow"):
        assert "config" in texts, "translations/en.json: add the config flow's texts (config)"


def test_actions_are_described_in_services_yaml() -> None:
    """Code that registers actions comes with a services.yaml (hassfest's services check)."""
    registers = any(
        REGISTERS_ACTIONS.search(path.read_text(encoding="utf-8"))
        for path in INTEGRATION.rglob("*.py")
    )
    if registers:
        assert (INTEGRATION / "services.yaml").is_file(), "add services.yaml for the actions"


def test_services_yaml_is_well_formed() -> None:
    """Each action is a slug with fields whose keys and selectors Home Assistant accepts."""
    allowed = {"advanced", "default", "description", "example", "filter", "name", "required"}
    for action, schema in services().items():
        assert re.fullmatch(r"[a-z0-9_]+", action), f"services.yaml: {action!r} is not a slug"
        if schema is None:
            continue
        unknown = set(schema) - {"description", "fields", "name", "target"}
        assert not unknown, f"services.yaml: {action} has unknown keys {unknown}"
        for field, spec in (schema.get("fields") or {}).items():
            fields = spec.get("fields", {field: spec}) if isinstance(spec, dict) else {}
            for name, field_spec in fields.items():
                unknown = set(field_spec) - allowed - {"selector"}
                assert not unknown, f"services.yaml: {action}.{name} has unknown keys {unknown}"
                if "selector" in field_spec:
                    try:
                        selector.validate_selector(field_spec["selector"])
                    except Exception as err:  # noqa: BLE001 - HA's schema library may change
                        pytest.fail(f"services.yaml: {action}.{name} has a bad selector: {err}")


def test_every_action_is_translated() -> None:
    """Each action and field has a name and description in en.json, and no stale ones remain."""
    translated = english().get("services", {})
    for action, schema in services().items():
        text = translated.get(action, {})
        assert text.get("name"), f"en.json: add services.{action}.name"
        assert text.get("description"), f"en.json: add services.{action}.description"
        for field, spec in ((schema or {}).get("fields") or {}).items():
            if isinstance(spec, dict) and "fields" in spec:
                continue
            field_text = text.get("fields", {}).get(field, {})
            assert field_text.get("name"), f"en.json: add services.{action}.fields.{field}.name"
            assert field_text.get("description"), (
                f"en.json: add services.{action}.fields.{field}.description"
            )
        for spec in ((schema or {}).get("fields") or {}).values():
            key = (((spec or {}).get("selector") or {}).get("select") or {}).get("translation_key")
            if key:
                assert key in english().get("selector", {}), f"en.json: add selector.{key}"
    stale = set(translated) - set(services())
    assert not stale, f"en.json: remove services {sorted(stale)}, which services.yaml lacks"


def test_every_action_has_an_icon() -> None:
    """Each action has an icon in icons.json (icon-translations)."""
    icons = json.loads((INTEGRATION / "icons.json").read_text(encoding="utf-8"))
    missing = set(services()) - set(icons.get("services", {}))
    assert not missing, f"icons.json: add services.<action>.service icons for {sorted(missing)}"


# quality_scale.yaml


def test_quality_scale_file_backs_the_manifest_claim() -> None:
    """A manifest that claims a tier has a quality_scale.yaml."""
    if manifest().get("quality_scale") in TIERS:
        assert (INTEGRATION / "quality_scale.yaml").is_file(), "add quality_scale.yaml"


def test_quality_scale_lists_every_rule() -> None:
    """quality_scale.yaml names each rule of the quality scale, and nothing else."""
    rules = set(quality_scale())
    assert not ALL_RULES - rules, f"quality_scale.yaml: add {sorted(ALL_RULES - rules)}"
    assert not rules - ALL_RULES, f"quality_scale.yaml: unknown rules {sorted(rules - ALL_RULES)}"


def test_quality_scale_entries_have_hassfests_shape() -> None:
    """Each rule is todo or done, or a mapping of status and comment; exempt needs a comment."""
    for rule, value in quality_scale().items():
        if isinstance(value, dict):
            assert set(value) <= {"status", "comment"}, f"{rule}: only status and comment"
            assert value.get("status") in {"todo", "done", "exempt"}, f"{rule}: bad status"
            comment = value.get("comment")
            assert isinstance(comment, str), f"{rule}: a status mapping needs a comment"
            assert comment.strip(), f"{rule}: say why in the comment"
        else:
            assert value in {"todo", "done"}, f"{rule}: write exempt as status and comment"


def test_every_rule_of_the_claimed_tier_is_met() -> None:
    """The claimed tier and every tier below it have all rules done or exempt."""
    claimed = manifest().get("quality_scale")
    if claimed not in TIERS:
        pytest.skip(f"the manifest claims no scaled tier ({claimed})")
    needed = set().union(*(QUALITY_SCALE_RULES[t] for t in TIERS[: TIERS.index(claimed) + 1]))
    unmet = sorted(rule for rule in needed if rule_status(rule) not in {"done", "exempt"})
    assert not unmet, f"{claimed} needs these done, or exempt with a reason: {unmet}"


def test_action_rules_are_not_exempt_when_there_are_actions() -> None:
    """Once services.yaml defines actions, the action rules apply and cannot be exempt."""
    if not services():
        pytest.skip("the integration has no actions")
    exempt = [rule for rule in ACTION_RULES if rule_status(rule) == "exempt"]
    assert not exempt, f"quality_scale.yaml: the integration has actions; do {exempt}"


def check_config_flow() -> str | None:
    """Return what the config-flow rule misses, as hassfest checks it."""
    if not manifest().get("config_flow") or not (INTEGRATION / "config_flow.py").is_file():
        return "set config_flow in manifest.json and implement config_flow.py"
    return None


def check_runtime_data() -> str | None:
    """Return what runtime-data misses: entry.runtime_data set, typed entries when strict."""
    setup = top_level_function(module("__init__"), "async_setup_entry")
    if setup is None or len(setup.args.args) != 2:
        return "__init__.py needs async_setup_entry(hass, entry)"
    entry = setup.args.args[1].arg
    if not any(
        isinstance(node, ast.Attribute)
        and getattr(node.value, "id", None) == entry
        and node.attr == "runtime_data"
        and isinstance(node.ctx, ast.Store)
        for node in ast.walk(setup)
    ):
        return "async_setup_entry must set entry.runtime_data"
    if rule_status("strict-typing") == "done":
        untyped = untyped_entry_arguments()
        if untyped:
            return f"with strict-typing, annotate the config entry with the typed alias: {untyped}"
    return None


def untyped_entry_arguments() -> list[str]:
    """Return entry points whose config entry argument lacks a <Name>ConfigEntry annotation."""
    untyped = []
    for name, functions in TYPED_ENTRY_FUNCTIONS.items():
        if not (INTEGRATION / f"{name}.py").is_file():
            continue
        tree = module(name)
        for function in functions:
            node = top_level_function(tree, function)
            if node and not annotated_with_typed_entry(node.args.args, 2):
                untyped.append(f"{name}.py {function}")
    untyped.extend(
        "config_flow.py async_get_options_flow"
        for node in ast.walk(module("config_flow"))
        if isinstance(node, ast.FunctionDef)
        and node.name == "async_get_options_flow"
        and not annotated_with_typed_entry(node.args.args, 1)
    )
    return untyped


def annotated_with_typed_entry(arguments: list[ast.arg], position: int) -> bool:
    """Return whether the argument at a 1-based position is annotated <Name>ConfigEntry."""
    if len(arguments) < position:
        return False
    annotation = arguments[position - 1].annotation
    return isinstance(annotation, ast.Name) and bool(TYPED_ENTRY.match(annotation.id))


def check_test_before_setup() -> str | None:
    """Return what test-before-setup misses: a first refresh or a ConfigEntry* raise."""
    setup = top_level_function(module("__init__"), "async_setup_entry")
    if setup and calls(setup, "async_config_entry_first_refresh"):
        return None
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                if getattr(raised, "id", None) in {
                    "ConfigEntryNotReady",
                    "ConfigEntryAuthFailed",
                    "ConfigEntryError",
                }:
                    return None
    return "raise ConfigEntryNotReady/AuthFailed/Error when setup cannot reach the device"


def check_unique_config_entry() -> str | None:
    """Return what unique-config-entry misses: the flow must refuse duplicates."""
    flow = module("config_flow")
    if manifest().get("single_config_entry") or calls(flow, "_async_abort_entries_match"):
        return None
    if calls(flow, "async_set_unique_id") and calls(flow, "_abort_if_unique_id_configured"):
        return None
    return "config_flow.py must abort when the same device is added twice"


def check_step(step: str) -> Callable[[], str | None]:
    """Return a check that config_flow.py defines async_step_<step>."""

    def check() -> str | None:
        """Return what the flow misses."""
        if any(
            isinstance(node, ast.AsyncFunctionDef) and node.name == f"async_step_{step}"
            for node in ast.walk(module("config_flow"))
        ):
            return None
        return f"config_flow.py must define async_step_{step}"

    return check


def check_diagnostics() -> str | None:
    """Return what diagnostics misses: diagnostics.py with config entry diagnostics."""
    if not (INTEGRATION / "diagnostics.py").is_file():
        return "add diagnostics.py"
    if top_level_function(module("diagnostics"), "async_get_config_entry_diagnostics") is None:
        return "diagnostics.py must define async_get_config_entry_diagnostics"
    return None


def check_parallel_updates() -> str | None:
    """Return the entity platforms that do not set PARALLEL_UPDATES."""
    missing = []
    for platform in Platform:
        path = INTEGRATION / f"{platform.value}.py"
        if path.is_file() and not any(
            isinstance(node, ast.Assign | ast.AnnAssign)
            and "PARALLEL_UPDATES" in ast.unparse(node).split("=")[0]
            for node in module(platform.value).body
        ):
            missing.append(path.name)
    return f"set PARALLEL_UPDATES in {missing}" if missing else None


def check_strict_typing() -> str | None:
    """Return what strict-typing misses: mypy --strict over the integration in pyproject.toml."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mypy = pyproject.get("tool", {}).get("mypy", {})
    if not mypy.get("strict"):
        return "pyproject.toml: set strict = true under [tool.mypy]"
    if "custom_components/home_guardian" not in mypy.get("files", []):
        return "pyproject.toml: let [tool.mypy] files cover custom_components/home_guardian"
    return None


# The rules whose "done" hassfest checks in code (quality_scale_validation/*), checked the same way.
RULE_CHECKS: dict[str, Callable[[], str | None]] = {
    "config-flow": check_config_flow,
    "runtime-data": check_runtime_data,
    "test-before-setup": check_test_before_setup,
    "unique-config-entry": check_unique_config_entry,
    "reauthentication-flow": check_step("reauth"),
    "reconfiguration-flow": check_step("reconfigure"),
    "diagnostics": check_diagnostics,
    "parallel-updates": check_parallel_updates,
    "strict-typing": check_strict_typing,
}


@pytest.mark.parametrize("rule", sorted(RULE_CHECKS))
def test_rule_marked_done_is_done_in_code(rule: str) -> None:
    """A rule marked done passes the check hassfest runs for it."""
    if rule_status(rule) != "done":
        pytest.skip(f"{rule} is not marked done")
    problem = RULE_CHECKS[rule]()
    assert problem is None, f"{rule} is marked done, but: {problem}"
