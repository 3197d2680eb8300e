"""Tests for tools/make_readme.py: `python tools/test_make_readme.py` (or pytest). Standard library only."""
import contextlib, io, json, subprocess, sys, tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_readme import STALE_MSG, main, render_readme, split_directives  # noqa: E402


def md(src): return {'cell_type': 'markdown', 'metadata': {}, 'source': src}
def code(src, outputs=()): return {'cell_type': 'code', 'metadata': {}, 'execution_count': None,
                                   'source': src, 'outputs': list(outputs)}
def stream(text): return {'output_type': 'stream', 'name': 'stdout', 'text': text}
def result(**data): return {'output_type': 'execute_result', 'metadata': {}, 'execution_count': None,
                            'data': {k.replace('_', '/'): v for k, v in data.items()}}


def render(*cells):
    "Render a notebook made of `cells` through a temporary file, as the script does."
    nb = {'cells': list(cells), 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    with tempfile.TemporaryDirectory() as d:
        path = Path(d)/'index.ipynb'
        path.write_text(json.dumps(nb))
        return render_readme(path)


def test_split_directives():
    assert split_directives('#| hide\n#|echo: false\n\nx = 1\n#| not a directive') == \
        ({'hide': [], 'echo': ['false']}, 'x = 1\n#| not a directive')
    assert split_directives('x = 1') == ({}, 'x = 1')
    assert split_directives('#| default_exp core') == ({'default_exp': ['core']}, '')


def test_title_and_markdown_verbatim():
    title = '# Fusedbun\n\n> A memory-efficient optimizer'
    assert render(md(title), md(['Some *text*\n', '| a | b |\n', '|---|---|'])) == \
        title + '\n\nSome *text*\n| a | b |\n|---|---|\n'


def test_code_cells_drop_directives():
    assert render(code('#| export\nx = 1\nprint(x)', [stream('1\n')])) == '```python\nx = 1\nprint(x)\n```\n\n```\n1\n```\n'


def test_hidden_cells_are_skipped():
    assert render(md('a'), code('#| hide\nsecret()', [stream('no\n')]), code('#| include: false\ny'), md('b')) == 'a\n\nb\n'


def test_echo_false_keeps_outputs_and_output_false_keeps_source():
    assert render(code('#| echo: false\nshow()', [stream('shown\n')])) == '```\nshown\n```\n'
    assert render(code('#| output: false\nf()', [stream('gone\n')])) == '```python\nf()\n```\n'


def test_outputs():
    out = render(code('g()', [stream('a\n'), stream('b\n'), result(text_plain='42'),
                              result(text_markdown='**bold**', text_plain='<md>'),
                              result(image_png='iVBOR...', text_plain='<Figure size 640x480>')]))
    assert out == '```python\ng()\n```\n\n```\na\nb\n```\n\n```\n42\n```\n\n**bold**\n'
    assert 'iVBOR' not in out and 'Figure' not in out, 'images are linked, never embedded'


def test_links_are_rebased_to_repo_root():
    out = render(md('![bound](../images/01_sm3_bound.png) [SM3](01_sm3.ipynb) [paper](https://arxiv.org/abs/1901.11150) '
                    '[up](#quick-start) <img src="../images/x.png">'))
    assert out == ('![bound](images/01_sm3_bound.png) [SM3](nbs/01_sm3.ipynb) [paper](https://arxiv.org/abs/1901.11150) '
                   '[up](#quick-start) <img src="images/x.png">\n')


def test_check_mode():
    with tempfile.TemporaryDirectory() as d:
        nb, readme = Path(d)/'index.ipynb', Path(d)/'README.md'
        nb.write_text(json.dumps({'cells': [md('# T\n> d')], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
        args = ['--nb', str(nb), '--out', str(readme)]
        check = [sys.executable, str(Path(__file__).with_name('make_readme.py')), '--check', *args]
        missing = subprocess.run(check, capture_output=True, text=True)
        assert missing.returncode == 1 and STALE_MSG in missing.stderr
        with contextlib.redirect_stdout(io.StringIO()) as out: assert main(args) == 0
        assert readme.read_text() == '# T\n> d\n' and 'wrote' in out.getvalue()
        assert subprocess.run(check, capture_output=True, text=True).returncode == 0
        readme.write_text('# T\n> stale\n')
        stale = subprocess.run(check, capture_output=True, text=True)
        assert stale.returncode == 1 and STALE_MSG in stale.stderr


if __name__ == '__main__':
    tests = [f for name, f in sorted(globals().items()) if name.startswith('test_')]
    for t in tests: t()
    print(f'tools/test_make_readme.py: {len(tests)} tests passed')
