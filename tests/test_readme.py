"""The README's API tour runs as written."""

import pathlib
import re


def test_readme_examples_run(capsys):
    text = (pathlib.Path(__file__).parents[1] / "README.md").read_text()
    tour, loops = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    exec(compile(tour, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "[[2. 2.]]" in out and "CategoricalCrossentropyInt" in out
    exec(compile(loops, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "()"
