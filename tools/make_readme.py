"""Render `nbs/index.ipynb` to `README.md` without Quarto.

    python tools/make_readme.py           # write README.md
    python tools/make_readme.py --check   # exit 1 if README.md is not what the notebook renders to

Rules (the subset of nbdev/Quarto behaviour the front page uses):
- markdown cells are copied verbatim, except that relative links are re-based from `nbs/` to the repo
  root (`../images/x.png` -> `images/x.png`, `01_sm3.ipynb` -> `nbs/01_sm3.ipynb`);
- code cells become ```python fences with their leading `#|` directive lines removed;
- `#| hide` or `#| include: false` drops the whole cell, `#| echo: false` drops only the source,
  `#| output: false` drops only the outputs;
- outputs: stream text and text/plain go in plain ``` fences, text/markdown is copied verbatim, and
  images are skipped: notebooks save plots to `images/*.png` and link them from a markdown cell.
Only the standard library is used, so this runs before the package is installed.
"""
import argparse, json, posixpath, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NB_PATH, README_PATH = ROOT/'nbs'/'index.ipynb', ROOT/'README.md'
STALE_MSG = 'README.md is out of date: run python tools/make_readme.py'

_directive_re = re.compile(r'^\s*#\s*\|')  # `#| hide`, `#|hide`, `# | echo: false` (as nbdev reads them)
_ansi_re = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')  # terminal colour codes in stream/error text
# a markdown link/image target `](target` or an HTML `src="target` / `href="target`
_link_re = re.compile(r'''(\]\(|(?:src|href)=["'])([^)"'\s]+)''')


def _text(x):
    "Notebook JSON stores text either as a string or as a list of lines."
    return ''.join(x) if isinstance(x, list) else (x or '')


def split_directives(source):
    "Split a code cell's source into ({directive: [args]}, code), reading the leading `#|` lines as nbdev does."
    lines = source.splitlines(True)
    n = next((i for i, o in enumerate(lines) if o.strip() and not _directive_re.match(o)), len(lines))
    directives = {}
    for line in lines[:n]:
        if not line.strip(): continue
        # `#| echo: false` -> ('echo', ['false']); `#| hide:` -> ('hide', [])
        words = _directive_re.sub('', line).replace(':', ' ').split()
        if words: directives[words[0].lower()] = [w.lower() for w in words[1:]]
    return directives, ''.join(lines[n:]).strip('\n')


def _is_false(directives, key): return directives.get(key, [''])[:1] == ['false']


def rebase_links(md):
    "Re-base relative link targets from `nbs/` (where notebooks run) to the repo root (where README.md lives)."
    def _rebase(m):
        prefix, target = m.groups()
        if re.match(r'^([a-z][a-z0-9+.-]*:|/|#)', target, re.I): return m.group(0)  # URL, absolute or anchor
        return prefix + posixpath.normpath(posixpath.join('nbs', target))
    return _link_re.sub(_rebase, md)


def _fence(text, lang=''): return f'```{lang}\n{text.strip(chr(10))}\n```'


def render_outputs(outputs):
    "Markdown blocks for a code cell's outputs (consecutive stream outputs share one fence)."
    blocks, stream = [], ''
    def _flush():
        nonlocal stream
        if stream.strip(): blocks.append(_fence(stream))
        stream = ''
    for out in outputs:
        kind = out.get('output_type')
        if kind == 'stream':
            stream += _ansi_re.sub('', _text(out.get('text')))
            continue
        _flush()
        if kind == 'error':
            blocks.append(_fence(f"{out.get('ename')}: {out.get('evalue')}"))
            continue
        data = out.get('data', {})
        if 'text/markdown' in data: blocks.append(rebase_links(_text(data['text/markdown']).strip('\n')))
        elif any(k.startswith('image/') for k in data): pass  # plots are linked from markdown as images/*.png
        elif 'text/plain' in data: blocks.append(_fence(_text(data['text/plain'])))
    _flush()
    return blocks


def render_cell(cell):
    "Markdown blocks for one notebook cell."
    source = _text(cell.get('source'))
    if cell['cell_type'] == 'markdown': return [rebase_links(source.strip('\n'))] if source.strip() else []
    if cell['cell_type'] != 'code': return []
    directives, code = split_directives(source)
    if 'hide' in directives or _is_false(directives, 'include'): return []
    blocks = [] if _is_false(directives, 'echo') or not code.strip() else [_fence(code, 'python')]
    if not _is_false(directives, 'output'): blocks += render_outputs(cell.get('outputs', []))
    return blocks


def render_readme(nb_path) -> str:
    "The README text that notebook `nb_path` renders to."
    nb = json.loads(Path(nb_path).read_text(encoding='utf-8'))
    blocks = [b for cell in nb['cells'] for b in render_cell(cell)]
    return '\n\n'.join(blocks) + '\n'


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--check', action='store_true', help='exit 1 if README.md differs from the rendered notebook')
    p.add_argument('--nb', default=NB_PATH, type=Path, help='notebook to render (default: nbs/index.ipynb)')
    p.add_argument('--out', default=README_PATH, type=Path, help='README to write or check (default: README.md)')
    args = p.parse_args(argv)
    text = render_readme(args.nb)
    if args.check:
        current = args.out.read_text(encoding='utf-8') if args.out.exists() else None
        if current != text:
            print(STALE_MSG, file=sys.stderr)
            return 1
        print(f'{args.out.name} is up to date with {args.nb.name}')
        return 0
    args.out.write_text(text, encoding='utf-8')
    print(f'wrote {args.out} from {args.nb}')
    return 0


if __name__ == '__main__': sys.exit(main())
