"""The shape rule of Sources/Execution (no function over 60 lines, no file over 300), and the
measuring script on sources whose answers are known."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tools/metrics/longest.py"


def run(path, *extra):
    return subprocess.run([sys.executable, str(SCRIPT), str(path), *extra], capture_output=True, text=True)


def test_execution_keeps_its_shape():
    r = run(ROOT / "Sources/Execution", "--limit", "60", "--top", "1000")
    assert r.returncode == 0, r.stdout
    files = r.stdout.split("longest files:")[1].split()
    sizes = [int(n) for n in files[0::2]]
    assert sizes and max(sizes) <= 300, r.stdout


def test_counts_a_function_to_its_closing_brace_past_braces_in_strings_and_comments(tmp_path):
    (tmp_path / "a.swift").write_text(
        "struct S {\n"
        "    /// doc {\n"
        "    public mutating func f(_ x: Int) -> Int {\n"
        '        let s = "}}}"  // }\n'
        "        /* { */\n"
        "        return x\n"
        "    }\n"
        "    init() {}\n"
        "}\n"
    )
    r = run(tmp_path, "--limit", "4")
    assert "     5  func f" in r.stdout
    assert "     1  init" in r.stdout
    assert r.returncode == 1
    assert run(tmp_path, "--limit", "5").returncode == 0
