"""Comments and docstrings give the reason, not an issue number: a reader of the code has no tracker
open, and "(issue 16, finding 6)" says nothing that "so a stranger cannot learn who is registered" does."""
import re
import subprocess

from testkit.server import REPO

CODE = (".py", ".js", ".html", ".css", ".cfg", ".toml", ".sh")
THIS = "tests/test_comments.py"  # its own examples quote citations
CITATION = re.compile(r"\b(issue|finding)s? ?#?\d+|\(#\d+\)", re.IGNORECASE)


def test_no_code_or_test_cites_an_issue_number():
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    cited = []
    for name in files.split():
        if not name.endswith(CODE) or "/assets/" in name or name == THIS or not (REPO / name).is_file():
            continue
        for number, line in enumerate((REPO / name).read_text(encoding="utf-8").splitlines(), 1):
            if CITATION.search(line):
                cited.append(f"{name}:{number}: {line.strip()}")
    assert cited == []


def test_the_check_sees_the_forms_used_before():
    for line in ("# (issue 16, finding 6)", '"""Issue 12: the green', "// see #17 (#17)", "findings 1 and 2"):
        assert CITATION.search(line), line
    assert not CITATION.search('fill="#000"') and not CITATION.search("a finding of the inspection")
