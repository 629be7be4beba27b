"""Evasion attempts against the risk rules, each run for real.

Every attempt below changes the filesystem when bash runs it: it runs in a temporary
directory, with HOME inside it and PATH holding only local programs (no network
client but curl on file:// URLs), and the test snapshots the directory tree (paths,
types, sizes, modes, mtimes, contents) before and after. An attempt that changed
anything must not be labelled read-only. Each attempt must change something: one that
no longer does is a broken case, not a pass. A few read-only controls run the same way
and must change nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runbook.execution.risk import classify
from tests.waiting import wait_until

TOOLS = """bash sh touch sed awk mawk sort env xargs find tee cp mv ln mkdir rmdir rm dd truncate
cat echo ls grep head tail uniq tr wc cut nice nohup timeout stdbuf setsid ionice chrt taskset flock
printf true false basename dirname readlink sleep split csplit gzip tar install mktemp mkfifo
link unlink date curl perl chmod test yes seq git""".split()

SUBSTITUTION = [
    'echo "$(touch x)"',
    "ls `touch x`",
    'echo "`touch x`"',
    "echo $(touch x)",
    "X=$(touch x)",
    'X="$(touch x)"',
    'export X="$(touch x)"',
    'local_x=$(touch x); echo "$local_x"',
    'echo "${UNSET:-$(touch x)}"',
    'echo "${PWD:+$(touch x)}"',
    "echo ${UNSET:=$(touch x)}",
    "echo $(( $(touch x; echo 1) + 1 ))",
    "cat <(touch x)",
    "diff <(touch x) <(true)",
    "wc -c <(touch x)",
    "a[$(touch x)]=1",
    'declare "y=$(touch x)"',
    'test -n "$(touch x)"',
    '[ -n "$(touch x)" ]',
    "[[ -n $(touch x) ]]",
    'printf "%s" "$(touch x)"',
    "echo $(echo $(touch x))",
    'echo "$(echo "$(touch x)")"',
    "echo `echo \\`touch x\\``",
    "cat <<EOF\n$(touch x)\nEOF",
    "cat <<-EOF\n\t`touch x`\n\tEOF",
    "for i in $(touch x); do echo $i; done",
    'case "$(touch x)" in *) echo;; esac',
    "ls $(touch x)/",
    'echo "a $(touch x) b"',
    "(echo $(touch x))",
    "{ echo $(touch x); }",
    'true && echo "$(touch x)"',
    'false || echo "$(touch x)"',
    "echo $(mkdir d)",
    "echo $(cp f g)",
    "echo $(sed -i s/a/b/ f)",
    "ls -l $(rm -f f)",
    "grep x $(touch x) f",
    "cat f > /dev/null$(touch x)",
]

WRAPPERS = [
    "env touch x",
    "env -i touch x",
    "env A=1 touch x",
    "env -u HOME touch x",
    "env -- touch x",
    "env -S 'touch x'",
    "nice touch x",
    "nice -n 5 touch x",
    "nohup touch x",
    "timeout 5 touch x",
    "timeout -s KILL 5 touch x",
    "timeout --preserve-status 5 touch x",
    "stdbuf -oL touch x",
    "setsid touch x",
    "ionice -c3 touch x",
    "taskset -c 0 touch x",
    "flock lock true",
    "command touch x",
    "(exec touch x)",
    "builtin eval 'touch x'",
    "time touch x",
    "xargs touch <<< x",
    "echo x | xargs touch",
    "echo x | xargs -n1 touch",
    "printf 'x\\0' | xargs -0 touch",
    "echo x | xargs -I{} touch {}",
    "echo x | xargs -I % sh -c 'touch %'",
    "xargs -a list touch",
    "echo f | xargs -I{} cp {} {}.bak",
    "echo f | xargs rm",
    "echo '-o out f' | xargs sort",
    "echo -i | xargs sed s/a/b/ f",
    "env nice timeout 5 touch x",
    "nice env touch x",
    "timeout 5 env A=b sh -c 'touch x'",
    "env bash -c 'touch x'",
    "nohup sh -c 'touch x' >/dev/null 2>&1",
    "env PATH=/usr/bin:/bin touch x",
]

SHELLS_AND_EVAL = [
    "bash -c 'touch x'",
    "sh -c 'touch x'",
    "bash -lc 'touch x'",
    "bash -ec 'touch x'",
    "bash -x -c 'touch x' 2>/dev/null",
    "bash -o pipefail -c 'touch x'",
    'sh -c "touch x"',
    "bash -c 'ls; touch x'",
    "bash -c 'bash -c \"touch x\"'",
    "bash <<< 'touch x'",
    "echo 'touch x' | bash",
    "echo 'touch x' | sh",
    "bash -s <<EOF\ntouch x\nEOF",
    "bash script.sh",
    "sh script.sh",
    "sh < script.sh",
    "bash < script.sh",
    "source script.sh",
    ". ./script.sh",
    "eval 'touch x'",
    'eval "touch x"',
    'eval "$(echo touch x)"',
    "trap 'touch x' EXIT",
    "source <(echo touch x)",
    ". /dev/stdin <<< 'touch x'",
    "BASH_ENV=script.sh bash -c true",
    "PATH=bin:$PATH ls",
    "export PATH=bin:$PATH; ls",
    "shopt -s expand_aliases\nalias ls=touch\nls x",
    "ls() { touch x; }; ls",
    "function cat { touch x; }; cat",
    "f() { touch x; }\nf",
    "hash -p /usr/bin/touch ls; ls x",
    "T=touch; $T x",
    'set -- touch x; "$@"',
    'a=(touch x); "${a[@]}"',
    "$(echo touch) x",
    "`echo touch` x",
    "IFS=,; c=touch,x; $c",
    "{touch,x}",
]

INTERPRETERS = [
    "awk 'BEGIN{system(\"touch x\")}'",
    "awk 'BEGIN { system(\"touch x\") }'",
    'awk \'BEGIN{print "a" > "out"}\'',
    'awk \'BEGIN{print "a" >> "out"}\'',
    'awk \'BEGIN{printf "a" > "out"}\'',
    "awk '{print > \"out\"}' f",
    "awk '{print $0 > $1}' f",
    'awk \'BEGIN{print "touch x" | "sh"}\'',
    "awk 'BEGIN{\"touch x\" | getline}'",
    "awk 'BEGIN{cmd=\"touch x\"; cmd | getline; close(cmd)}'",
    "awk -v c='touch x' 'BEGIN{system(c)}'",
    "awk -f prog.awk",
    'P=\'BEGIN{system("touch x")}\'; awk "$P"',
    "mawk 'BEGIN{system(\"touch x\")}'",
    "awk -F: 'BEGIN{system(\"touch x\")}'",
    "echo | awk '{system(\"touch x\")}'",
    "sed '1e touch x' f",
    "sed -n '1e touch x' f",
    "sed 's/.*/touch x/e' f",
    "sed 'w out' f",
    "sed -n 'w out' f",
    "sed 's/a/b/w out' f",
    "sed 's/a/b/gw out' f",
    "sed -n '/a/w out' f",
    "sed 'W out' f",
    "sed '$!N;w out' f",
    "sed -e 'p' -e 'w out' f",
    "sed --expression='w out' f",
    "sed -ne 'w out' f",
    "sed -n -e 'p;w out' f",
    "sed -Ene 's/a/b/w out' f",
    "sed -n '/a/{w out\n}' f",
    "sed -E 's/(a)/\\1/w out' f",
    "sed -i 's/a/b/' f",
    "sed -i.bak 's/a/b/' f",
    "sed -ibak 's/a/b/' f",
    "sed --in-place 's/a/b/' f",
    "sed --in-place=.orig 's/a/b/' f",
    "sed -ni 'p' f",
    "sed -n -i p f",
    "sed -e p -i f",
    "sed -s -i p f",
    "sed -f prog.sed f",
    "perl -e 'open(F, \">x\")'",
    "perl -pi -e 's/a/b/' f",
    "perl -e 'system \"touch x\"'",
    "perl -e 'mkdir \"d\"'",
    "perl -ne 'BEGIN{open F, \">x\"}' f",
    'python3 -c \'open("x", "w")\'',
    "python3 -c \"import os; os.mkdir('d')\"",
    "python3 -c 'import pathlib; pathlib.Path(\"x\").touch()'",
    'echo \'open("x","w")\' | python3',
    "python3 - <<'EOF'\nopen('x', 'w')\nEOF",
]

OUTPUT_OPTIONS = [
    "sort -o out f",
    "sort f -o out",
    "sort --output=out f",
    "sort --output out f",
    "sort -uo out f",
    "sort -no out f",
    "sort -o f f",
    "sort -r -o out f",
    "uniq f out",
    "uniq -c f out",
    "tee out < f",
    "cat f | tee out",
    "cat f | tee -a out",
    "tee -- out < f",
    "cat f | tee /dev/null out",
    "curl -s -o out file://$PWD/f",
    "curl -so out file://$PWD/f",
    "curl -sSLo out file://$PWD/f",
    "curl --output out file://$PWD/f",
    "curl --output=out file://$PWD/f 2>/dev/null || curl -s -o out file://$PWD/f",
    "curl -sO file://$PWD/sub/g",
    "curl -s --remote-name file://$PWD/sub/g",
    "curl -s --trace tr file://$PWD/f >/dev/null",
    "curl -s --trace-ascii tr file://$PWD/f >/dev/null",
    "curl -s --stderr err -v file://$PWD/f >/dev/null",
    "curl -s --create-dirs -o d/out file://$PWD/f",
    "curl -s -D hdr file://$PWD/f >/dev/null",
    "dd if=f of=out 2>/dev/null",
    "dd if=/dev/zero of=out bs=1 count=1 2>/dev/null",
    "truncate -s 0 f",
    "truncate -s 10 out",
    "split -l 1 f part",
    "csplit -s f 1",
    "gzip f",
    "gzip -k f",
    "tar -cf a.tar f",
    "install -m 600 f out",
    "mktemp -p .",
    "mkfifo pipe",
    "date > out",
    "find . -name f -fprint out",
    "find . -fls out",
    "find . -fprintf out '%p'",
    "find . -fprint0 out",
]

REDIRECTIONS_AND_FILES = [
    "touch x",
    "'touch' x",
    '"touch" x',
    "t\\ouch x",
    '"to"uch x',
    "$'\\x74ouch' x",
    "/usr/bin/touch x",
    "echo a > out",
    "echo a>out",
    "echo a 1>out",
    "echo a >> f",
    "echo a >|out",
    "echo a &> out",
    "echo a &>> out",
    "ls 2>out",
    "ls nope 2>>out",
    ">out echo a",
    "echo >out a",
    "echo a > 'o u t'",
    'echo a > "$HOME/out"',
    "echo a > ~/out",
    "F=out; echo a > $F",
    "echo a > $(echo out)",
    "echo a >& out",
    "exec 3>out",
    "exec 3<>out",
    "cat f 1<>out",
    "{ echo a; } > out",
    "(echo a) > out",
    "f() { echo a; } > out; f",
    "cat > out <<EOF\na\nEOF",
    "cat <<EOF > out\na\nEOF",
    "cat f >/dev/null >out",
    "exec > out; echo a",
    "{fd}>out",
    "echo a | cat > out",
    "mkdir d",
    "mkdir -p d/e",
    "cp f g",
    "cp -r sub sub2",
    "mv f g",
    "ln -s f link",
    "ln f hard",
    "link f hard",
    "chmod 600 f",
    "rm f",
    "rm -rf sub",
    "unlink f",
    "rmdir empty",
    "find . -name f -delete",
    "find . -name f -exec rm {} \\;",
    "find . -name f -exec rm {} +",
    "find . -name f -execdir rm {} \\;",
    "find . -name f -exec sh -c 'touch x' \\;",
    "find . -maxdepth 1 -name f -exec cp {} {}.bak \\;",
    "find sub -type f | xargs rm",
    "find . -name 'f' -print0 | xargs -0 rm",
    "ls; touch x",
    "ls && touch x",
    "false || touch x",
    "ls | touch x",
    "ls & touch x; wait",
    "(touch x)",
    "{ touch x; }",
    "if true; then touch x; fi",
    "while false; do :; done; touch x",
    "for i in 1; do touch x$i; done",
    "case a in a) touch x;; esac",
    "! touch x",
    "until true; do :; done; touch x",
    "true\ntouch x",
    "ls \\\n; touch x",
    "cd sub && touch x",
    "pushd sub >/dev/null; touch x",
    "cat f # comment\ntouch x",
    "echo '#'; touch x",
    "yes | head -1 > out",
    "seq 3 | tee out",
]

GIT = [
    "git log --output=out",
    "git diff HEAD --output=out",
    "git -c alias.st='!touch x' st",
    "git grep -O'touch x' a",
    "git branch new",
    "git tag v1",
    "git stash list; git config user.name x",
    "git update-ref refs/heads/x HEAD",
    "git update-ref -d refs/heads/main",
    "git branch -D other",
    "git clean -fdx",
    "git reset --hard HEAD",
    "git reset --har HEAD",
]

ATTEMPTS = SUBSTITUTION + WRAPPERS + SHELLS_AND_EVAL + INTERPRETERS + OUTPUT_OPTIONS
ATTEMPTS += REDIRECTIONS_AND_FILES + GIT

CONTROLS = [
    "cat f",
    "ls -la",
    "sort f | uniq -c",
    "awk '{print $1}' f",
    "awk '$1 > 0 {print}' f",
    "sed -n '1,2p' f",
    "sed 's/a/b/' f",
    "grep a f > /dev/null",
    'echo "$(cat f)"',
    "find . -name f -print",
    "tee < f",
    "env sort f",
    "xargs echo < list",
    "curl -s file://$PWD/f",
    "bash -c 'cat f'",
    "head -1 f 2>/dev/null",
]


def _snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    found: dict[str, tuple[object, ...]] = {}
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(directory, name)
            info = path.lstat()
            digest = ""
            if path.is_file() and not path.is_symlink():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found[str(path.relative_to(root))] = (
                info.st_mode,
                info.st_size,
                info.st_mtime_ns,
                digest,
            )
    return found


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "empty").mkdir()
    (work / "home").mkdir()
    (work / "f").write_text("a 1\nb 2\n")
    (work / "sub" / "g").write_text("g\n")
    (work / "list").write_text("x\n")
    (work / "script.sh").write_text("touch fromscript\n")
    (work / "prog.awk").write_text('BEGIN { system("touch x") }\n')
    (work / "prog.sed").write_text("w out\n")
    (work / "bin").mkdir()
    (work / "bin" / "ls").write_text("#!/bin/sh\ntouch fake-ls\n")
    (work / "bin" / "ls").chmod(0o755)
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        if found:
            (tools / tool).symlink_to(found)
    (tools / "python3").symlink_to(os.path.realpath(sys.executable))
    env = {"PATH": str(tools), "HOME": str(work / "home"), "LC_ALL": "C", "TMPDIR": str(work)}
    env |= {"GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    setup = "git init -q -b main . && git add f && git commit -qm one && git branch other"
    subprocess.run(["/bin/bash", "-c", setup], cwd=work, env=env, check=True, timeout=60)
    (work / "junk").write_text("untracked\n")
    return work, env


def _run(code: str, work: Path, env: dict[str, str]) -> Callable[[], bool]:
    """Run `code` with bash in `work`; then whether the tree under `work` has changed (ask
    again: bash does not wait for a process substitution such as `<(touch x)`)."""
    before = _snapshot(work)
    subprocess.run(
        ["/bin/bash", "-c", code],
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=20,
        check=False,
    )
    return lambda: _snapshot(work) != before


def test_the_table_is_large() -> None:
    assert len(ATTEMPTS) >= 200
    assert len(set(ATTEMPTS)) == len(ATTEMPTS)


@pytest.mark.parametrize("code", ATTEMPTS, ids=[a.replace("\n", "⏎")[:50] for a in ATTEMPTS])
def test_a_command_that_changes_files_is_not_read_only(
    code: str, sandbox: tuple[Path, dict[str, str]]
) -> None:
    work, env = sandbox
    wait_until(_run(code, work, env), 10, "the attempt changes something (else fix the case)")
    assert classify(code) != "read-only"


@pytest.mark.parametrize("code", CONTROLS)
def test_a_read_only_control_changes_nothing(
    code: str, sandbox: tuple[Path, dict[str, str]]
) -> None:
    work, env = sandbox
    assert classify(code) == "read-only"
    assert not _run(code, work, env)()
