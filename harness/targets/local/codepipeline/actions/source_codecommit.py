"""Source / CodeCommit: the branch head's files (or the commit StartPipelineExecution named
in ``sourceRevisions``), zipped as the output artifact.

The branch and commit are read through the gateway as the action's role (the pipeline role),
so its CodeCommit permissions decide; the files then come from the repository's store, as
CodeCommit archives a commit for the pipeline itself.
"""

from __future__ import annotations

from harness.targets.local.codepipeline.actions.base import ActionContext, ActionOutcome
from harness.targets.local.codepipeline.waits import ActionFailed


def run(context: ActionContext) -> ActionOutcome:
    repository = context.configuration["RepositoryName"]
    branch = context.configuration["BranchName"]
    codecommit = context.client("codecommit")
    commit_id = context.execution.source_revisions.get(context.run.name)
    if commit_id is None:
        head = codecommit.get_branch(repositoryName=repository, branchName=branch)
        commit_id = head["branch"]["commitId"]
    commit = codecommit.get_commit(repositoryName=repository, commitId=commit_id)["commit"]
    files = context.codecommit.files(
        context.account_id, codecommit.meta.region_name, repository, commit_id
    )
    if not context.outputs:
        raise ActionFailed("JobFailed", "a Source action needs an output artifact")
    message = commit.get("message", "")
    return ActionOutcome(
        summary=message,
        files={context.outputs[0].name: files},
        variables={
            "CommitId": commit_id,
            "BranchName": branch,
            "RepositoryName": repository,
            "CommitMessage": message,
            "AuthorDate": commit["author"]["date"],
            "CommitterDate": commit["committer"]["date"],
        },
        external_id=commit_id,
        revision={
            "name": context.outputs[0].name,
            "revisionId": commit_id,
            "revisionChangeIdentifier": commit_id,
            "revisionSummary": message,
            "actionName": context.run.name,
        },
    )
