"""CodeCommit on the local target: commits, branches and files over moto's repositories.

moto knows only Create/Get/DeleteRepository; the local target keeps each repository's commits
itself (per account and region, for repositories that exist in moto) and serves the calls
users, the harness and the pipeline's Source action make. A push (CreateCommit, PutFile)
publishes the "CodeCommit Repository State Change" event of that account, as CodeCommit does
to EventBridge; every other operation falls through to moto.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness import service_models
from harness.targets.local import moto_state
from harness.targets.local.codepipeline.json_api import Handler, ServiceError, dispatch
from harness.targets.local.gateway import ServedCall, WsgiApp

Publish = Callable[[str, str, dict[str, Any]], None]
"""(account id, region, event) -> None: hands an event to the account's EventBridge."""

_DEFAULT_MODE = "NORMAL"


@dataclass(frozen=True)
class Commit:
    commit_id: str
    tree: dict[str, bytes]  # file path -> content
    modes: dict[str, str]
    parents: tuple[str, ...]
    message: str
    author: str
    email: str
    date: datetime.datetime

    @property
    def tree_id(self) -> str:
        return _sha1(repr(sorted((path, _sha1(data)) for path, data in self.tree.items())))

    def describe(self) -> dict[str, Any]:
        person = {"name": self.author, "email": self.email, "date": _git_date(self.date)}
        return {
            "commitId": self.commit_id,
            "treeId": self.tree_id,
            "parents": list(self.parents),
            "message": self.message,
            "author": person,
            "committer": person,
            "additionalData": "",
        }


@dataclass
class Repository:
    metadata: dict[str, str]
    branches: dict[str, str] = field(default_factory=dict)  # name -> head commit id
    commits: dict[str, Commit] = field(default_factory=dict)
    default_branch: str | None = None


def _sha1(data: bytes | str) -> str:
    return hashlib.sha1(data.encode() if isinstance(data, str) else data).hexdigest()


def _git_date(moment: datetime.datetime) -> str:
    return f"{int(moment.timestamp())} +0000"


class CodeCommitService:
    """The local CodeCommit: a ``LocalService`` for the gateway, and the store the pipeline's
    Source action reads a commit's files from."""

    def __init__(self, publish: Publish) -> None:
        self._publish = publish
        self._repositories: dict[tuple[str, str, str], Repository] = {}
        self._lock = threading.Lock()
        self._handlers: dict[str, Handler] = {
            "CreateCommit": self._create_commit,
            "PutFile": self._put_file,
            "GetBranch": self._get_branch,
            "ListBranches": self._list_branches,
            "GetCommit": self._get_commit,
            "GetFolder": self._get_folder,
            "GetFile": self._get_file,
        }

    def __call__(self, served: ServedCall) -> WsgiApp | None:
        return dispatch(served, service_models.service_model("codecommit"), self._handlers)

    # store -------------------------------------------------------------------------------
    def repository(self, account_id: str, region: str, name: str) -> Repository:
        """The repository's commits; raises RepositoryDoesNotExistException as CodeCommit."""
        metadata = moto_state.codecommit_repository(account_id, region, name)
        if metadata is None:
            self._repositories.pop((account_id, region, name), None)
            raise ServiceError("RepositoryDoesNotExistException", f"{name} does not exist")
        key = (account_id, region, name)
        known = self._repositories.get(key)
        if known is None or known.metadata.get("repositoryId") != metadata["repositoryId"]:
            known = self._repositories[key] = Repository(metadata)
        return known

    def files(self, account_id: str, region: str, name: str, commit_id: str) -> dict[str, bytes]:
        """The files of one commit (what CodeCommit archives for a Source action)."""
        with self._lock:
            return dict(self._commit(self.repository(account_id, region, name), commit_id).tree)

    @staticmethod
    def _commit(repository: Repository, specifier: str | None) -> Commit:
        if specifier is None:
            specifier = repository.default_branch
            if specifier is None:
                raise ServiceError("RepositoryIsEmptyException", "the repository has no commits")
        commit_id = repository.branches.get(specifier, specifier)
        commit = repository.commits.get(commit_id)
        if commit is None:
            raise ServiceError("CommitDoesNotExistException", f"commit {specifier} does not exist")
        return commit

    def _push(
        self,
        served: ServedCall,
        params: dict[str, Any],
        put: dict[str, tuple[bytes, str]],
        deleted: list[str],
    ) -> tuple[Commit, Commit | None]:
        """Add a commit on ``branchName`` (checked against ``parentCommitId``); publish it."""
        account, region = served.credential.account_id, served.call.region
        branch = params.get("branchName")
        if not branch:
            raise ServiceError("BranchNameRequiredException", "a branch name is required")
        with self._lock:
            repository = self.repository(account, region, params["repositoryName"])
            head_id = repository.branches.get(branch)
            parent_id = params.get("parentCommitId")
            if head_id is not None and parent_id is None:
                raise ServiceError(
                    "ParentCommitIdRequiredException",
                    f"branch {branch} exists: the parent commit id is required",
                )
            if head_id is not None and parent_id != head_id:
                raise ServiceError(
                    "ParentCommitIdOutdatedException",
                    f"{parent_id} is not the tip of branch {branch} ({head_id})",
                )
            parent = repository.commits.get(parent_id) if parent_id else None
            if parent_id and parent is None:
                raise ServiceError("CommitDoesNotExistException", f"{parent_id} does not exist")
            tree = dict(parent.tree) if parent else {}
            modes = dict(parent.modes) if parent else {}
            for path in deleted:
                if path not in tree:
                    raise ServiceError("FileDoesNotExistException", f"{path} does not exist")
                del tree[path], modes[path]
            for path, (content, mode) in put.items():
                tree[path], modes[path] = content, mode
            if parent is not None and tree == parent.tree and modes == parent.modes:
                raise ServiceError("NoChangeException", "the commit changes nothing")
            now = datetime.datetime.now(datetime.UTC)
            caller = served.credential.arn
            commit_id = _sha1(f"{parent_id}{sorted(tree.items())}{now.isoformat()}{uuid.uuid4()}")
            commit = Commit(
                commit_id,
                tree,
                modes,
                (parent_id,) if parent_id else (),
                params.get("commitMessage", ""),
                params.get("authorName") or params.get("name") or caller,
                params.get("email", ""),
                now,
            )
            repository.commits[commit_id] = commit
            repository.branches[branch] = commit_id
            repository.default_branch = repository.default_branch or branch
            event = _state_change(repository.metadata, branch, commit_id, head_id, caller, now)
        self._publish(account, region, event)
        return commit, parent

    # handlers ----------------------------------------------------------------------------
    def _create_commit(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        put = {
            _path(entry["filePath"]): (
                base64.b64decode(entry.get("fileContent", "")),
                entry.get("fileMode", _DEFAULT_MODE),
            )
            for entry in params.get("putFiles", [])
        }
        deleted = [_path(entry["filePath"]) for entry in params.get("deleteFiles", [])]
        commit, parent = self._push(served, params, put, deleted)
        before = parent.tree if parent else {}

        def listed(paths: list[str]) -> list[dict[str, str]]:
            return [
                {
                    "absolutePath": path,
                    "blobId": _sha1(commit.tree.get(path, before.get(path, b""))),
                    "fileMode": commit.modes.get(path, _DEFAULT_MODE),
                }
                for path in paths
            ]

        return {
            "commitId": commit.commit_id,
            "treeId": commit.tree_id,
            "filesAdded": listed([p for p in put if p not in before]),
            "filesUpdated": listed([p for p in put if p in before]),
            "filesDeleted": listed(deleted),
        }

    def _put_file(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        content = base64.b64decode(params["fileContent"])
        path = _path(params["filePath"])
        put = {path: (content, params.get("fileMode", _DEFAULT_MODE))}
        commit, _ = self._push(served, params, put, [])
        return {"commitId": commit.commit_id, "blobId": _sha1(content), "treeId": commit.tree_id}

    def _located(self, served: ServedCall, params: dict[str, Any]) -> Repository:
        return self.repository(
            served.credential.account_id, served.call.region, params["repositoryName"]
        )

    def _get_branch(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            repository = self._located(served, params)
            name = params.get("branchName", "")
            if name not in repository.branches:
                raise ServiceError("BranchDoesNotExistException", f"branch {name} does not exist")
            return {"branch": {"branchName": name, "commitId": repository.branches[name]}}

    def _list_branches(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return {"branches": sorted(self._located(served, params).branches)}

    def _get_commit(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            repository = self._located(served, params)
            commit = repository.commits.get(params["commitId"])
            if commit is None:
                raise ServiceError(
                    "CommitIdDoesNotExistException", f"{params['commitId']} does not exist"
                )
            return {"commit": commit.describe()}

    def _get_folder(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            commit = self._commit(self._located(served, params), params.get("commitSpecifier"))
        folder = _path(params["folderPath"])
        prefix = f"{folder}/" if folder else ""
        inside = [path for path in commit.tree if path.startswith(prefix)]
        if folder and not inside:
            raise ServiceError("FolderDoesNotExistException", f"{folder} does not exist")
        files, folders = [], set()
        for path in sorted(inside):
            relative = path[len(prefix) :]
            if "/" in relative:
                folders.add(relative.split("/", 1)[0])
                continue
            files.append(
                {
                    "blobId": _sha1(commit.tree[path]),
                    "absolutePath": path,
                    "relativePath": relative,
                    "fileMode": commit.modes[path],
                }
            )
        return {
            "commitId": commit.commit_id,
            "folderPath": folder or "/",
            "subFolders": [
                {"absolutePath": f"{prefix}{name}", "relativePath": name}
                for name in sorted(folders)
            ],
            "files": files,
            "symbolicLinks": [],
            "subModules": [],
        }

    def _get_file(self, served: ServedCall, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            commit = self._commit(self._located(served, params), params.get("commitSpecifier"))
        path = _path(params["filePath"])
        if path not in commit.tree:
            raise ServiceError("FileDoesNotExistException", f"{path} does not exist")
        content = commit.tree[path]
        return {
            "commitId": commit.commit_id,
            "blobId": _sha1(content),
            "filePath": path,
            "fileMode": commit.modes[path],
            "fileSize": len(content),
            "fileContent": base64.b64encode(content).decode(),
        }


def _path(path: str) -> str:
    return path.strip("/")


def _state_change(
    metadata: dict[str, str],
    branch: str,
    commit_id: str,
    old_commit_id: str | None,
    caller: str,
    now: datetime.datetime,
) -> dict[str, Any]:
    """The EventBridge event CodeCommit sends when a branch is created or moves."""
    detail: dict[str, Any] = {
        "callerUserArn": caller,
        "commitId": commit_id,
        "event": "referenceUpdated" if old_commit_id else "referenceCreated",
        "referenceFullName": f"refs/heads/{branch}",
        "referenceName": branch,
        "referenceType": "branch",
        "repositoryId": metadata["repositoryId"],
        "repositoryName": metadata["repositoryName"],
    }
    if old_commit_id:
        detail["oldCommitId"] = old_commit_id
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "CodeCommit Repository State Change",
        "source": "aws.codecommit",
        "account": metadata["accountId"],
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": metadata["Arn"].split(":")[3],
        "resources": [metadata["Arn"]],
        "detail": detail,
    }
