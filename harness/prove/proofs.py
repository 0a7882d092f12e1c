"""Proofs of templates and of deployments, and the replay cases they leave behind.

:func:`of_files` proves the infra's account templates when they are among the files, and
each other template as a fragment put into the infra (its safety properties; only results
that differ from the infra's are its own). :func:`of_target` proves what a deployment holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.allowlist import DEFAULT_ACCOUNTS, DEFAULT_OUTSIDER, load_allowlist, static_bindings
from harness.deploy import Deployment, Settings, adopt, make_target, teardown
from harness.deploy.deploy import deploy_stacks, deployer_role_arn
from harness.deploy.guardrails import Scp, attach_scps
from harness.policy.access_matrix import Allowlist, guarded_organization
from harness.proof import Document, Result, System, Verdict, prove
from harness.proof.prover import COUNTEREXAMPLES, Cache
from harness.prove.cases import Placeholders, cases, command, module
from harness.prove.deployed import deployed_system
from harness.prove.rendered import CannotRender, Location, Rendered, Renderer, statement_lines
from harness.prove.replay import Fault
from harness.prove.report import Locate, locator
from harness.render import Wiring
from harness.targets import OUTSIDER, Target
from harness.template_text import TemplateSyntaxError, decode_file

REPO_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_FILES = ("shared-services.yaml", "training.yaml", "production.yaml")
SUFFIXES = (".yaml", ".yml", ".json", ".template")
_TEMPLATE_MARK = re.compile(r"AWSTemplateFormatVersion|^Resources\s*:|\"Resources\"\s*:", re.M)
EPHEMERAL = {"local"}  # targets whose deployment ends with the process
RESULTS: Cache = {}  # this process's results, reused while what they read is unchanged
_INFRA: dict[tuple[tuple[str, Path, bytes], ...], tuple[Renderer, Allowlist]] = {}  # see _infra


def project_path(*parts: str) -> Path:
    """A file of the project: beside the package (a checkout), else under the working
    directory (an installed package run from a checkout, as the gate's env does)."""
    beside = REPO_ROOT.joinpath(*parts)
    return beside if beside.exists() else Path.cwd().joinpath(*parts)


def account_templates() -> dict[str, Path]:
    folder = project_path("infra", "templates")
    return {name.removesuffix(".yaml"): folder / name for name in ACCOUNT_FILES}


@dataclass
class Proof:
    """One proof: what was proven, its results, and how to cite and replay them."""

    source: str
    results: list[Result]
    locate: Locate
    placeholders: Placeholders
    fault: Fault = field(default_factory=Fault)
    about: tuple[Path, ...] = ()  # the files proven: the fragment, or the account templates
    locations: Mapping[str, Location] = field(default_factory=dict)  # policy -> where written
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.verdict is not Verdict.PROVEN]

    @property
    def unproven(self) -> bool:
        """Nothing could be claimed (the notes say why)."""
        return bool(self.notes) and not self.results

    def replay_module(self, path: Path) -> tuple[str, str] | None:
        """The pytest module replaying the counterexamples, and the command that runs it."""
        found = cases(self.results, self.placeholders)
        if not found:
            return None
        return module(found, self.fault, self.source, str(path)), command(found, str(path))


def _allowlist(values: dict[str, str], prefix: str) -> Allowlist:
    return load_allowlist(project_path("policies", "access", "allowlist.yaml"), values, prefix)


def _infra(templates: Mapping[str, Path]) -> tuple[Renderer, Allowlist]:
    """The renderer of the account ``templates`` and the allow-list, read once per process
    while their files are unchanged: every call of :func:`of_files` read, resolved and
    parsed them again (~55 ms)."""
    files = {**templates, "allowlist": project_path("policies", "access", "allowlist.yaml")}
    key = tuple((name, path, path.read_bytes()) for name, path in files.items())
    if key not in _INFRA:
        renderer = Renderer(templates)
        _INFRA[key] = renderer, _allowlist(static_bindings(DEFAULT_ACCOUNTS), renderer.prefix)
    return _INFRA[key]


def _templates(paths: Iterable[Path]) -> tuple[list[Path], dict[Path, str]]:
    """The templates under ``paths``, and the files that cannot be read with why: a file
    named on its own, or one that says it is a template (a policy file under a folder that
    is not YAML cfn-lint reads is no template, and no loss)."""
    found: list[tuple[Path, bool]] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            found += [(p, False) for p in files]
        elif path.is_file():
            found.append((path, True))
        else:
            raise FileNotFoundError(f"no such file or directory: {path}")
    templates, unreadable = [], {}
    for path, named in found:
        try:
            content = decode_file(path)
        except TemplateSyntaxError as error:
            if named or _TEMPLATE_MARK.search(path.read_text(errors="replace")):
                unreadable[path] = f"cannot be read: {error.problem}"
            continue
        if isinstance(content, dict) and isinstance(content.get("Resources"), dict):
            templates.append(path)
    return templates, unreadable


def _shown(path: Path) -> str:
    """A path as people read it: relative to the working directory where it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _fault(rendered: Rendered, names: Placeholders) -> Fault:
    """The key, bucket and trust policies a fragment sets."""
    system, overlay = rendered.system, rendered.overlay
    located = {name for name, where in rendered.locations.items() if where.file == overlay}

    def mine(document):  # the document, if the fragment wrote it
        return names(document.text) if document is not None and document.name in located else None

    trusts = {names(r.arn): mine(r.trust) for r in system.roles if r.trust.name in located}
    return Fault(mine(system.key_policy), mine(system.bucket_policy), trusts)


def guarded(system: System, scps: Sequence[Scp], accounts: Mapping[str, str]) -> System:
    """``system`` under ``scps``, attached to B and C as ``harness run --scp`` attaches them
    (:func:`guarded_organization`)."""
    if not scps:
        return system
    documents = tuple(Document(scp.policy.name, scp.content) for scp in scps)
    policies = [d.policy for d in documents]
    organization = guarded_organization(accounts["A"], [accounts["B"], accounts["C"]], policies)
    return replace(system, organization=organization, scps=documents)


def scp_locations(scps: Sequence[Scp]) -> dict[str, Location]:
    """Where each SCP's statements are written, for findings that cite them."""
    found = {}
    for scp in scps:
        decoded = decode_file(scp.path)  # read_scp has checked it is JSON
        found[scp.policy.name] = Location(scp.path, 1, statement_lines(decoded))
    return found


def _proof(
    rendered: Rendered,
    allowlist: Allowlist,
    accounts: Sequence[str],
    cache: Cache,
    only: Iterable[str],
    limit: int,
    scps: Sequence[Scp] = (),
) -> Proof:
    rendered.system = guarded(rendered.system, scps, DEFAULT_ACCOUNTS)
    rendered.locations |= scp_locations(scps)
    names = Placeholders(rendered.bindings, "mlops")
    results = prove(rendered.system, allowlist, accounts, cache=cache, only=only, limit=limit)
    source = " + ".join(_shown(p) for p in rendered.files)
    if rendered.overlay is not None:
        source = f"{_shown(rendered.overlay)} put into the infra"
    fault = _fault(rendered, names) if rendered.overlay is not None else Fault()
    locate = locator(rendered.system, rendered.locations)
    about = (rendered.overlay,) if rendered.overlay else rendered.files
    return Proof(source, results, locate, names, fault, about, rendered.locations)


def _unproven(path: Path, why: str) -> Proof:
    """A file nothing could be claimed of, and why."""
    return Proof(
        _shown(path), [], lambda _ref: None, Placeholders({}, "mlops"), about=(path,), notes=[why]
    )


def of_files(
    paths: Iterable[Path],
    cache: Cache | None = None,
    only: Iterable[str] = (),
    limit: int = COUNTEREXAMPLES,
    scps: Sequence[Scp] = (),
) -> list[Proof]:
    """Proofs of the templates under ``paths`` (see the module docstring); ``limit``
    counterexamples per failing property, under ``scps`` (:func:`guarded`). Results are
    kept in ``cache`` (by default, for the process: the infra's properties are proven once
    however many calls prove fragments put into it)."""
    templates, unreadable = _templates(paths)
    proofs = [_unproven(path, why) for path, why in unreadable.items()]
    if not templates:
        return proofs
    renderer, allowlist = _infra(account_templates())
    accounts = [*DEFAULT_ACCOUNTS.values(), DEFAULT_OUTSIDER]
    cache = RESULTS if cache is None else cache
    base = _proof(renderer.infra(), allowlist, accounts, cache, only, limit, scps)
    verdicts = {(r.property.id, r.variant): r.verdict for r in base.results}
    if any(p.resolve() in renderer.base_files for p in templates):
        proofs.append(base)
    for path in templates:
        if path.resolve() in renderer.base_files:
            continue
        try:
            rendered = renderer.with_fragment(path)
        except CannotRender as error:
            proofs.append(_unproven(path, str(error)))
            continue
        if rendered is None:
            continue
        proof = _proof(rendered, allowlist, accounts, cache, only, limit, scps)
        proof.results = [
            r
            for r in proof.results
            if r.verdict != verdicts.get((r.property.id, r.variant), Verdict.PROVEN)
        ]
        proofs.append(proof)
    return proofs


def _deployment(target: Target, settings: Settings, progress: Callable[[str], None]) -> Deployment:
    """The stacks of a fresh deployment (an ephemeral target), else the one on the target."""
    if target.name not in EPHEMERAL:
        return adopt(target, settings)
    deployers = {account: deployer_role_arn(target, account) for account in settings.accounts}
    outputs = deploy_stacks(target, settings, deployers, progress)
    wiring = Wiring.from_outputs(settings.wiring_settings, outputs)
    return Deployment(settings, outputs, wiring, deployers)


def of_target(
    name: str,
    prefix: str | None,
    progress: Callable[[str], None],
    only: Iterable[str] = (),
    scps: Sequence[Scp] = (),
) -> Proof:
    """The proof of the deployment on target ``name`` (made for the purpose, and torn down,
    on an ephemeral target, with ``scps`` attached before deploy as ``harness run --scp``
    attaches them, and proven under them)."""
    with make_target(name, **({"organization": True} if scps else {})) as target:
        settings = Settings.for_target(target, prefix)
        if scps:
            attach_scps(target, list(scps))
        try:
            deployment = _deployment(target, settings, progress)
            progress("reading the key, bucket and role policies of the deployment")
            system = deployed_system(target, deployment)
        finally:
            if target.name in EPHEMERAL:
                teardown(target, settings, progress)
    accounts = settings.accounts
    letters = {"A": "shared-services", "B": "training", "C": "production"}
    by_letter = {letter: accounts[role] for letter, role in letters.items()}
    by_letter["Outsider"] = accounts.get(OUTSIDER, DEFAULT_OUTSIDER)
    deployers = {f"Deployer{k}": deployment.deployer_arns[r] for k, r in letters.items()}
    allowlist = _allowlist(by_letter | deployers, settings.prefix)
    system = guarded(system, scps, by_letter)
    results = prove(system, allowlist, list(accounts.values()), only=only)
    bound = {system.key_arn: "${KeyArn}", system.bucket: "${Bucket}"}
    bound |= {value: f"${{{letter}}}" for letter, value in by_letter.items()}
    names = Placeholders(bound, settings.prefix)
    locate = locator(system, scp_locations(scps))
    return Proof(f"the deployment {settings.prefix} on {name}", results, locate, names)
